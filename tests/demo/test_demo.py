"""`monitor demo` from a clean folder: the whole job, no accounts, no config, no network."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from email import policy
from email.parser import BytesParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from monitor.demo.run import TIMEZONE, run_demo
from monitor.demo.sample import ISSUES
from tests.instants import at_every_instant


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], Path]:
    folder = tmp_path_factory.mktemp("clean")
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("MONITOR_CONFIG", "SENTRY_AUTH_TOKEN", "MAILGUN_API_KEY")
    }
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "demo"],
        cwd=folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return result, folder / "reports" / "out" / "demo"


def test_the_demo_exits_0_and_leaves_the_four_files(demo_run) -> None:
    result, out = demo_run
    assert result.returncode == 0, result.stderr
    for name in ("digest.html", "digest.txt", "digest.json", "digest.eml"):
        assert (out / name).stat().st_size > 0, name
        assert (out / name).stat().st_mode & 0o077 == 0, f"{name} is readable by others"
    assert "digest.html" in result.stdout


def test_the_received_eml_parses_into_text_and_html(demo_run) -> None:
    _result, out = demo_run
    message = BytesParser(policy=policy.default).parsebytes((out / "digest.eml").read_bytes())
    assert message.get_content_type() == "multipart/alternative"
    assert "Maria Silva" in message.get_body(("plain",)).get_content()
    assert "Maria Silva" in message.get_body(("html",)).get_content()
    assert message["Message-ID"]


def test_customers_hit_by_both_sources_lead_the_digest(demo_run) -> None:
    result, out = demo_run
    digest = json.loads((out / "digest.json").read_text())
    top_three = {customer["customer_id"] for customer in digest["customers"][:3]}
    assert top_three == {"48200", "48201", "48202"}
    html = (out / "digest.html").read_text()
    for name in ("Jane Doe", "John Haddad", "Maria Silva"):
        assert name in html
        assert name in result.stdout  # the closing table


def test_errors_outside_the_purchase_flow_are_not_reported(demo_run) -> None:
    _result, out = demo_run
    outside = [issue.title for issue in ISSUES if not issue.purchase]
    for name in ("digest.html", "digest.txt", "digest.json", "digest.eml"):
        text = (out / name).read_text(errors="replace")
        for title in outside:
            assert title not in text, f"{title!r} reported in {name}"


def test_the_error_title_carrying_html_is_escaped(demo_run) -> None:
    _result, out = demo_run
    html = (out / "digest.html").read_text()
    assert "<img src=x onerror=alert(1)>" not in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_every_category_and_unlinked_signals_appear(demo_run) -> None:
    _result, out = demo_run
    digest = json.loads((out / "digest.json").read_text())
    categories = {s["category"] for c in digest["customers"] for s in c["signals"]}
    categories |= {s["category"] for s in digest["unlinked"]}
    assert {"address_or_card", "expired_subscription", "other_purchase_error", "bounce"} <= categories
    assert digest["unlinked"], "the sample has signals that match no customer"
    assert all(source["ok"] for source in digest["sources"].values())


@at_every_instant
def test_the_demo_shows_its_whole_sample_at_any_hour(instant: datetime, tmp_path: Path) -> None:
    """The sample is dated in the demo's zone, so the digest of yesterday there holds it all,
    just after local midnight, late in the UTC evening, on DST days and at the year's end."""
    with time_machine.travel(instant, tick=True):
        result = run_demo(tmp_path / "out", echo=lambda _line: None, now=instant)
    zone = ZoneInfo(TIMEZONE)
    assert result.day == instant.astimezone(zone).date() - timedelta(days=1)
    digest = json.loads((tmp_path / "out" / "digest.json").read_text())
    assert {"48200", "48201", "48202"} <= {c["customer_id"] for c in digest["customers"][:3]}
    assert len(digest["customers"]) >= 15
    categories = {s["category"] for c in digest["customers"] for s in c["signals"]}
    assert {"address_or_card", "expired_subscription", "bounce", "complaint", "unsubscribe"} <= categories

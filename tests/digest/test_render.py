"""Rendering: escaped and clipped outside text, safe headers, the eml's parts, "and N more",
the empty day, and byte-identical output for the same data."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from monitor.config.settings import Settings
from monitor.core.models import Customer
from monitor.digest.build import build_digest
from monitor.digest.render import (
    build_message,
    message_id,
    render,
    render_html,
    render_json,
    render_subject,
    render_text,
    template_dir,
)
from monitor.store.digest import digest_input
from tests.digest_helpers import (
    DAY,
    NOON,
    NOW,
    add_customers,
    mail,
    new_db,
    save,
    seed_day,
    sentry,
    write_settings,
)

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'


def body(message: EmailMessage, kind: str) -> str:
    part = message.get_body((kind,))
    assert part is not None, f"no {kind} part"
    return str(part.get_content())


def digest_of(settings: Settings, db: Any) -> dict[str, Any]:
    return build_digest(digest_input(db, settings, DAY, NOW), settings)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return write_settings(tmp_path)


def hostile_digest(settings: Settings) -> dict[str, Any]:
    db = new_db(settings)
    add_customers(
        db, Customer("666", "eve@evil.example", f"Eve {SCRIPT}", IMG, "Evil\r\nBcc: victim@example.com")
    )
    save(
        db,
        sentry("e1", NOON, customer_ref="666", title=f"{IMG} Purchase failed {SCRIPT}"),
        mail("m1", NOON, "bounce", "eve@evil.example", title=f"550 {SCRIPT}"),
        mail("m2", NOON, "complaint", "nobody@else.example", title=IMG),
    )
    with db.conn:
        db.conn.execute("UPDATE signals SET url = 'javascript:alert(1)' WHERE key = 'e1'")
    return digest_of(settings, db)


def test_html_escapes_script_and_attribute_payloads_in_titles_and_names(settings: Settings) -> None:
    html = render_html(hostile_digest(settings), 200)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower()
    assert "onerror=alert(1)>" not in html  # never as markup; only as escaped text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_a_javascript_url_never_becomes_a_link(settings: Settings) -> None:
    digest = hostile_digest(settings)
    assert digest["customers"][0]["signals"][0]["url"] == "javascript:alert(1)"  # JSON keeps what was stored
    assert "javascript:" not in render_html(digest, 200)
    assert "javascript:" not in render_text(digest, 200)


def test_html_has_no_scripts_no_external_assets_and_inlined_css(settings: Settings) -> None:
    db = new_db(settings)
    seed_day(db)
    html = render_html(digest_of(settings, db), 200)
    assert "<style" not in html and "<link" not in html and "<script" not in html
    assert not re.search(r"""src=["']?https?:""", html)
    assert 'style="' in html and "<table" in html


def test_crlf_in_a_customer_name_cannot_inject_a_header(settings: Settings) -> None:
    db = new_db(settings)
    add_customers(db, Customer("7", "mallory@x.example", "Mallory\r\nBcc: victim@example.com", "\nX-Evil: 1"))
    save(db, sentry("e1", NOON, customer_ref="7"))
    digest = digest_of(settings, db)
    raw = render(digest, settings, "eml", NOW)
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None and parsed["X-Evil"] is None
    assert set(parsed.keys()) == {
        "From", "To", "Date", "Subject", "Message-ID", "Auto-Submitted", "X-Digest-Date",
        "Content-Type", "MIME-Version",
    }  # fmt: skip
    assert isinstance(parsed, EmailMessage)
    text = body(parsed, "plain")
    assert "Mallory Bcc: victim@example.com  X-Evil: 1" in text  # one line: control characters became spaces


def test_the_subject_counts_customers_and_stays_one_line(settings: Settings) -> None:
    db = new_db(settings)
    seed_day(db)
    subject = render_subject(digest_of(settings, db))
    assert subject.startswith("CustomersDot monitor: 3 customers affected on 2026-11-23")
    assert "\n" not in subject and "\r" not in subject
    assert "(check Sentry, Mailgun)" in subject  # neither source has ever polled


def test_the_eml_parses_into_text_and_html_parts_with_the_same_customers(settings: Settings) -> None:
    db = new_db(settings)
    seed_day(db)
    digest = digest_of(settings, db)
    parsed = message_from_bytes(render(digest, settings, "eml", NOW), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    assert parsed.get_content_type() == "multipart/alternative"
    assert parsed["From"] == "CustomersDot monitor <monitor@example.com>"
    assert parsed["To"] == "support@example.com, billing@example.com"
    assert parsed["Message-ID"] == message_id(
        "2026-11-23", ["billing@example.com", "support@example.com"], settings.digest.sender
    )
    text = body(parsed, "plain")
    html = body(parsed, "html")
    for customer in digest["customers"]:
        assert customer["name"] in text and customer["name"] in html
        assert customer["admin_url"] in text and customer["admin_url"] in html


def test_the_message_id_is_stable_for_the_day_and_recipients() -> None:
    sender = "Monitor <monitor@example.com>"
    first = message_id("2026-11-23", ["a@x.example", "b@x.example"], sender)
    assert first == message_id("2026-11-23", ["B@x.example", "a@x.example"], sender)
    assert re.fullmatch(r"<digest-2026-11-23-[0-9a-f]{16}@example\.com>", first)
    assert first != message_id("2026-11-24", ["a@x.example", "b@x.example"], sender)
    assert first != message_id("2026-11-23", ["a@x.example"], sender)


def test_long_titles_and_names_are_clipped_in_html_and_text_but_kept_whole_in_json(
    settings: Settings,
) -> None:
    db = new_db(settings)
    add_customers(db, Customer("1", "a@acme.example", "N" * 500, "Doe"))
    save(db, sentry("e1", NOON, customer_ref="1", title="T" * 5000))
    digest = digest_of(settings, db)
    assert "T" * 5000 in render_json(digest)
    for output in (render_html(digest, 200), render_text(digest, 200)):
        assert "T" * 200 not in output
        assert "T" * 199 + "…" in output
        assert "N" * 201 not in output


def test_more_than_the_limit_shows_and_n_more_while_json_keeps_all(settings: Settings) -> None:
    db = new_db(settings)
    add_customers(
        db, *[Customer(str(1000 + n), f"c{n}@acme.example", f"First{n}", "Last") for n in range(230)]
    )
    save(db, *[sentry(f"e{n}", NOON + timedelta(seconds=n), customer_ref=str(1000 + n)) for n in range(230)])
    digest = digest_of(settings, db)
    assert len(json.loads(render_json(digest))["customers"]) == 230
    html = render_html(digest, 200)
    assert "and 30 more customers" in html
    assert "and 30 more customers" in render_text(digest, 200)
    shown = {c["customer_id"] for c in digest["customers"][:200]}
    hidden = {c["customer_id"] for c in digest["customers"][200:]}
    assert all(f"customer {cid}" in html for cid in shown)
    assert not any(f"customer {cid}<" in html or f"customer {cid} " in html for cid in hidden)


def test_an_empty_day_says_so_and_still_shows_source_health(settings: Settings) -> None:
    digest = digest_of(settings, new_db(settings))
    html, text = render_html(digest, 200), render_text(digest, 200)
    assert "No customers affected" in html and "Quiet day" in html
    assert "No customers affected on this day." in text
    for output in (html, text):
        assert "Sentry" in output and "Mailgun" in output and "never polled successfully" in output
    assert render_subject(digest).startswith("CustomersDot monitor: no customers affected on 2026-11-23")


def test_the_same_data_renders_to_the_same_bytes(settings: Settings) -> None:
    db = new_db(settings)
    seed_day(db)
    first = {fmt: render(digest_of(settings, db), settings, fmt, NOW) for fmt in ("json", "html", "text")}
    second = {
        fmt: render(digest_of(settings, db), settings, fmt, NOW + timedelta(hours=1))
        for fmt in ("json", "html", "text")
    }
    assert first == second


def test_times_are_shown_in_the_configured_zone(settings: Settings) -> None:
    db = new_db(settings)
    seed_day(db)
    text = render_text(digest_of(settings, db), 200)
    assert "12:00–12:20" in text  # 11:00 and 11:20 UTC in Amsterdam


def test_the_templates_are_found_in_a_checkout() -> None:
    assert (template_dir() / "digest.html").is_file()
    assert {"subject.txt", "digest.txt", "digest.html", "digest.css"} <= {
        p.name for p in template_dir().iterdir()
    }


def test_build_message_uses_only_the_given_recipients(settings: Settings) -> None:
    digest = digest_of(settings, new_db(settings))
    message = build_message(
        digest,
        sender=settings.digest.sender,
        recipients=["one@example.com"],
        now=NOW,
        msgid="<x@y>",
        max_customers=5,
    )
    assert message["To"] == "one@example.com"
    assert message["Date"] == "Tue, 24 Nov 2026 08:00:00 +0000"

"""Follow-up state: a customer is new, then ongoing over the days; `monitor ack` moves them to
the digest's collapsed last section until a new kind of problem reopens them; what was
acknowledged later never changes a past day."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.signals import save_signals
from tests.store_helpers import save_customers_at

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DAY1, DAY2, DAY3 = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def at(day: date, hour: int) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM).astimezone(UTC)


@pytest.fixture(name="config")
def config_fixture(write_config: Callable[..., Path]) -> Path:
    config = write_config()
    save_customers_at(
        config.parent / "monitor.db",
        [Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme"),
         Customer("48214", "bob@globex.example", "Bob", "Smith", "Globex"),
         Customer("48215", "bob@globex.example", "Robert", "Smith", "Globex")],
        at(DAY1, 1),
    )  # fmt: skip
    return config


def signal(config: Path, key: str, when: datetime, category: str = "address_or_card") -> None:
    db = open_db(config.parent / "monitor.db")
    source = "mailgun" if category == "bounce" else "sentry"
    save_signals(
        db,
        [Signal(source=source, key=key, category=category, occurred_at=when, title=f"{category} {key}",
                group=f"g-{category}", customer_ref="48213" if source == "sentry" else None,
                email="jane@acme.example")],
        now=when + timedelta(minutes=5),
    )  # fmt: skip
    db.close()


def run(config: Path, now: datetime, *args: str) -> tuple[int, str]:
    with time_machine.travel(now, tick=False):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def digest(config: Path, day: date, now: datetime, fmt: str = "json") -> str:
    code, output = run(config, now, "digest", "--date", day.isoformat(), "--format", fmt)
    assert code == 0, output
    return output


def jane(config: Path, day: date, now: datetime) -> dict:  # type: ignore[type-arg]
    (customer,) = [
        c for c in json.loads(digest(config, day, now))["customers"] if c["customer_id"] == "48213"
    ]
    return customer


def test_a_customer_is_new_on_the_first_day_and_ongoing_since_it_after(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))

    first, second = jane(config, DAY1, at(DAY3, 9)), jane(config, DAY2, at(DAY3, 9))

    assert (first["status"], first["since"], first["ack"]) == ("new", "2026-11-30", None)
    assert (second["status"], second["since"]) == ("ongoing", "2026-11-30")
    text = digest(config, DAY2, at(DAY3, 9), "text")
    assert "ongoing since Mon 30 Nov" in text


def test_an_acknowledged_customer_moves_to_the_collapsed_last_section(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))
    code, output = run(config, at(DAY2, 8), "ack", "48213", "--note", "<b>called</b> her", "--by", "alice")
    assert code == 0, output

    customer = jane(config, DAY2, at(DAY3, 9))
    assert customer["status"] == "acknowledged"
    assert customer["ack"]["by"] == "alice" and customer["ack"]["reopened"] is False
    html = digest(config, DAY2, at(DAY3, 9), "html")
    assert "<details" in html and "acknowledged by alice" in html
    assert "&lt;b&gt;called&lt;/b&gt;" in html and "<b>called</b>" not in html
    eml = digest(config, DAY2, at(DAY3, 9), "eml")
    assert "Subject: CustomersDot monitor: no customers needing action on 2026-12-01" in eml


def test_a_new_kind_of_problem_reopens_an_acknowledged_customer(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    assert run(config, at(DAY1, 12), "ack", "48213", "--days", "5")[0] == 0
    signal(config, "b3", at(DAY3, 10), "bounce")

    customer = jane(config, DAY3, at(DAY3 + timedelta(days=1), 9))

    assert customer["status"] == "ongoing" and customer["ack"]["reopened"] is True
    _code, output = run(config, at(DAY3, 12), "ack", "--list", "--json")
    assert [a["state"] for a in json.loads(output)["acknowledgements"]] == ["reopened"]


def test_a_past_day_regenerates_byte_identical_after_a_later_acknowledgement(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))
    before = digest(config, DAY1, at(DAY3, 9))

    assert run(config, at(DAY3, 9), "ack", "jane@acme.example")[0] == 0
    assert run(config, at(DAY3, 10), "unack", "48213")[0] == 0

    assert digest(config, DAY1, at(DAY3, 11)) == before
    assert jane(config, DAY2, at(DAY3, 11))["status"] == "ongoing"


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ack", "99999"], "No customer"),
        (["ack", "bob@globex.example"], "matches 2 customers"),
        (["ack", "48213", "--days", "0"], "from 1 to 90"),
        (["ack", "48213", "--days", "91"], "from 1 to 90"),
        (["ack", "48213", "--by", "eve\r\nBcc: x@y.example"], "one line"),
        (["unack", "48213"], "no acknowledgement in force"),
    ],
)
def test_bad_input_is_one_sentence_exit_2_and_writes_nothing(
    config: Path, args: list[str], says: str
) -> None:
    code, output = run(config, at(DAY2, 9), *args)

    assert code == 2 and says in output
    rows = (
        open_db(config.parent / "monitor.db").execute("SELECT COUNT(*) FROM acknowledgements").fetchone()[0]
    )
    assert rows == 0

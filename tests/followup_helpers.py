"""A customer directory, signals and the CLI under a controlled clock, for the follow-up tests
(`monitor ack`, `unack`, and the digest's new / ongoing / acknowledged)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.models import Customer, Signal
from monitor.core.timeutil import day_window
from monitor.store import open_db
from monitor.store.signals import save_signals
from tests.store_helpers import save_customers_at

AMSTERDAM = ZoneInfo("Europe/Amsterdam")  # the test config's zone
DAY1, DAY2, DAY3 = date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=AMSTERDAM).astimezone(UTC)


def midnight_after(day: date) -> datetime:
    """The day's end: the next local midnight, in UTC."""
    return day_window(day, AMSTERDAM)[1]


@pytest.fixture(name="config")
def config_fixture(write_config: Callable[..., Path]) -> Path:
    """Jane (48213) and two Smiths sharing one address (48214, 48215)."""
    config = write_config()
    save_customers_at(
        config.parent / "monitor.db",
        [Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme"),
         Customer("48214", "bob@globex.example", "Bob", "Smith", "Globex"),
         Customer("48215", "bob@globex.example", "Robert", "Smith", "Globex")],
        datetime(2026, 9, 1, tzinfo=UTC),
    )  # fmt: skip
    return config


def signal(config: Path, key: str, when: datetime, category: str = "address_or_card") -> None:
    """One signal of Jane's: a bounce from Mailgun (linked by email), else a Sentry error."""
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


def run(config: Path, now: datetime, *args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    with time_machine.travel(now, tick=False):
        result = CliRunner().invoke(main, ["--config", str(config), *args], env=env)
    return result.exit_code, result.output


def digest(config: Path, day: date, now: datetime, fmt: str = "json") -> str:
    code, output = run(config, now, "digest", "--date", day.isoformat(), "--format", fmt)
    assert code == 0, output
    return output


def jane(config: Path, day: date, now: datetime) -> dict[str, Any]:
    (customer,) = [
        c for c in json.loads(digest(config, day, now))["customers"] if c["customer_id"] == "48213"
    ]
    return customer


def ack_rows(config: Path) -> int:
    db = open_db(config.parent / "monitor.db")
    count = int(db.execute("SELECT COUNT(*) FROM acknowledgements").fetchone()[0])
    db.close()
    return count

"""Retention: personal data goes after `retention_days`; the imported directory stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.config.load import load_settings
from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.acks import acknowledge, withdraw
from monitor.store.retention import purge
from monitor.store.signals import count_signals, save_signals
from tests.conftest import BASE_CONFIG
from tests.store_helpers import save_customers

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
THIRTY_DAYS = BASE_CONFIG.replace("[monitor]", "[monitor]\nretention_days = 30")


def _signal(key: str, days_ago: int, customer_ref: str | None = None, email: str | None = None) -> Signal:
    return Signal(
        source="sentry",
        key=key,
        category="address_or_card",
        occurred_at=NOW - timedelta(days=days_ago),
        title="Zuora::Error: Postal code is invalid",
        group="issue-1",
        customer_ref=customer_ref,
        email=email,
        name="Seen Person",
    )


def test_purge_deletes_old_signals_and_seen_customers_but_keeps_the_imported_directory(
    tmp_path: Path, write_config
) -> None:
    settings = load_settings(
        write_config(base=BASE_CONFIG.replace("[monitor]", "[monitor]\nretention_days = 30"))
    )
    db = open_db(settings.monitor.database)
    save_customers(db, [Customer("1", "jane@acme.example", "Jane", "Doe")], NOW)
    save_signals(db, [_signal("old-imported", 45, customer_ref="1")], now=NOW - timedelta(days=45))
    save_signals(
        db, [_signal("old-seen", 40, customer_ref="77", email="x@y.example")], now=NOW - timedelta(days=40)
    )
    save_signals(db, [_signal("recent", 2, customer_ref="1")], now=NOW)

    result = purge(db, settings, NOW)

    assert result.deleted["signals"] == 2
    assert count_signals(db) == 1
    assert db.execute("SELECT COUNT(*) FROM links").fetchone()[0] == 1  # the purged signals' links went too
    remaining = {row[0]: row[1] for row in db.execute("SELECT id, origin FROM customers")}
    assert remaining == {"1": "import"}  # the customer known only from an old event is gone


def test_a_dry_run_counts_without_deleting(tmp_path: Path, write_config, runner: CliRunner) -> None:
    config = write_config(base=THIRTY_DAYS)
    settings = load_settings(config)
    db = open_db(settings.monitor.database)
    save_signals(db, [_signal("old", 45)], now=NOW - timedelta(days=45))

    result = runner.invoke(main, ["purge", "--dry-run", "--config", str(config)])

    assert result.exit_code == 0, result.output
    assert "Would delete 1 rows" in result.output
    assert count_signals(db) == 1


def test_purge_deletes_acknowledgements_that_ended_before_the_retention_period(
    tmp_path: Path, write_config
) -> None:
    settings = load_settings(write_config(base=THIRTY_DAYS))
    db = open_db(settings.monitor.database)
    expired = acknowledge(
        db, "1", NOW - timedelta(days=40), 7, "called Jane Doe", "alice"
    )  # ended 33 days ago
    taken_back = acknowledge(db, "2", NOW - timedelta(days=80), 90, "wrote bob@globex.example", "alice")
    withdraw(db, "2", NOW - timedelta(days=79))  # until is 10 days ahead, but it ended 79 days ago
    recent = acknowledge(db, "3", NOW - timedelta(days=35), 7, "ended 28 days ago", "alice")

    result = purge(db, settings, NOW)

    assert result.deleted["acknowledgements"] == 2
    kept = [row[0] for row in db.execute("SELECT note FROM acknowledgements")]
    assert kept == [recent.note] and expired.note not in kept and taken_back.note not in kept

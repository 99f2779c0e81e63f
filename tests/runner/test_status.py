"""`monitor status`: what an operator (or a health check) reads, and its exit status."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from click.testing import CliRunner

from monitor.cli import main
from monitor.config.load import load_settings
from monitor.core.models import Signal
from monitor.runner.status import collect_status
from monitor.store import open_db
from monitor.store.runs import record_finish, record_start
from monitor.store.sends import claim, mark_sent
from monitor.store.signals import save_signals
from tests.instants import at_every_instant

SOURCES = """
[sentry]
organization = "o"
project = "p"
[jobs.poll-sentry]
schedule = "*/10 * * * *"
[jobs.digest]
schedule = "0 8 * * *"
"""


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Path:
    return write_config(SOURCES)


def _run(config: Path, job: str, at: datetime, *, ok: bool = True, error: str | None = None) -> None:
    db = open_db(config.parent / "monitor.db")
    run_id = record_start(db, job, at)
    record_finish(db, run_id, at + timedelta(seconds=3), ok=ok, error=error)


def _healthy_history(config: Path, now: datetime) -> None:
    _run(config, "poll-sentry", now - timedelta(minutes=3))
    _run(config, "digest", now - timedelta(hours=1))
    _run(config, "digest", now - timedelta(hours=23))  # a day ago: the database is in use


def _status(runner: CliRunner, config: Path, *args: str, at: datetime | None = None) -> tuple[int, str]:
    """`monitor status` with the clock at `at` (default: the real clock)."""
    with time_machine.travel(at, tick=False) if at else contextlib.nullcontext():
        result = runner.invoke(main, ["status", "--config", str(config), *args])
    return result.exit_code, result.output


def test_a_fresh_database_is_healthy_and_says_never_run(runner: CliRunner, config: Path) -> None:
    code, output = _status(runner, config)

    assert code == 0, output
    assert "never run" in output
    assert "Healthy." in output


@at_every_instant
def test_jobs_that_ran_on_time_are_healthy(instant: datetime, runner: CliRunner, config: Path) -> None:
    now = instant
    _healthy_history(config, now)

    code, output = _status(runner, config, at=now)

    assert code == 0, output
    assert "OVERDUE" not in output and "FAILING" not in output


@at_every_instant
def test_a_failing_job_exits_1_and_shows_the_error(
    instant: datetime, runner: CliRunner, config: Path
) -> None:
    now = instant
    _healthy_history(config, now)
    _run(config, "poll-sentry", now - timedelta(minutes=1), ok=False, error="Sentry answered 401.")

    code, output = _status(runner, config, at=now)

    assert code == 1
    assert "FAILING since" in output and "Sentry answered 401." in output
    assert "Needs attention: poll-sentry is failing." in output


@at_every_instant
def test_a_job_that_missed_its_runs_beyond_the_grace_is_overdue(
    instant: datetime, runner: CliRunner, config: Path
) -> None:
    now = instant
    _run(config, "digest", now - timedelta(hours=1))
    _run(config, "poll-sentry", now - timedelta(hours=2))  # every 10 minutes, misfire grace 1 hour

    code, output = _status(runner, config, "--json", at=now)

    report = json.loads(output)
    assert code == 1
    assert report["jobs"]["poll-sentry"]["overdue"] is True
    assert report["problems"] == ["poll-sentry is overdue"]


def test_a_job_never_run_in_a_database_in_use_for_days_is_overdue(config: Path) -> None:
    now = datetime(2026, 11, 18, 12, 0, tzinfo=UTC)
    _run(config, "poll-sentry", now - timedelta(minutes=4))
    _run(config, "poll-sentry", now - timedelta(days=3))  # in use for three days, no digest yet

    status = collect_status(load_settings(config), open_db(config.parent / "monitor.db"), now)

    digest = next(job for job in status.jobs if job.name == "digest")
    assert digest.overdue and digest.last_run is None
    assert status.problems == ["digest is overdue"]


def test_the_json_form_has_sources_the_last_digest_and_jobs(runner: CliRunner, config: Path) -> None:
    now = datetime.now(UTC)
    _healthy_history(config, now)
    db = open_db(config.parent / "monitor.db")
    signal = Signal(
        source="sentry",
        key="e1",
        category="address_or_card",
        occurred_at=now,
        title="Card declined",
        group="1",
    )
    save_signals(db, [signal], now=now)
    claimed = claim(
        db, "2026-11-17", ["support@example.com"], now=now, transport="file", message_id=lambda r: "<m@x>"
    )
    mark_sent(db, "2026-11-17", claimed.claims[0], now)

    code, output = _status(runner, config, "--json")

    report = json.loads(output)
    assert code == 0
    assert set(report) >= {"now", "healthy", "problems", "sources", "last_digest", "jobs"}
    assert report["sources"]["sentry"]["signals"] == 1
    assert report["sources"]["sentry"]["last_success"] is not None
    assert report["sources"]["mailgun"]["configured"] is False
    assert report["last_digest"]["day"] == "2026-11-17"
    assert report["last_digest"]["recipients"] == ["support@example.com"]
    assert set(report["jobs"]) == {"poll-sentry", "digest"}
    assert set(report["jobs"]["digest"]) == {
        "schedule",
        "last_run",
        "last_outcome",
        "last_error",
        "last_success",
        "next_due",
        "overdue",
        "missed",
        "failing",
        "failing_since",
    }

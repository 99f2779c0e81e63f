"""Catch-up of missed digests, at any hour: the days after the last done day (sent, or covered
by a digest run that ended well) go out, oldest first, each once, at most a week back."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner

from monitor.cli import main
from monitor.config.context import AppContext
from monitor.runner.schedule import job_trigger
from monitor.runner.scheduler import MonitorScheduler, plan_catch_up
from monitor.store.runs import record_finish, record_start
from tests.instants import at_every_instant

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
DIGEST_AT = time(8, 0)
CONFIG = """
[jobs.digest]
schedule = "0 8 * * *"
"""


# The digest's zone: Amsterdam and New York change the clock on different days, at different
# UTC hours; each instant meets both.
in_each_zone = pytest.mark.parametrize(
    "zone", [AMSTERDAM, ZoneInfo("America/New_York")], ids=["Amsterdam", "New York"]
)


def latest_due_day(instant: datetime, zone: ZoneInfo = AMSTERDAM) -> date:
    """The newest day whose 08:00 digest time has passed: yesterday after 08:00 local, the day
    before yesterday until then. Worked out by hand, not with the product's schedule code."""
    local = instant.astimezone(zone)
    return local.date() - timedelta(days=1 if local.time() >= DIGEST_AT else 2)


def days_between(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=n) for n in range((last - first).days + 1))


@at_every_instant
@in_each_zone
def test_after_a_two_day_outage_the_days_after_the_last_sent_one_are_planned(
    instant: datetime, zone: ZoneInfo
) -> None:
    last_sent = latest_due_day(instant, zone) - timedelta(days=2)
    triggers = {"digest": job_trigger("0 8 * * *", zone)}

    plan = plan_catch_up(triggers, {}, instant - timedelta(days=30), instant, frozenset({last_sent}))

    assert plan.digest_days == days_between(last_sent + timedelta(days=1), latest_due_day(instant, zone))


@at_every_instant
@in_each_zone
def test_a_day_sent_by_hand_today_does_not_hide_the_days_after_it(instant: datetime, zone: ZoneInfo) -> None:
    """`monitor digest --send --date D-2` records a digest run that started now; the days after
    D-2 are still missed."""
    sent_by_hand = latest_due_day(instant, zone) - timedelta(days=1)
    triggers = {"digest": job_trigger("0 8 * * *", zone)}
    last_success = {"digest": instant - timedelta(minutes=1)}

    plan = plan_catch_up(
        triggers, last_success, instant - timedelta(days=30), instant, frozenset({sent_by_hand})
    )

    assert plan.digest_days == (latest_due_day(instant, zone),)


@at_every_instant
@in_each_zone
def test_nothing_is_planned_when_the_latest_due_day_was_sent(instant: datetime, zone: ZoneInfo) -> None:
    triggers = {"digest": job_trigger("0 8 * * *", zone)}
    done = frozenset({latest_due_day(instant, zone)})

    plan = plan_catch_up(triggers, {}, instant - timedelta(days=30), instant, done)

    assert plan.digest_days == ()


@at_every_instant
@in_each_zone
def test_catch_up_never_reaches_back_more_than_a_week(instant: datetime, zone: ZoneInfo) -> None:
    triggers = {"digest": job_trigger("0 8 * * *", zone)}
    done = frozenset({latest_due_day(instant, zone) - timedelta(days=30)})

    plan = plan_catch_up(triggers, {}, instant - timedelta(days=60), instant, done)

    oldest = instant.astimezone(zone).date() - timedelta(days=7)
    assert plan.digest_days == days_between(max(oldest, plan.digest_days[0]), latest_due_day(instant, zone))
    assert plan.digest_days[0] >= oldest and len(plan.digest_days) <= 7


@at_every_instant
def test_after_a_send_by_hand_the_scheduler_sends_the_missed_day_from_the_sent_log(
    instant: datetime, write_config: Callable[[str], Path]
) -> None:
    """The reported case: the digest of D-2 is sent by hand, then `monitor run` starts. It
    used to send nothing for D-1, because catch-up counted only from the last digest run."""
    config = write_config(CONFIG)
    app = AppContext(config_path=config)
    for job in ("poll-sentry", "digest"):  # the database has been in use for days
        run_id = record_start(app.db(), job, instant - timedelta(days=5))
        record_finish(app.db(), run_id, instant - timedelta(days=5), ok=True)
    two_days_ago = latest_due_day(instant) - timedelta(days=1)

    with time_machine.travel(instant, tick=False):
        sent = CliRunner().invoke(
            main, ["--config", str(config), "digest", "--send", "--date", str(two_days_ago)]
        )
    assert sent.exit_code == 0, sent.output

    scheduler = MonitorScheduler(app, scheduler=BackgroundScheduler(timezone=AMSTERDAM))
    assert scheduler.plan(instant + timedelta(minutes=1)).digest_days == (latest_due_day(instant),)


@at_every_instant
def test_a_digest_date_in_the_future_is_refused_with_exit_2(
    instant: datetime, write_config: Callable[[str], Path]
) -> None:
    config = write_config(CONFIG)
    tomorrow = instant.astimezone(AMSTERDAM).date() + timedelta(days=1)

    with time_machine.travel(instant, tick=False):
        result = CliRunner().invoke(main, ["--config", str(config), "digest", "--date", str(tomorrow)])
        today = CliRunner().invoke(main, ["--config", str(config), "digest", "--format", "json"])

    assert result.exit_code == 2
    assert "in the future" in result.output and str(tomorrow) in result.output
    assert today.exit_code == 0, today.output


def test_a_digest_date_before_the_retention_window_is_refused_with_exit_2(
    write_config: Callable[[str], Path],
) -> None:
    config = write_config(CONFIG)  # the base config keeps the default 90 days
    instant = datetime(2026, 12, 4, 12, 0, tzinfo=AMSTERDAM)

    with time_machine.travel(instant, tick=False):
        old = CliRunner().invoke(main, ["--config", str(config), "digest", "--date", "2026-08-01"])
        kept = CliRunner().invoke(main, ["--config", str(config), "digest", "--date", "2026-09-10"])

    assert old.exit_code == 2
    assert "retention_days" in old.output
    assert kept.exit_code == 0, kept.output

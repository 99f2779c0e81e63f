"""Rendered timers fire when crontab would, for schedules beyond the shipped example: other
weekdays, Sundays as 7, month ranges, day-of-month-or-weekday; and a time no timer can keep
is refused with the fix."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.config.load import load_settings
from monitor.deploy.calendar import on_calendar
from monitor.deploy.units import render_units
from monitor.runner.schedule import job_trigger
from tests.paths import ROOT
from tests.systemd_helpers import BASES, analyze, elapses, needs_systemd, our_fires

EXAMPLE = (ROOT / "systemd" / "schedules.toml").read_text()
VARIANTS = {
    "hours and every 20 minutes from :05": """
        [jobs.poll-sentry]
        schedule = "5/20 6-22 * * *"
        [jobs.poll-mailgun]
        schedule = "0,30 * * jan-mar,oct-dec 1-5"
        [jobs.digest]
        schedule = "45 7 * * 0,6"
    """,
    "Sundays as 7, a day of the month": """
        [jobs.poll-sentry]
        schedule = "*/5 * * * 5-7"
        [jobs.digest]
        schedule = "15 9 1,15 * *"
    """,
}


def _config(tmp_path: Path, jobs: str) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(EXAMPLE.split("[jobs.poll-sentry]")[0] + textwrap.dedent(jobs))
    return path


@needs_systemd
@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("job", ["poll-sentry", "poll-mailgun", "digest"])
@pytest.mark.parametrize("base", BASES)
def test_each_rendered_timer_fires_when_its_schedule_fires(
    tmp_path: Path, variant: str, job: str, base: str
) -> None:
    settings = load_settings(_config(tmp_path, VARIANTS[variant]))
    timer = render_units(settings, ("timers",))[f"monitor-{job}.timer"]
    calendars = [
        line.removeprefix("OnCalendar=") for line in timer.splitlines() if line.startswith("OnCalendar=")
    ]
    trigger = job_trigger(settings.schedule_of(job), settings.zone)

    systemd = elapses(
        analyze("calendar", "--iterations=6", f"--base-time={base} UTC", *calendars, check=True).stdout
    )
    ours = our_fires(trigger, base)

    assert sorted(set(systemd))[:6] == ours


def _crontab_fires(
    minute: int, hour: int, days: set[int], weekdays: set[int], start: datetime
) -> Iterator[datetime]:
    """crontab(5) by brute force, in UTC: both day fields restricted means either one matches."""
    moment = start.replace(second=0) + timedelta(minutes=1)
    while True:
        if (moment.minute, moment.hour) == (minute, hour) and (
            moment.day in days or moment.isoweekday() % 7 in weekdays
        ):
            yield moment
        moment += timedelta(minutes=1)


@needs_systemd
def test_a_day_of_month_and_a_weekday_fire_on_either_like_crontab() -> None:
    base = datetime(2026, 1, 28, 12, 0, 30, tzinfo=UTC)
    calendars = on_calendar("30 6 1,15 * 0", "UTC")
    out = analyze(
        "calendar", "--iterations=8", f"--base-time={base:%Y-%m-%d %H:%M:%S} UTC", *calendars, check=True
    )
    systemd = sorted(set(elapses(out.stdout)))
    cron = _crontab_fires(30, 6, {1, 15}, {0}, base)

    assert len(calendars) == 2
    assert systemd[:8] == [next(cron) for _ in range(8)]


@pytest.mark.parametrize("mode", ["timers", None])
def test_a_time_the_spring_change_skips_is_refused_for_timers_with_the_fix(
    runner: CliRunner, tmp_path: Path, mode: str | None
) -> None:
    config = tmp_path / "schedules.toml"
    config.write_text(EXAMPLE.replace('schedule = "0 8 * * mon-fri"', 'schedule = "30 2 * * *"'))
    render = ["systemd", "render", "--config", str(config)]

    result = runner.invoke(main, [*render, *(["--mode", mode] if mode else [])])

    assert result.exit_code == 2
    assert result.stderr.startswith(
        "Error: jobs.digest.schedule: 02:30 does not exist on the day the clocks go forward in "
        "Europe/Amsterdam"
    )
    assert "--mode daemon" in result.stderr
    assert runner.invoke(main, [*render, "--mode", "daemon"]).exit_code == 0


def test_a_weekday_range_through_sunday_renders_as_the_scheduler_reads_it() -> None:
    """`fri-sun` passes check-config and `monitor run`; the timers take it the same way."""
    assert on_calendar("0 8 * * fri-sun", "UTC") == ["Fri,Sat,Sun *-*-* 08:00:00 UTC"]

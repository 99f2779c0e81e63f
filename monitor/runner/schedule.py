"""Schedule arithmetic shared by the scheduler, catch-up and `monitor status`: pure, with
`now` always a parameter. Triggers come from `monitor.core.cron.parse_crontab` (crontab weekday
semantics; a fixed-time job runs once on the days the clocks change)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from monitor.core.cron import parse_crontab

_TICK = timedelta(microseconds=1)
MAX_FIRE_TIMES = 10_000  # a bound on any walk over fire times (a minutely job over a week)


def job_trigger(expression: str, zone: ZoneInfo) -> CronTrigger:
    """The trigger of one job (crontab semantics, once a day on DST days); ValueError with a
    reason for a bad expression."""
    return parse_crontab(expression, zone)


def first_fire_after(trigger: CronTrigger, moment: datetime) -> datetime | None:
    """The first fire time strictly after `moment`."""
    fire: datetime | None = trigger.get_next_fire_time(None, moment.astimezone(UTC) + _TICK)
    return fire


def fire_times(trigger: CronTrigger, after: datetime, until: datetime) -> Iterator[datetime]:
    """Fire times T with `after` < T <= `until`, oldest first (at most MAX_FIRE_TIMES)."""
    fire = first_fire_after(trigger, after)
    for _ in range(MAX_FIRE_TIMES):
        if fire is None or fire > until:
            return
        yield fire
        fire = first_fire_after(trigger, fire)


def missed_since(trigger: CronTrigger, last_success: datetime | None, now: datetime) -> datetime | None:
    """The first fire time after `last_success` that has passed by `now`: the run that was
    missed (None when nothing is due). A job that never succeeded is due at once."""
    if last_success is None:
        return now
    fire = first_fire_after(trigger, last_success)
    return fire if fire is not None and fire <= now else None


def next_fire(trigger: CronTrigger, now: datetime) -> datetime | None:
    """The next fire time at or after `now`."""
    fire: datetime | None = trigger.get_next_fire_time(None, now)
    return fire

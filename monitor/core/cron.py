"""Crontab expressions with crontab(5) semantics, turned into APScheduler 3 triggers.

APScheduler 3's own `CronTrigger.from_crontab` counts weekdays from Monday = 0, so
`0 8 * * 1` would fire on Tuesdays. Here the weekday field is read as crontab reads it
(0 and 7 are Sunday, names allowed) and handed to APScheduler as explicit names.

Daylight saving time, as cron does it: a fixed-time job whose time is skipped in spring runs
once, just after the jump; a fixed-time job whose time repeats in autumn runs once, at the
first occurrence. Jobs with `*` in the minute or hour field keep running through either."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo
from typing import Any

from apscheduler.triggers.cron import CronTrigger

WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TOKEN = re.compile(r"^(\*|[0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?(?:/(\d+))?$")


def _weekday_bound(token: str) -> int:
    """A range bound: 0-7 as written (7 stays 7 so `5-7` is not empty), names as 0-6."""
    if token.isdigit():
        return int(token)
    if token in WEEKDAY_NAMES:
        return WEEKDAY_NAMES.index(token)
    raise ValueError(f"unknown weekday {token!r} (use sun..sat or 0-7)")


def weekdays(field: str) -> list[int] | None:
    """Crontab weekday numbers (0 = Sunday) a weekday field selects; None for every day."""
    if field == "*":
        return None
    days: set[int] = set()
    for part in field.lower().split(","):
        match = _TOKEN.match(part)
        if not match:
            raise ValueError(f"weekday field {field!r} does not parse")
        start, end, step = match.groups()
        if start == "*":
            first, last = 0, 6
        else:
            first = _weekday_bound(start)
            last = _weekday_bound(end) if end else (6 if step else first)
            if end and last == 0 < first:
                last = 7  # "fri-sun" runs through Sunday, like "5-7"
        if last < first:
            raise ValueError(f"weekday range {part!r} runs backwards")
        if step is not None and int(step) == 0:
            raise ValueError(f"weekday step in {part!r} must be at least 1")
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return sorted(days)


def _repeated_wall_time(local: datetime) -> bool:
    """True for the second occurrence of a wall-clock time (the hour repeated in autumn)."""
    return local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()


class CrontabTrigger(CronTrigger):  # type: ignore[misc]  # apscheduler 3 ships no types
    """A CronTrigger that, like cron, fires a fixed-time job once on the autumn DST day."""

    def __init__(self, *, fixed_time: bool, **fields: Any) -> None:
        super().__init__(**fields)
        self.fixed_time = fixed_time

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None:
            # Through UTC, because astimezone() to the same zone changes nothing: a spring time
            # that does not exist (02:30+01:00) becomes the real wall time of that instant.
            local = fire.astimezone(UTC).astimezone(self.timezone)
            if not (self.fixed_time and _repeated_wall_time(local)):
                return local
            fire = super().get_next_fire_time(local, local)  # skip the repeat: once a day, as cron
        return None

    def __getstate__(self) -> dict[str, Any]:
        return {**super().__getstate__(), "fixed_time": self.fixed_time}

    def __setstate__(self, state: dict[str, Any]) -> None:
        super().__setstate__(state)
        self.fixed_time = state.get("fixed_time", False)


def parse_crontab(expression: str, timezone: tzinfo) -> CronTrigger:
    """A trigger for a 5-field crontab expression; ValueError with a reason otherwise."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        # crontab ORs these two fields while APScheduler ANDs them: refuse rather than surprise.
        raise ValueError("restrict the day of month or the weekday, not both")
    days = weekdays(weekday)
    day_of_week = "*" if days is None else ",".join(WEEKDAY_NAMES[d] for d in days)
    return CrontabTrigger(
        fixed_time=not (minute.startswith("*") or hour.startswith("*")),
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=day_of_week,
        timezone=timezone,
    )

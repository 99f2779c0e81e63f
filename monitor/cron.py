"""Crontab expressions with crontab(5) semantics, turned into APScheduler 3 triggers.

APScheduler 3's own `CronTrigger.from_crontab` counts weekdays from Monday = 0, so
`0 8 * * 1` would fire on Tuesdays. Here the weekday field is read as crontab reads it
(0 and 7 are Sunday, names allowed) and handed to APScheduler as explicit names."""

from __future__ import annotations

import re
from datetime import tzinfo

from apscheduler.triggers.cron import CronTrigger

WEEKDAY_NAMES = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_TOKEN = re.compile(r"^(\*|[0-7]|[a-z]{3})(?:-([0-7]|[a-z]{3}))?(?:/(\d+))?$")


def _weekday_number(token: str) -> int:
    if token.isdigit():
        return int(token) % 7
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
            first = _weekday_number(start)
            # "5-7" and "fri-sun" run through Sunday; 7 stays 7 so the range is not empty.
            last = (7 if end == "7" else _weekday_number(end)) if end else first
            if end is None and step:
                last = 6
        if last < first:
            raise ValueError(f"weekday range {part!r} runs backwards")
        days.update(day % 7 for day in range(first, last + 1, int(step or 1)))
    return sorted(days)


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
    return CronTrigger(
        minute=minute, hour=hour, day=day, month=month, day_of_week=day_of_week, timezone=timezone
    )

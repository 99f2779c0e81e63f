"""A crontab schedule as systemd `OnCalendar=` lines, with crontab's semantics. Pure.

Each field becomes the explicit values it matches (`*/15` -> `00,15,30,45`), except `*`.
Weekdays are crontab's (0 and 7 are Sunday) written as systemd's names. When both the day of
the month and the day of the week are restricted, crontab fires when EITHER matches while
systemd requires both: that schedule becomes two lines, one per field. The time zone is the
config's, as a suffix systemd understands (`08:00:00 Europe/Amsterdam`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

from monitor.core.cron import weekdays

WEEKDAYS = ("Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
BOUNDS = {"minute": (0, 59), "hour": (0, 23), "day": (1, 31), "month": (1, 12)}


def on_calendar(expression: str, zone: str) -> list[str]:
    """The OnCalendar= values that fire exactly when `expression` does in `zone`."""
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(f"{expression!r} is not a 5-field crontab expression")
    minute, hour, day, month, weekday = fields
    minutes = _values(minute, "minute")
    hours = _values(hour, "hour")
    days = _values(day, "day")
    months = _values(month, "month")
    weekdays = _weekdays(weekday)
    time = f"{_join(hours, 2)}:{_join(minutes, 2)}:00"
    date = f"*-{_join(months, 2)}-{{day}}"
    if days is not None and weekdays is not None:  # crontab: either field matches
        return [
            f"{weekdays} *-{_join(months, 2)}-* {time} {zone}",
            f"{date.format(day=_join(days, 2))} {time} {zone}",
        ]
    prefix = f"{weekdays} " if weekdays is not None else ""
    return [f"{prefix}{date.format(day=_join(days, 2))} {time} {zone}"]


def _values(field: str, name: str) -> list[int] | None:
    """The values a field matches, None for `*`."""
    if field == "*":
        return None
    low, high = BOUNDS[name]
    found: set[int] = set()
    for part in field.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = _number(first, name), _number(last, name)
        else:
            start = _number(base, name)
            end = high if step_text else start
        if not (low <= start <= end <= high) or step < 1:
            raise ValueError(f"{field!r} is out of range for the {name}")
        found.update(range(start, end + 1, step))
    return sorted(found)


def _number(text: str, name: str) -> int:
    lowered = text.lower()
    if name == "month" and lowered in MONTHS:
        return MONTHS.index(lowered) + 1
    if not re.fullmatch(r"\d+", text):
        raise ValueError(f"{text!r} is not a {name}")
    return int(text)


def _weekdays(field: str) -> str | None:
    """systemd's names for the days the scheduler itself runs on (`core.cron.weekdays`: one
    parser, so `fri-sun` means Friday to Sunday in both)."""
    values = weekdays(field)
    if values is None:
        return None
    days = sorted(values, key=lambda d: (d + 6) % 7)  # Monday first
    return ",".join(WEEKDAYS[d] for d in days)


def _join(values: list[int] | None, width: int) -> str:
    return "*" if values is None else ",".join(f"{value:0{width}d}" for value in values)


def skipped_in_spring(expression: str, zone: tzinfo, years: range = range(2024, 2036)) -> str | None:
    """The first wall time (`HH:MM`) of a fixed-time schedule that does not exist on a day the
    clocks go forward in `zone`, else None. Crontab (and `monitor run`) runs such a job just
    after the jump; a systemd timer skips that day, so no OnCalendar= fires at the same instants."""
    minute, hour = expression.split()[:2]
    if minute.startswith("*") or hour.startswith("*"):
        return None  # every hour or minute: both simply go on after the jump
    times = [(h, m) for h in _values(hour, "hour") or [] for m in _values(minute, "minute") or []]
    for year in years:
        day = datetime(year, 1, 1)
        while day.year == year:
            if (
                day.replace(tzinfo=zone).utcoffset()
                != (day + timedelta(days=1)).replace(tzinfo=zone).utcoffset()
            ):
                for h, m in times:
                    wall = day.replace(hour=h, minute=m)
                    if (
                        wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None)
                        != wall
                    ):
                        return f"{h:02d}:{m:02d}"
            day += timedelta(days=1)
    return None

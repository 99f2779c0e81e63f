"""Time in one place: parsing the vendors' formats, the database's fixed-width form, and day windows."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo


def to_db(moment: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in SQL."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    # isoformat gives the same text as strftime("%Y-%m-%dT%H:%M:%S.%f+00:00") at half the cost;
    # a poll formats two per stored signal.
    return (moment if moment.tzinfo is UTC else moment.astimezone(UTC)).isoformat(timespec="microseconds")


def from_db(text: str) -> datetime:
    return datetime.fromisoformat(text)


def to_public(moment: datetime) -> str:
    """The form the digest and `lookup --json` show: seconds, explicit +00:00."""
    return moment.astimezone(UTC).replace(microsecond=0).isoformat()


def parse_iso(text: str) -> datetime:
    """Sentry's ISO-8601 timestamps, with or without fractions, `Z` or an offset; naive = UTC."""
    moment = datetime.fromisoformat(text.strip())
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


_MONTHS = {
    name: number for number, name in enumerate("Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)
}
_UTC_STAMP = re.compile(
    r"(?:[A-Z][a-z]{2}, )?(\d{1,2}) ([A-Z][a-z]{2}) (\d{4}) (\d\d):(\d\d):(\d\d) (?:UTC|GMT)"
)


def parse_rfc2822(text: str) -> datetime:
    """Mailgun's `created_at`: `Sun, 26 Jan 2025 07:29:04 UTC` (also GMT, +0000, -0000)."""
    text = text.strip()
    # Mailgun's own form, read directly: a bounce list of a million entries parses a million.
    fast = _UTC_STAMP.fullmatch(text)
    if fast and fast[2] in _MONTHS:
        day, month, year, hour, minute, second = fast.groups()
        return datetime(int(year), _MONTHS[month], int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    moment = parsedate_to_datetime(text)
    # `-0000` ("no zone information") parses to a naive datetime; Mailgun means UTC by it.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def from_epoch(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


def day_window(day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Local midnight to the next local midnight, in UTC: 23 or 25 hours on DST days."""
    start = datetime.combine(day, time(0), tzinfo=zone)
    end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
    return start.astimezone(UTC), end.astimezone(UTC)


# Every "today" and "yesterday" of the product comes from these three: a day is always a day of
# the configured time zone (`[monitor] timezone`), never the UTC date of a moment.
def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def today(now: datetime, zone: ZoneInfo) -> date:
    return local_day(now, zone)


def yesterday(now: datetime, zone: ZoneInfo) -> date:
    return local_day(now, zone) - timedelta(days=1)

"""Sentry's wire atoms: timestamps, periods, short ids and `{"detail": ...}` error answers.

Every other module of the simulator builds on these; this one imports none of them.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.simulators.base import Reply

JSON = dict[str, Any]
Clock = Callable[[], float]
TagsArg = Mapping[str, Any] | Iterable[Any] | None

NOT_FOUND = "The requested resource does not exist"
FORBIDDEN = "You do not have permission to perform this action."
BAD_CREDENTIALS = "Invalid token"
NOT_AUTHENTICATED = "Authentication credentials were not provided."
INVALID_CURSOR = "Invalid cursor parameter."
RATE_LIMITED = (
    "You are attempting to use this endpoint too frequently. Limit is {limit} requests in {window} seconds"
)

US = 1_000_000  # the simulator keeps every moment in microseconds since the epoch
HOUR, DAY = 3600, 86_400
PERIOD_RE = re.compile(r"^(\d+)([smhdw]?)$")
PERIOD_UNITS = {"": 1, "s": 1, "m": 60, "h": HOUR, "d": DAY, "w": 7 * DAY}
EVENT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford, as Sentry's short ids use


class ApiError(Exception):
    """An answer other than 200, with Sentry's `{"detail": ...}` body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()  # DRF renders compact JSON
    return Reply(status, body, dict(headers or {}))


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is UTC, as in Sentry's API."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_US


def iso(us: int) -> str:
    """Sentry's timestamp style: whole seconds when there is no fraction, else microseconds."""
    seconds, micro = divmod(us, US)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micro:06d}Z" if micro else f"{stamp}Z"


def iso_or_none(us: int | None) -> str | None:
    return None if us is None else iso(us)


def parse_iso(value: str) -> int:
    """`start`/`end` as Sentry takes them: ISO-8601 with or without fraction, offset or `Z`."""
    for candidate in (value, value.replace(" ", "+")):  # a `+hh:mm` offset arrives as a space
        try:
            return to_us(datetime.fromisoformat(candidate))
        except ValueError:
            continue
    raise ApiError(400, f"{value} is not a valid ISO8601 date query")


def parse_period(value: str) -> int:
    """`statsPeriod`: `<n>` plus an optional unit s/m/h/d/w; microseconds."""
    match = PERIOD_RE.match(value)
    if not match:
        raise ApiError(400, "Invalid statsPeriod")
    return int(match.group(1)) * PERIOD_UNITS[match.group(2)] * US


def short_id(prefix: str, number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 32)
        digits = _BASE32[rest] + digits
        if not number:
            return f"{prefix.upper()}-{digits}"


def short_number(text: str) -> int | None:
    """The counter a short id's suffix encodes; None if it is not Crockford base 32."""
    number = 0
    for char in text.upper():
        if char not in _BASE32:
            return None
        number = number * 32 + _BASE32.index(char)
    return number

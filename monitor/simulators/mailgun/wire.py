"""What every part of the Mailgun simulator shares: the account's defaults and limits, the
date format of `created_at`, and the small helpers that turn answers into bytes."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from monitor.simulators.base import Reply, Request

JSON = dict[str, Any]
Clock = Callable[[], float]
Fields = dict[str, list[str]]  # form field -> values in order
Files = dict[str, list[tuple[str, bytes]]]  # form field -> (filename, content) parts

DEFAULT_API_KEY = "key-simulated-0123456789abcdef"
DEFAULT_DOMAIN = "mg.example.test"
SUPPRESSION_LISTS = ("bounces", "complaints", "unsubscribes")
DEFAULT_LIMIT = 100
SUPPRESSION_LIMIT_MAX = 1000
EVENTS_LIMIT_MAX = 300
SEND_OPTIONS_MAX_BYTES = 16 * 1024

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822_utc(moment: datetime) -> str:
    """Format like Mailgun's `created_at`: `Sun, 26 Jan 2025 07:29:04 UTC`. Naive means UTC.
    Names come from tables, not strftime, so the process locale cannot change them."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M:%S} UTC"
    )


class BadRequest(Exception):
    """Answered as 400 {"message": str(exc)}."""


def json_reply(status: int, payload: JSON, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, headers or {}, "application/json")


def text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), {}, "text/plain")


def requested_limit(request: Request, maximum: int) -> int:
    """The `limit` parameter, DEFAULT_LIMIT when absent; BadRequest outside 1..maximum."""
    raw = request.param("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise BadRequest(f"Invalid limit: {raw!r} is not an integer") from None
    if not 1 <= limit <= maximum:
        raise BadRequest(f"Invalid limit: must be between 1 and {maximum}")
    return limit


def quote_param(value: str) -> str:
    # Escapes `@` and `+` as the recorded URLs do (%40, %2B).
    return quote(value, safe="")


def header_number(value: float) -> str:
    """A header value as Mailgun writes it: `30`, not `30.0`; fractions kept."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class RequestLimit:
    """Mailgun's request budget as its 2026 answers state it: `X-Request-Limit`,
    `X-Request-Remaining` and `X-Request-Reset` (the window's end, epoch milliseconds) on
    every answer. Counted in fixed windows; the simulator states the budget, it does not
    refuse past it (`scenario.throttle()` makes 429s)."""

    def __init__(self, limit: int, window: float = 10.0) -> None:
        self.limit, self.window = limit, window
        self._lock = threading.Lock()
        self._window_end = 0.0
        self._used = 0

    def headers(self, now: float) -> dict[str, str]:
        with self._lock:
            if now >= self._window_end:
                self._window_end, self._used = now + self.window, 0
            self._used += 1
            remaining = max(self.limit - self._used, 0)
            reset_ms = int(self._window_end * 1000)
        return {
            "X-Request-Limit": str(self.limit),
            "X-Request-Remaining": str(remaining),
            "X-Request-Reset": str(reset_ms),
        }

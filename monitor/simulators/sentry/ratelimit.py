"""Sentry's rate limiting: a fixed window per caller and endpoint, plus a concurrency count.

Every answer carries the five `X-Sentry-Rate-Limit-*` headers; a refused request gets a 429 whose
body is a JSON *string* and which has no `Retry-After` (Sentry's middleware sets none).
"""

from __future__ import annotations

import math
import threading
from collections import Counter
from dataclasses import dataclass

from monitor.simulators.base import Reply
from monitor.simulators.sentry.wire import RATE_LIMITED, json_reply

# Without `rate_limit` the headers still show a limit, as sentry.io does, but nothing is refused.
DEFAULT_RATE_LIMIT = (1000, 1.0)
DEFAULT_CONCURRENT_LIMIT = 25


@dataclass(frozen=True)
class Ticket:
    """One request's admission: whether it may be answered, and the headers every answer gets."""

    allowed: bool
    headers: dict[str, str]


class RateLimiter:
    """Sentry's fixed-window limit per caller and endpoint, plus a concurrency count."""

    def __init__(self, limit: int, window: float, concurrent_limit: int, *, enforce: bool) -> None:
        self.limit, self.window, self.enforce = limit, window, enforce
        self.concurrent_limit = concurrent_limit
        self._lock = threading.Lock()
        self._counts: dict[tuple[str, str], tuple[int, int]] = {}  # key -> (window index, requests)
        self._in_flight: Counter[tuple[str, str]] = Counter()

    def enter(self, caller: str, endpoint: str, now: float) -> Ticket:
        key = (caller, endpoint)
        index = math.floor(now / self.window)
        with self._lock:
            seen_index, count = self._counts.get(key, (index, 0))
            count = count + 1 if seen_index == index else 1
            self._counts[key] = (index, count)
            self._in_flight[key] += 1
            in_flight = self._in_flight[key]
        headers = {
            "X-Sentry-Rate-Limit-Limit": str(self.limit),
            "X-Sentry-Rate-Limit-Remaining": str(max(0, self.limit - count)),
            "X-Sentry-Rate-Limit-Reset": str(math.ceil((index + 1) * self.window)),
            "X-Sentry-Rate-Limit-ConcurrentLimit": str(self.concurrent_limit),
            "X-Sentry-Rate-Limit-ConcurrentRemaining": str(max(0, self.concurrent_limit - in_flight)),
        }
        return Ticket(not self.enforce or count <= self.limit, headers)

    def leave(self, caller: str, endpoint: str) -> None:
        with self._lock:
            self._in_flight[(caller, endpoint)] -= 1

    def refusal(self) -> Reply:
        window = int(self.window) if float(self.window).is_integer() else self.window
        return json_reply(429, RATE_LIMITED.format(limit=self.limit, window=window))

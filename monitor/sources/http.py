"""The one HTTP seam: a requests.Session with timeouts, retries, rate-limit waits and errors
that speak in sentences. The sources build URLs and read pages; this module decides when to
wait, when to try again and when to give up.

Policy (from the vendors' documentation):
- 5xx, timeouts, dropped connections and truncated bodies are retried with exponential
  back-off and full jitter.
- 429 waits for `Retry-After` if given, else the reset time in `X-Sentry-Rate-Limit-Reset`
  or `X-RateLimit-Reset` (epoch seconds) or Mailgun's `X-Request-Reset` (epoch milliseconds),
  else backs off exponentially. Sentry's 429 carries no Retry-After, only its reset header.
- An answer with `X-Sentry-Rate-Limit-Remaining: 0` (Sentry) or `X-Request-Remaining: 0`
  (Mailgun) makes the next request wait for the window to reset instead of earning a 429.
- All waits of one client share a budget (`max_wait`); past it the poll ends with a
  SourceError, to be completed by the next poll. Other 4xx are never retried.
- POST is never retried (a blind retry of a send could deliver the same mail twice), except a
  POST that only reads (`query_json`, Mailgun's Logs API).
"""

from __future__ import annotations

import json
import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests

from monitor import __version__
from monitor.core.errors import MonitorError, SourceError
from monitor.sources.http_parts import (
    Page,
    after_tries,
    host_of,
    number_or_none,
    parse_link_header,
    reason_of,
    short_url,
)

log = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({500, 502, 503, 504})
# (remaining, reset, reset units per second): a window is used up when remaining says 0.
RATE_LIMIT_HEADERS = (
    ("X-Sentry-Rate-Limit-Remaining", "X-Sentry-Rate-Limit-Reset", 1),
    ("X-Request-Remaining", "X-Request-Reset", 1000),
)
USER_AGENT = f"customersdot-monitor/{__version__} (+python-requests)"

# Turns a permanent failure (status, body text) into the sentence an operator needs.
Explain = Callable[[int, str], str]


class Interrupted(MonitorError):
    """A stop was requested while waiting; the caller ends after what it committed."""


@dataclass
class RetryPolicy:
    attempts: int = 6  # tries per request, the first included
    backoff_base: float = 1.0  # seconds; doubled each retry, with full jitter
    backoff_cap: float = 60.0
    max_wait: float = 300.0  # total seconds of waiting one client may spend
    timeout: float = 30.0  # connect and read timeout of one request


class HttpClient:
    """One per source and run. `name` ("Sentry", "Mailgun") starts every error sentence."""

    def __init__(
        self,
        name: str,
        *,
        auth: Any = None,
        headers: Mapping[str, str] | None = None,
        policy: RetryPolicy | None = None,
        explain: Explain | None = None,
        stop: threading.Event | None = None,
        sleep: Callable[[float], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.name = name
        self.policy = policy or RetryPolicy()
        self.explain = explain or (lambda status, body: f"{name} answered {status}.")
        self.stop = stop or threading.Event()
        self.clock = clock
        self._sleep = sleep
        self.session = requests.Session()
        # What requests reads from the environment (proxies, NO_PROXY, a CA bundle) is read
        # once per host here, not again for every request of a backfill's thousand pages.
        self.session.trust_env = False
        self._environment: dict[str, dict[str, Any]] = {}
        self.session.auth = auth
        self.session.headers.update(
            {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        )
        self.requests_made = 0
        self.waited = 0.0
        # Several reader threads may share one client: counters and the rate-limit window are
        # kept under this condition, which also wakes threads when an answer tells the window.
        self._counting = threading.Condition()
        self._sleeping = False  # one thread waits out a used-up window for all
        self._probing = False  # after a reset, one request learns the new window first
        # The requests the server's rate-limit window still allows, and when it resets (epoch
        # seconds), from the last answer: None when the server did not say.
        self._budget: int | None = None
        self._budget_reset = 0.0
        self._in_flight = 0

    def close(self) -> None:
        self.session.close()

    def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Page:
        return self.request("GET", url, params=params)

    def query_json(self, url: str, body: Mapping[str, Any]) -> Page:
        """A read that is a POST with a JSON body (Mailgun's Logs API): retried like a GET,
        since asking again changes nothing."""
        return self.request("POST", url, json=dict(body), idempotent=True)

    def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        idempotent: bool = False,
        **kwargs: Any,
    ) -> Page:
        # A stop (SIGTERM) ends the work between requests: what is committed stays, the rest
        # is read again by the next poll.
        if self.stop.is_set():
            raise Interrupted(f"Stopped before the next request to {self.name}.")
        retryable = idempotent or method in ("GET", "DELETE", "HEAD")
        for attempt in range(1, max(self.policy.attempts, 1) + 1):
            self._wait_for_window()
            last = attempt == self.policy.attempts or not retryable
            try:
                response = self._send(method, url, params, kwargs)
            except (
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
            ) as err:
                why = f"{self.name} could not be reached at {host_of(url)} ({reason_of(err)})"
                if last:
                    raise SourceError(
                        f"{why}{after_tries(attempt)}; check the base_url and the network."
                    ) from None
                self._backoff(attempt, why)
                continue
            status = response.status_code
            if status == 429 and not last:
                self._wait_rate_limit(response, attempt)
                continue
            if status in RETRY_STATUSES and not last:
                self._backoff(attempt, f"{self.name} answered {status}")
                continue
            return self._page(response, attempt)
        raise AssertionError("unreachable")  # pragma: no cover

    def _send(
        self, method: str, url: str, params: Mapping[str, Any] | None, kwargs: dict[str, Any]
    ) -> requests.Response:
        with self._counting:
            self.requests_made += 1
            self._in_flight += 1
        started = time.monotonic()
        try:
            response = self.session.request(
                method, url, params=params, timeout=self.policy.timeout, **self._settings_for(url), **kwargs
            )
            _ = response.content  # read the whole body here, so a truncated one is retried like a reset
            log.debug(
                "%s %s -> %s in %.3fs", method, response.url, response.status_code, time.monotonic() - started
            )
            self._note_rate_limit(response)
        finally:
            with self._counting:
                self._in_flight -= 1
                self._probing = False  # any answer (or none) ends a probe
                self._counting.notify_all()
        return response

    def _page(self, response: requests.Response, tries: int) -> Page:
        status = response.status_code
        body = response.text
        if status == 429:
            raise SourceError(
                f"{self.name} answered 429 (rate limited){after_tries(tries)}; the next poll continues.",
                status=429,
            )
        if status >= 500:
            raise SourceError(
                f"{self.name} answered {status}{after_tries(tries)}; the next poll tries again.",
                status=status,
            )
        if status >= 400:
            # Every 4xx but 408 and 429 is an answer about the request itself: asking again cannot help.
            raise SourceError(self.explain(status, body), permanent=status != 408, status=status)
        try:
            data = json.loads(body) if body.strip() else None
        except ValueError:
            kind = "an HTML page" if body.lstrip().startswith("<") else "malformed JSON"
            raise SourceError(
                f"{self.name} answered {kind} instead of JSON at {short_url(response.url)}."
            ) from None
        links = parse_link_header(response.headers.get("Link"))
        return Page(url=response.url, status=status, headers=response.headers, data=data, links=links)

    def _settings_for(self, url: str) -> dict[str, Any]:
        """The proxies and CA bundle requests would take from the environment for this host."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._environment:
            bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
            self._environment[origin] = {
                "proxies": requests.utils.get_environ_proxies(origin),
                "verify": bundle or True,
            }
        return self._environment[origin]

    def _note_rate_limit(self, response: requests.Response) -> None:
        """A window used up: the next request waits for its reset. Sentry says so in
        X-Sentry-Rate-Limit-* (reset in epoch seconds), Mailgun in X-Request-* (reset in epoch
        milliseconds)."""
        headers = response.headers
        for remaining_header, reset_header, scale in RATE_LIMIT_HEADERS:
            remaining = number_or_none(headers.get(remaining_header))
            reset = number_or_none(headers.get(reset_header))
            if remaining is not None and reset:
                with self._counting:  # the other requests in flight will spend some of it too
                    self._budget = int(remaining) - (self._in_flight - 1)
                    self._budget_reset = reset / scale

    def _wait_for_window(self) -> None:
        """Spend one request of the window, or wait for its reset when none is left. Reader
        threads share the budget, so together they never ask more than it allows: one thread
        waits out a used-up window, then one request learns the new window while the others
        wait for its answer."""
        with self._counting:
            while True:
                if self._sleeping or self._probing:
                    self._counting.wait(0.2)
                    continue
                if self._budget is None or self._budget > 0:
                    if self._budget is not None:
                        self._budget -= 1
                    return
                delay = self._budget_reset - self.clock()
                if delay <= 0:
                    self._budget, self._probing = None, True
                    return
                self._sleeping = True
                break
        # This thread sends next, without asking the window again: its answer is the probe.
        self._sleep_for_all(delay, f"{self.name} rate-limit window is used up", probe=True)

    def _sleep_for_all(self, delay: float, why: str, *, probe: bool) -> None:
        """Wait `delay` (the caller has set `_sleeping`) while the other threads hold their
        requests; then let them go, after a probe's answer when `probe`."""
        try:
            self._wait(delay, why)
        except BaseException:  # out of wait budget, or stopped: nobody probes, the others go on
            with self._counting:
                self._sleeping = False
                self._counting.notify_all()
            raise
        with self._counting:
            self._sleeping, self._probing, self._budget = False, probe, None
            self._counting.notify_all()

    def _wait_rate_limit(self, response: requests.Response, attempt: int) -> None:
        headers = response.headers
        retry_after = number_or_none(headers.get("Retry-After"))
        reset = number_or_none(headers.get("X-Sentry-Rate-Limit-Reset")) or number_or_none(
            headers.get("X-RateLimit-Reset")
        )
        if reset is None and (mailgun_reset := number_or_none(headers.get("X-Request-Reset"))) is not None:
            reset = mailgun_reset / 1000  # Mailgun: epoch milliseconds
        if retry_after is not None:
            delay = retry_after
        elif reset is not None:
            # Jitter, so clients do not all wake at once; at most one back-off unit (1 s by default).
            delay = reset - self.clock() + random.uniform(0, min(1.0, self.policy.backoff_base))
        else:
            delay = self._backoff_delay(attempt)
        # The window is shut for every thread, not only this one: the others hold their requests
        # until the wait is over instead of earning 429s of their own.
        with self._counting:
            self._sleeping = True
        self._sleep_for_all(max(delay, 0.0), f"{self.name} answered 429 (rate limited)", probe=False)

    def _backoff_delay(self, attempt: int) -> float:
        ceiling = min(self.policy.backoff_cap, self.policy.backoff_base * 2 ** (attempt - 1))
        return random.uniform(ceiling / 2, ceiling)

    def _backoff(self, attempt: int, why: str) -> None:
        self._wait(self._backoff_delay(attempt), why)

    def _wait(self, delay: float, why: str) -> None:
        if self.waited + delay > self.policy.max_wait:
            raise SourceError(
                f"{why}; waiting {delay:.0f} s more would pass the {self.policy.max_wait:.0f} s budget "
                "of this poll, so it stops here and the next poll continues."
            )
        log.warning("%s; waiting %.1f s", why, delay)
        with self._counting:
            self.waited += delay
        if self._sleep is not None:
            self._sleep(delay)
        elif self.stop.wait(delay):
            raise Interrupted(f"Stopped while waiting on {self.name}.")
        if self.stop.is_set():
            raise Interrupted(f"Stopped while waiting on {self.name}.")

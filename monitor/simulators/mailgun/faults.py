"""Ready-made transport failures (`base.Fault`) as they come from Mailgun or what stands
in front of it: 429s with its rate-limit headers, 5xx, HTML error pages, broken bodies,
slow answers and dropped connections."""

from __future__ import annotations

import json

from monitor.simulators.base import Fault
from monitor.simulators.mailgun.wire import header_number


def too_many_requests(
    *,
    retry_after: float | None = None,
    reset_at: float | None = None,
    times: int = 1,
    path_contains: str = "",
) -> Fault:
    """A 429 as Mailgun sends it; `reset_at` is the X-RateLimit-Reset epoch (seconds)."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = header_number(retry_after)
    if reset_at is not None:
        headers["X-RateLimit-Reset"] = header_number(reset_at)
    return Fault(429, b'{"message":"Too Many Requests"}', headers, times=times, path_contains=path_contains)


def server_error(status: int = 503, *, times: int = 1, path_contains: str = "", skip: int = 0) -> Fault:
    messages = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    body = json.dumps({"message": messages.get(status, "Server Error")}).encode()
    return Fault(status, body, times=times, path_contains=path_contains, skip=skip)


def html_error_page(status: int = 502, *, times: int = 1, path_contains: str = "") -> Fault:
    """What a load balancer in front of the API answers: HTML, not JSON."""
    body = f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"
    return Fault(status, body.encode(), content_type="text/html", times=times, path_contains=path_contains)


def malformed_json(*, times: int = 1, path_contains: str = "", skip: int = 0) -> Fault:
    """A 200 whose body is not valid JSON."""
    return Fault(body=b'{"items": [{"address": ', times=times, path_contains=path_contains, skip=skip)


def truncated_body(keep_bytes: int = 20, *, times: int = 1, path_contains: str = "", skip: int = 0) -> Fault:
    """The real answer cut short: Content-Length promises more than is sent."""
    return Fault(truncate=keep_bytes, times=times, path_contains=path_contains, skip=skip)


def slow_answer(seconds: float, *, times: int = 1, path_contains: str = "") -> Fault:
    return Fault(delay=seconds, times=times, path_contains=path_contains)


def dropped_connection(*, times: int = 1, path_contains: str = "") -> Fault:
    return Fault(drop=True, times=times, path_contains=path_contains)

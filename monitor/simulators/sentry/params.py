"""The request parameters the endpoints share, parsed and checked as Sentry does."""

from __future__ import annotations

from collections.abc import Set

from monitor.simulators.base import Request
from monitor.simulators.sentry.wire import FORBIDDEN, NOT_FOUND, ApiError, parse_iso, parse_period


def query_window(request: Request, now: int, retention_us: int) -> tuple[int, int]:
    """[start, end] in µs: statsPeriod overrides start/end; the retention by default and at most."""
    period = request.param("statsPeriod")
    start_text, end_text = request.param("start"), request.param("end")
    if period:
        start, end = now - parse_period(period), now
    elif start_text or end_text:
        if not (start_text and end_text):
            raise ApiError(400, "start and end are both required")
        start, end = parse_iso(start_text), parse_iso(end_text)
        if start > end:
            raise ApiError(400, "start must be before end")
    else:
        start, end = now - retention_us, now
    return max(start, now - retention_us), end


def requested_environments(request: Request, known: Set[str]) -> frozenset[str]:
    names = frozenset(name for name in request.query.get("environment", []) if name)
    if names - known:
        raise ApiError(404, NOT_FOUND)  # Sentry: an unknown environment does not exist
    return names


def check_projects(request: Request, project_id: str) -> None:
    """`project=` takes numeric IDs only (a slug is a 400, as on sentry.io); an ID that is not
    this project's (nor -1, all projects) is one the token may not see: 403."""
    for ref in request.query.get("project", []):
        if not ref.lstrip("-").isdigit():
            raise ApiError(400, "Invalid project parameter. Values must be numbers.")
        if ref not in ("-1", project_id):
            raise ApiError(403, FORBIDDEN)


def int_param(request: Request, name: str, default: int, maximum: int) -> int:
    raw = request.param(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} parameter.") from None
    if value > maximum:
        raise ApiError(400, f"Invalid {name} value. Cannot exceed {maximum}.")
    if value < 1:
        raise ApiError(400, f"Invalid {name} value. Must be positive.")
    return value


def group_stats_period(request: Request) -> str | None:
    """The issue list's sparkline period; None when `groupStatsPeriod=` turns it off."""
    value = request.param("groupStatsPeriod")
    if value is None:
        return "24h"
    if value not in ("", "24h", "14d", "auto"):
        raise ApiError(400, "Invalid groupStatsPeriod")
    return value or None

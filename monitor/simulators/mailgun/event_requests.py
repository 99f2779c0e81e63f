"""How an Events-API query arrives on the wire: the `GET /events` parameters, and the
opaque page tokens that carry the query and a cursor in the paging URLs' path."""

from __future__ import annotations

import base64
import binascii
import json
import math
from datetime import UTC
from email.utils import parsedate_to_datetime

from monitor.simulators.base import Request
from monitor.simulators.mailgun.events import EventCursor, EventQuery
from monitor.simulators.mailgun.filters import FILTER_FIELDS, compile_filters
from monitor.simulators.mailgun.wire import EVENTS_LIMIT_MAX, BadRequest, requested_limit


def parse_event_query(request: Request, now: float) -> EventQuery:
    begin_raw, end_raw = request.param("begin"), request.param("end")
    begin = _parse_time("begin", begin_raw) if begin_raw else None
    end = _parse_time("end", end_raw) if end_raw else None
    ascending = _parse_ascending(request)
    if end is not None and begin is None and ascending is None:
        begin = now  # Mailgun's default start; the direction then follows from `end`
    ascending = _direction(begin, end, ascending)
    filters = tuple((name, value) for name in FILTER_FIELDS for value in request.query.get(name, []))
    try:
        compile_filters(filters)
    except ValueError as exc:
        raise BadRequest(f"Invalid filter expression: {exc}") from None
    return EventQuery(begin, end, ascending, requested_limit(request, EVENTS_LIMIT_MAX), filters)


def _parse_time(name: str, raw: str) -> float:
    """Epoch seconds (floats allowed) or an RFC 2822 date; a naive date (`-0000`) is UTC."""
    try:
        value = float(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise BadRequest(f"Invalid time value for '{name}': {raw!r}") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(value):
        raise BadRequest(f"Invalid time value for '{name}': {raw!r}")
    return value


def _parse_ascending(request: Request) -> bool | None:
    raw = request.param("ascending")
    if raw is None:
        return None
    if raw not in ("yes", "no"):
        raise BadRequest(f"Invalid value for 'ascending': {raw!r}, must be 'yes' or 'no'")
    return raw == "yes"


def _direction(begin: float | None, end: float | None, ascending: bool | None) -> bool:
    """The range's direction: `ascending` is required without `end`; with both, a
    contradiction between `ascending` and begin/end is an error."""
    if end is None:
        if ascending is None:
            raise BadRequest("'ascending' must be provided when 'end' is not specified")
        return ascending
    if begin is None or begin == end:
        return True if ascending is None else ascending
    implied = begin < end
    if ascending is not None and ascending != implied:
        raise BadRequest("'ascending' contradicts the time range given by 'begin' and 'end'")
    return implied


def encode_event_token(query: EventQuery, cursor: EventCursor) -> str:
    # Shaped like Mailgun's (base64 of a JSON list starting `[{"b":`), url-safe for the path.
    payload = [
        {"b": query.begin, "e": query.end, "a": query.ascending, "l": query.limit, "f": list(query.filters)},
        {"g": cursor.gap, "m": cursor.move},
    ]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_event_token(token: str) -> tuple[EventQuery, EventCursor]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        head, position = json.loads(raw)
        filters = tuple((str(name), str(expr)) for name, expr in head["f"])
        compile_filters(filters)
        query = EventQuery(head["b"], head["e"], bool(head["a"]), int(head["l"]), filters)
        gap = position["g"]
        if not (gap in ("lo", "hi") or (isinstance(gap, list) and len(gap) == 3 and gap[2] in ("L", "R"))):
            raise ValueError(gap)
        return query, EventCursor(gap, 1 if position["m"] > 0 else -1)
    except (binascii.Error, ValueError, TypeError, KeyError, IndexError):
        raise BadRequest("Invalid page token") from None

"""The Logs API, `POST /v1/analytics/logs`, over the scenario's events: the JSON query
(RFC 2822 `start`/`end`, event names, a domain filter, `pagination` with a token) and the
answer's shape as recorded from the real API (`@timestamp` ISO-8601, `domain.name`,
`user-variables` as a JSON string, `storage.url` a list, `pagination.next` only while more
may follow)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Any

from monitor.simulators.base import Reply, Request
from monitor.simulators.mailgun.event_requests import decode_event_token, encode_event_token
from monitor.simulators.mailgun.events import EventCursor, EventQuery
from monitor.simulators.mailgun.filters import compile_filters
from monitor.simulators.mailgun.scenario import MailgunScenario
from monitor.simulators.mailgun.wire import BadRequest, json_reply

LOGS_PATH = "/v1/analytics/logs"
MAX_LIMIT = 100
DAY = 86400.0


def answer_logs(request: Request, scenario: MailgunScenario, domain: str, now: float) -> Reply:
    if request.method != "POST":
        return json_reply(405, {"message": "Method Not Allowed"})
    body = _body(request)
    start, end = _window(body, now)
    raw_pagination = body.get("pagination")
    pagination: dict[str, Any] = raw_pagination if isinstance(raw_pagination, dict) else {}
    token = pagination.get("token")
    if token:
        query, cursor = decode_event_token(str(token))
    else:
        query, cursor = _first_page(body, pagination, start, end)
    if not _for_domain(body, domain):
        return json_reply(200, _answer(start, end, [], None))
    page = scenario.event_page(query, cursor, now)
    with scenario.lock:
        items = [_log_item(item, domain) for item in page.items]
    following = encode_event_token(query, page.next) if len(page.items) == query.limit else None
    if scenario.repeat_next and token:  # a broken server: the same token again and again
        following = str(token)
    return json_reply(200, _answer(start, end, items, following))


def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise BadRequest("Invalid JSON body") from None
    if not isinstance(body, dict):
        raise BadRequest("Invalid JSON body")
    return body


def _window(body: dict[str, Any], now: float) -> tuple[float, float]:
    end = _rfc2822(body, "end", now)
    start = _rfc2822(body, "start", end - DAY)  # the documented defaults: a day ago, and now
    if start > end:
        raise BadRequest("start must be before end")
    return start, end


def _rfc2822(body: dict[str, Any], name: str, default: float) -> float:
    raw = body.get(name)
    if raw in (None, ""):
        return default
    try:
        moment = parsedate_to_datetime(str(raw))
    except (TypeError, ValueError):
        raise BadRequest(f"Invalid {name}: expected an RFC 2822 date") from None
    # A `-0000` zone is naive here: it means UTC, not this machine's zone (as for the Events API).
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


def _first_page(
    body: dict[str, Any], pagination: dict[str, Any], start: float, end: float
) -> tuple[EventQuery, EventCursor]:
    limit = pagination.get("limit", 10)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_LIMIT:
        raise BadRequest(f"pagination.limit must be an integer from 1 to {MAX_LIMIT}")
    sort = pagination.get("sort", "timestamp:desc")
    if sort not in ("timestamp:asc", "timestamp:desc"):
        raise BadRequest(f"Invalid sort: {sort}")
    ascending = sort == "timestamp:asc"
    names = [str(name) for name in body.get("events") or []]
    filters = (("event", " OR ".join(names)),) if names else ()
    try:
        compile_filters(filters)
    except ValueError:
        raise BadRequest("Invalid events") from None
    query = EventQuery(start, end, ascending, limit, filters)
    return query, EventCursor("lo" if ascending else "hi", +1)


def _for_domain(body: dict[str, Any], domain: str) -> bool:
    """The account-wide API narrowed by a `domain =` condition, when the query has one."""
    conditions = (body.get("filter") or {}).get("AND") or []
    wanted = [
        str(value.get("value", "")).lower()
        for condition in conditions
        if isinstance(condition, dict) and condition.get("attribute") == "domain"
        for value in condition.get("values") or []
        if isinstance(value, dict)
    ]
    return not wanted or domain.lower() in wanted


def _log_item(event: dict[str, Any], domain: str) -> dict[str, Any]:
    item = {key: value for key, value in event.items() if key not in ("timestamp", "user-variables")}
    moment = datetime.fromtimestamp(event["timestamp"], UTC)
    item["@timestamp"] = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    item["domain"] = {"name": domain}
    item["account"] = {"id": "5f1a2b3c4d5e6f7a8b9c0d1e"}
    item["user-variables"] = json.dumps(event.get("user-variables") or {})
    storage = item.get("storage")
    if isinstance(storage, dict) and isinstance(storage.get("url"), str):
        item["storage"] = {**storage, "url": [storage["url"]]}
    return item


def _answer(start: float, end: float, items: list[dict[str, Any]], following: str | None) -> dict[str, Any]:
    return {
        "start": format_datetime(datetime.fromtimestamp(start, UTC)).replace("+0000", "-0000"),
        "end": format_datetime(datetime.fromtimestamp(end, UTC)).replace("+0000", "-0000"),
        "items": items,
        "pagination": {"next": following} if following else {},
        "aggregates": {},
    }

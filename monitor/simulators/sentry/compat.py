"""Sentry-compatible servers (older self-hosted Sentry, GlitchTip and the like) answer the same
endpoints a little differently. Each difference seen in the field is a switch of the simulator
(`SentryApp(compat=...)`), so the product is tested against every one of them:

- `no-lifetime`: issue lists carry only the top-level `count`, no `lifetime` object;
- `refuse-sort`: `sort=` is refused with 400;
- `no-org-events`: `/organizations/{org}/issues/{id}/events/` answers 404;
- `html-org-events`: the same path answers 200 with an HTML page;
- `error-org-events`: the same path answers 500 (a server that routes it but cannot serve it);
- `first-seen-window`: `start`/`end` on the issue list filter by first-seen, not by events;
- `snake-case`: event lists use snake_case names (`event_id`, `date_created`, ...);
- `undated-events`: events come without `dateCreated` or `dateReceived`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from monitor.simulators.base import Reply
from monitor.simulators.sentry.wire import ApiError

VARIANTS = frozenset(
    {
        "no-lifetime",
        "refuse-sort",
        "no-org-events",
        "html-org-events",
        "error-org-events",
        "first-seen-window",
        "snake-case",
        "undated-events",
    }
)
SNAKE = {
    "eventID": "event_id",
    "dateCreated": "date_created",
    "dateReceived": "date_received",
    "groupID": "group_id",
    "projectID": "project_id",
    "lastSeen": "last_seen",
    "firstSeen": "first_seen",
    "shortId": "short_id",
}
HTML_PAGE = b"<!DOCTYPE html><html><head><title>Not here</title></head><body>Page not found</body></html>"


def check_variants(names: Iterable[str]) -> frozenset[str]:
    chosen = frozenset(names)
    unknown = chosen - VARIANTS
    if unknown:
        raise ValueError(f"unknown compat variants: {sorted(unknown)}")
    return chosen


def refuse_sort(compat: frozenset[str], sort: str | None) -> None:
    if "refuse-sort" in compat and sort is not None:
        raise ApiError(400, "Invalid sort parameter")


def org_events_reply(compat: frozenset[str]) -> Reply | None:
    """The answer of a server without the organization-scoped events path, if it is one."""
    if "no-org-events" in compat:
        return Reply(404, json.dumps({"detail": "The requested resource does not exist"}).encode())
    if "html-org-events" in compat:
        return Reply(200, HTML_PAGE, content_type="text/html; charset=utf-8")
    if "error-org-events" in compat:
        return Reply(500, json.dumps({"detail": "Internal Error"}).encode())
    return None


def issue_list_item(compat: frozenset[str], item: dict[str, Any]) -> dict[str, Any]:
    if "no-lifetime" in compat:
        item.pop("lifetime", None)
    return item


def event_item(compat: frozenset[str], event: dict[str, Any]) -> dict[str, Any]:
    if "undated-events" in compat:
        event = {key: value for key, value in event.items() if key not in ("dateCreated", "dateReceived")}
    if "snake-case" not in compat:
        return event
    return {SNAKE.get(key, key): value for key, value in event.items()}

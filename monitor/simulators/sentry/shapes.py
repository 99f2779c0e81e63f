"""The JSON shapes of an issue's own fields and of an event, simple and full, as Sentry's serializers
write them."""

from __future__ import annotations

import json

from monitor.simulators.sentry.records import Event, Issue
from monitor.simulators.sentry.wire import JSON, iso

_PRIORITY = {"fatal": "high", "error": "high", "warning": "medium"}


def issue_fields(issue: Issue) -> JSON:
    """The fields an issue owns, independent of the server's project, host and clock."""
    return {
        "id": issue.id,
        "title": issue.title,
        "culprit": issue.culprit,
        "logger": issue.logger,
        "level": issue.level,
        "status": issue.status,
        "statusDetails": {},
        "isPublic": False,
        "platform": issue.platform,
        "priority": _PRIORITY.get(issue.level, "low"),
        "priorityLockedAt": None,
        "seerFixabilityScore": None,
        "seerAutofixLastTriggered": None,
        "seerExplorerAutofixLastTriggered": None,
        "shareId": None,
        "type": "error" if issue.exc_type else "default",
        "issueType": "error",
        "issueCategory": "error",
        "metadata": _metadata(issue.exc_type, issue.exc_value, issue.title),
        "numComments": 0,
        "assignedTo": None,
        "isBookmarked": False,
        "isSubscribed": False,
        "subscriptionDetails": None,
        "hasSeen": False,
        "annotations": [],
        "isUnhandled": issue.is_unhandled,
    }


def simple_event(event: Event, project_id: str) -> JSON:
    """SimpleEventSerializer's shape (the events list without `full`)."""
    issue = event.issue
    exc_type = event.exc_type or issue.exc_type
    title = event.title or issue.title
    return {
        "id": event.event_id,
        "eventID": event.event_id,
        "groupID": issue.id,
        "projectID": project_id,
        "event.type": "error" if exc_type else "default",
        "title": title,
        "message": event.message,
        "location": event.location,
        "culprit": event.culprit if event.culprit is not None else issue.culprit,
        "user": dict(event.user) if event.user is not None else None,
        "tags": [{"key": key, "value": value} for key, value in event.tags],
        "platform": event.platform or issue.platform,
        "dateCreated": iso(event.us),
        "crashFile": None,
        "metadata": _metadata(exc_type, event.exc_value or issue.exc_value, title),
    }


def full_event(event: Event, project_id: str) -> JSON:
    """EventSerializer's shape (`full=true`). Simplification: no stack frames, contexts or breadcrumbs."""
    out = simple_event(event, project_id)
    event_type = out.pop("event.type")
    del out["crashFile"]
    received = max(event.us, event.visible_us or event.us)  # ingestion ends when it became visible
    out.update(
        {
            "type": event_type,
            "dateReceived": iso(received),
            "entries": _entries(event, out["metadata"]),
            "contexts": {},
            "context": {},
            "packages": {},
            "sdk": {"name": f"sentry.{out['platform']}", "version": "5.22.1"},
            "dist": None,
            "release": None,
            "size": len(json.dumps(out)),
            "errors": [],
            "occurrence": None,
            "userReport": None,
            "sdkUpdates": [],
            "resolvedWith": [],
            "nextEventID": None,
            "previousEventID": None,
            "fingerprints": ["{{ default }}"],
            "groupingConfig": {"id": "newstyle:2023-01-11", "enhancements": ""},
            "_meta": {"user": None, "context": None, "entries": {}, "contexts": None, "message": None,
                      "packages": None, "tags": {}, "sdk": None},
        }
    )  # fmt: skip
    return out


def _entries(event: Event, metadata: JSON) -> list[JSON]:
    """The full event's `entries`: its exception, else its message, else nothing."""
    exc_type = metadata.get("type")
    if exc_type:
        exception = {
            "type": exc_type,
            "value": metadata["value"],
            "module": None,
            "mechanism": {"type": "generic", "handled": not event.issue.is_unhandled},
            "stacktrace": None,
            "rawStacktrace": None,
            "threadId": None,
        }
        return [{"type": "exception", "data": {"values": [exception], "excOmitted": None}}]
    if event.message:
        return [{"type": "message", "data": {"formatted": event.message}}]
    return []


def _metadata(exc_type: str | None, exc_value: str | None, title: str) -> JSON:
    if exc_type:
        return {"type": exc_type, "value": exc_value or ""}
    return {"title": title}

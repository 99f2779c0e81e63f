"""An issue as the server answers it: the list element (StreamGroupSerializerSnuba) and the
detail, with what they add to the issue's own fields: project, counts, substatus, stats, tags.
"""

from __future__ import annotations

import bisect
from collections import Counter
from dataclasses import dataclass

from monitor.simulators.sentry.records import Issue, seen_counts
from monitor.simulators.sentry.shapes import issue_fields
from monitor.simulators.sentry.wire import DAY, HOUR, JSON, US, iso, iso_or_none, short_id

_GROUP_STATS = {"24h": (HOUR, 24), "14d": (DAY, 14)}


@dataclass(frozen=True)
class Project:
    """The server's project, as issues name it."""

    organization: str
    slug: str
    id: str
    name: str


@dataclass(frozen=True)
class Render:
    """What an issue list answer depends on besides the issue."""

    now: int
    start: int
    end: int
    environments: frozenset[str]
    stats_period: str | None
    collapse: frozenset[str]
    base_url: str


def issue_item(issue: Issue, project: Project, render: Render) -> JSON:
    """One element of the issue list (StreamGroupSerializerSnuba)."""
    window = seen_counts(issue, render.start, render.end, render.environments)
    if "base" in render.collapse:
        body: JSON = {"id": issue.id, **window.wire()}
    else:
        body = issue_base(issue, project, render.base_url, render.now)
        body.update(window.wire())
        first_seen = iso_or_none(issue.times[0] if issue.times else None) or iso(render.now)
        body.update(
            {
                "inbox": {"reason": 0, "reason_details": None, "date_added": first_seen},
                "owners": {"type": "ownershipRule", "owner": f"team:{project.id}",
                           "date_added": first_seen},
                "integrationIssues": [], "sentryAppIssues": [], "latestEventHasAttachments": False,
                "matchingEventId": None, "matchingEventEnvironment": None, "sessionCount": 0,
                "derivedData": {"blocker": "none", "progress": "not_started", "status": "open",
                                "viewCount": 0, "hasOpenFixPr": False, "isAssigned": False,
                                "hasRootCause": False, "lastCompletedAutofixStep": "none",
                                "lastProgressedAt": None},
            }
        )  # fmt: skip
        if "unhandled" in render.collapse:
            del body["isUnhandled"]
    if "stats" not in render.collapse:
        _add_list_stats(body, issue, render)
    return body


def issue_detail(
    issue: Issue,
    project: Project,
    base_url: str,
    now: int,
    environments: frozenset[str],
    collapse: frozenset[str],
) -> JSON:
    """getOrganizationIssue's body: lifetime counts, activity, tag facets and 24h/30d stats."""
    body = issue_base(issue, project, base_url, now)
    lifetime = seen_counts(issue, None, None, environments)
    body.update(lifetime.wire())
    body.update(
        {
            "activity": [
                {"id": "0", "type": "first_seen", "data": {}, "user": None,
                 "dateCreated": iso_or_none(lifetime.first)}
            ] if lifetime.first is not None else [],
            "seenBy": [],
            "participants": [],
            "userReportCount": 0,
            "firstRelease": None,
            "lastRelease": None,
        }
    )  # fmt: skip
    if "tags" not in collapse:
        body["tags"] = _tag_facets(issue)
    if "stats" not in collapse:
        body["stats"] = {
            "24h": _buckets(issue, now, HOUR, 24),
            "30d": _buckets(issue, now, DAY, 30),
        }
    return body


def issue_base(issue: Issue, project: Project, base_url: str, now: int) -> JSON:
    """The issue's own fields plus those that depend on the server: ids, links, project, substatus."""
    body = issue_fields(issue)
    body["shortId"] = short_id(project.slug, issue.number)
    body["permalink"] = f"{base_url}/organizations/{project.organization}/issues/{issue.id}/"
    body["project"] = {
        "id": project.id,
        "name": project.name,
        "slug": project.slug,
        "platform": issue.platform,
    }
    body["substatus"] = _substatus(issue, now)
    return body


def _add_list_stats(body: JSON, issue: Issue, render: Render) -> None:
    if render.stats_period is not None:
        body["stats"] = {render.stats_period: _period_buckets(issue, render)}
    else:
        body["stats"] = {}  # groupStatsPeriod="" turns the sparkline off; the spec still needs the key
    if "lifetime" not in render.collapse:
        body["lifetime"] = {**seen_counts(issue, None, None, render.environments).wire(), "stats": None}
    if "filtered" not in render.collapse:
        body["filtered"] = None  # non-null only for event-level search conditions


def _substatus(issue: Issue, now: int) -> str | None:
    if issue.substatus is not None or issue.status == "resolved":
        return issue.substatus
    if issue.status == "ignored":
        return "archived_until_escalating"
    new = bool(issue.times) and issue.times[0] >= now - 7 * DAY * US  # Sentry's "new" lasts 7 days
    return "new" if new else "ongoing"


def _buckets(issue: Issue, now: int, rollup: int, points: int) -> list[list[int]]:
    """Sparkline counts per `rollup` seconds, the last bucket holding `now`."""
    last = (now // US) // rollup * rollup
    return _count_buckets(issue, last - (points - 1) * rollup, last, rollup)


def _period_buckets(issue: Issue, render: Render) -> list[list[int]]:
    if render.stats_period == "auto":  # buckets over the query window; hourly up to two days
        rollup = HOUR if render.end - render.start <= 2 * DAY * US else DAY
        first = (render.start // US) // rollup * rollup
        return _count_buckets(issue, first, (render.end // US) // rollup * rollup, rollup)
    rollup, points = _GROUP_STATS[render.stats_period or "24h"]
    return _buckets(issue, render.now, rollup, points)


def _count_buckets(issue: Issue, first: int, last: int, rollup: int) -> list[list[int]]:
    moments = range(first, last + 2 * rollup, rollup)  # bucket edges, one past the last bucket
    edges = [bisect.bisect_left(issue.times, moment * US) for moment in moments]
    return [[first + i * rollup, edges[i + 1] - edges[i]] for i in range(len(edges) - 1)]


def _tag_facets(issue: Issue) -> list[JSON]:
    """The issue detail's `tags`: each key with the number of events carrying it."""
    totals: Counter[str] = Counter(key for event in issue.events for key, _ in event.tags)
    return [
        {"key": key, "name": key.replace("_", " ").title(), "totalValues": count}
        for key, count in sorted(totals.items())
    ]

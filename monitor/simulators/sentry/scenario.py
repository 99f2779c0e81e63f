"""SentryScenario: the issues and events one simulated Sentry project holds."""

from __future__ import annotations

import bisect
import heapq
import itertools
import threading
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from monitor.simulators.sentry.paging import View
from monitor.simulators.sentry.records import (
    Event,
    Issue,
    automatic_user_tag,
    check_status,
    event_tags,
    normalise_user,
)
from monitor.simulators.sentry.search import (
    IssueQuery,
    Ordering,
    build_ordering,
    date_view,
    new_view,
    slow_view,
)
from monitor.simulators.sentry.shapes import issue_fields, simple_event
from monitor.simulators.sentry.wire import EVENT_ID_RE, JSON, US, TagsArg, short_number, to_us


class SentryScenario:
    """Issues and events of one Sentry project, in Sentry's wire shape. Thread-safe.

    Change it at any time, also while a server runs: the next request sees the change.
    `project_id` only fills `projectID` in the dicts `add_event` returns; the server answers
    with its own `project_id`.
    """

    def __init__(self, *, project_id: str = "1", platform: str = "ruby") -> None:
        self.project_id = project_id
        self.platform = platform
        self.lock = threading.RLock()
        self.environments: set[str] = set()
        self._issues: dict[str, Issue] = {}
        self._by_number: dict[int, Issue] = {}
        self._events: dict[str, Event] = {}  # every event id ever added, visible or not
        self._pending: list[tuple[int, int, Event]] = []  # heap of events waiting for visible_at
        self._seq = itertools.count()
        self._version = 0  # bumped on every change that can reorder or refilter issues
        self._orderings: dict[tuple[str, frozenset[str]], Ordering] = {}
        self._orderings_version = -1

    # -- building

    def add_issue(
        self,
        issue_id: str,
        title: str,
        culprit: str | None = None,
        exc_type: str | None = None,
        exc_value: str | None = None,
        level: str = "error",
        status: str = "unresolved",
        *,
        substatus: str | None = None,
        logger: str | None = None,
        platform: str | None = None,
        is_unhandled: bool = False,
    ) -> JSON:
        """Add an issue (a Sentry "group"). Returns the fields it owns; the server adds
        shortId, permalink, project and the counts computed from visible events."""
        check_status(status)
        with self.lock:
            issue_id = str(issue_id)
            if issue_id in self._issues:
                raise ValueError(f"issue {issue_id} already exists")
            issue = Issue(
                id=issue_id, number=len(self._issues) + 1, title=title, culprit=culprit,
                exc_type=exc_type, exc_value=exc_value, level=level, status=status, substatus=substatus,
                logger=logger, platform=platform or self.platform, is_unhandled=is_unhandled,
            )  # fmt: skip
            self._issues[issue_id] = issue
            self._by_number[issue.number] = issue
            self._version += 1
            return issue_fields(issue)

    def add_event(
        self,
        issue_id: str,
        event_id: str,
        date_created: datetime,
        user: Mapping[str, Any] | None = None,
        title: str | None = None,
        message: str = "",
        culprit: str | None = None,
        tags: TagsArg = None,
        visible_at: float | None = None,
        exc_type: str | None = None,
        exc_value: str | None = None,
        *,
        level: str | None = None,
        environment: str | None = "production",
        platform: str | None = None,
        location: str | None = None,
    ) -> JSON:
        """Add an event to an issue. It is served once `clock() >= visible_at` (None: at once).
        `tags` (a dict, `(key, value)` pairs or `{key, value}` dicts) are added to the automatic
        `environment`, `level` and `user` tags. Returns the SimpleEvent wire dict."""
        event_id = event_id.lower()
        if not EVENT_ID_RE.match(event_id):
            raise ValueError(f"event id must be 32 hex characters: {event_id!r}")
        with self.lock:
            issue = self._issues.get(str(issue_id))
            if issue is None:
                raise ValueError(f"unknown issue {issue_id}")
            if event_id in self._events:
                raise ValueError(f"event {event_id} already exists")  # Sentry drops duplicate ids
            event = self._make_event(issue, event_id, date_created, user, title, message, culprit)
            event.exc_type, event.exc_value = exc_type, exc_value
            event.environment, event.platform, event.location = environment, platform, location
            event.visible_us = None if visible_at is None else int(visible_at * US)
            event.tags = event_tags(tags, environment, level or issue.level, event.user_tag)
            self._events[event_id] = event
            if environment:
                self.environments.add(environment)
            if event.visible_us is None:
                self._insert(event)
            else:
                heapq.heappush(self._pending, (event.visible_us, next(self._seq), event))
            return simple_event(event, self.project_id)

    def set_status(self, issue_id: str, status: str, substatus: str | None = None) -> None:
        check_status(status)
        with self.lock:
            issue = self._issues[str(issue_id)]
            issue.status, issue.substatus = status, substatus
            self._version += 1

    @property
    def issue_count(self) -> int:
        return len(self._issues)

    @property
    def event_count(self) -> int:
        """Events added, visible or not."""
        return len(self._events)

    # -- used by the server, under `lock`

    def reveal(self, now: int) -> None:
        """Make the events whose visible_at has come visible (late ingestion)."""
        while self._pending and self._pending[0][0] <= now:
            self._insert(heapq.heappop(self._pending)[2])

    def find(self, ref: str, short_prefix: str) -> Issue | None:
        """An issue by id, or by short id (`PROJECT-1A`), as Sentry's issue routes accept both."""
        issue = self._issues.get(ref)
        prefix = short_prefix.upper() + "-"
        if issue is None and ref.upper().startswith(prefix):
            number = short_number(ref[len(prefix) :])
            issue = self._by_number.get(number) if number is not None else None
        return issue

    def visible_event(self, event_id: str) -> Event | None:
        event = self._events.get(event_id.lower())
        if event is None or not event.issue.times:
            return None
        index = bisect.bisect_left(event.issue.times, event.us)
        # visible when it sits in its issue's timeline (pending events are not there yet)
        window = event.issue.events[index : bisect.bisect_right(event.issue.times, event.us)]
        return event if any(candidate is event for candidate in window) else None

    def search(self, query: IssueQuery) -> View:
        if not query.fast:
            return slow_view(self.ordering("date", query.statuses).issues, query)
        ordering = self.ordering(query.sort, query.statuses)
        if query.sort == "new":
            return new_view(ordering, query.start, query.end)
        view = date_view(ordering, query.start, query.end)
        return view if view is not None else slow_view(ordering.issues, query)

    def ordering(self, sort: str, statuses: frozenset[str]) -> Ordering:
        """Issues with visible events, by lastSeen (`date`) or firstSeen (`new`), cached per version."""
        if self._orderings_version != self._version:
            self._orderings.clear()
            self._orderings_version = self._version
        key = (sort, statuses)
        if key not in self._orderings:
            chosen = (issue for issue in self._issues.values() if issue.status in statuses)
            self._orderings[key] = build_ordering(chosen, sort)
        return self._orderings[key]

    # -- internals

    def _make_event(
        self,
        issue: Issue,
        event_id: str,
        date_created: datetime,
        user: Mapping[str, Any] | None,
        title: str | None,
        message: str,
        culprit: str | None,
    ) -> Event:
        wire_user = normalise_user(user)
        return Event(
            us=to_us(date_created), event_id=event_id, issue=issue, title=title, message=message,
            culprit=culprit, user=wire_user, user_tag=automatic_user_tag(wire_user), tags=(), exc_type=None,
            exc_value=None, environment=None, platform=None, location=None, visible_us=None,
        )  # fmt: skip

    def _insert(self, event: Event) -> None:
        """Put a now-visible event in its issue's timeline, ordered by (time, event id)."""
        issue = event.issue
        index = bisect.bisect_right(issue.times, event.us)
        event_id = event.event_id
        # same time: keep event ids ascending, so that newest first is (-timestamp, -event_id)
        while index and issue.times[index - 1] == event.us and issue.events[index - 1].event_id > event_id:
            index -= 1
        issue.times.insert(index, event.us)
        issue.events.insert(index, event)
        if event.user_tag:
            issue.users[event.user_tag] += 1
        self._version += 1

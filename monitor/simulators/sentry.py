"""A faithful simulator of the Sentry web API endpoints the monitor reads, over real HTTP.

Routes (all GET, trailing slashes as in Sentry; a missing slash answers 301 like Django):

* ``/api/0/organizations/{org}/issues/``                    listOrganizationIssues
* ``/api/0/organizations/{org}/issues/{issue_id}/events/``  listOrganizationIssueEvents
* ``/api/0/organizations/{org}/issues/{issue_id}/``         getOrganizationIssue
* the still-routed legacy ``/api/0/issues/{id}/[events/]`` and ``/api/0/groups/{id}/[events/]``

What it reproduces (see /work/shared/reference/sentry-api.md and Sentry's source):

* the spec's wire shapes: ids and ``count`` as strings, ``userCount`` as int, SimpleEvent list
  items (``full=true``/``1`` gives the full event; ``True`` does not), timestamps in UTC with
  ``Z``, with fractional seconds only when there are any;
* pagination as Sentry's paginators do it: the issue list uses ``SequencePaginator`` value
  cursors (``<score>:<offset>:<is_prev>``, score = sort time in whole seconds x 1000, so pages
  stay stable when new issues arrive), event lists use ``GenericOffsetPaginator`` cursors
  (``0:100:0``); every page has a ``Link`` header with ``previous`` and ``next`` in Sentry's
  exact template, the URL keeping the raw query string (commas and all) minus ``cursor``;
* the date window: ``statsPeriod`` overrides ``start``/``end``; 90 days by default and at most;
  issue-level ``count``/``userCount``/``firstSeen``/``lastSeen`` are those of the window, and
  ``lifetime`` holds the whole (visible) history, as in ``StreamGroupSerializerSnuba``;
* late ingestion: an event is invisible until ``clock() >= visible_at``;
* 401/403/404/400/405 answers with ``{"detail": ...}`` bodies, the five
  ``X-Sentry-Rate-Limit-*`` headers on every answer and, when limited, a 429 whose body is a
  JSON *string* and which has no ``Retry-After`` (Sentry's middleware sets none).

Cost per request: O(page size x log n) plus the issues that need a per-issue check (issues
last seen after an explicit ``end``; with ``sort=new``, issues first seen before the window).
Orderings are cached until the data changes. Deliberate simplifications are marked
"Simplification" below.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import json
import math
import re
import threading
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.simulators.base import Reply, Request, SimulatorServer

JSON = dict[str, Any]
Clock = Callable[[], float]
TagsArg = Mapping[str, Any] | Iterable[Any] | None

NOT_FOUND = "The requested resource does not exist"
FORBIDDEN = "You do not have permission to perform this action."
BAD_CREDENTIALS = "Invalid token"
NOT_AUTHENTICATED = "Authentication credentials were not provided."
INVALID_CURSOR = "Invalid cursor parameter."
RATE_LIMITED = (
    "You are attempting to use this endpoint too frequently. Limit is {limit} requests in {window} seconds"
)

READ_SCOPES = frozenset({"event:read", "event:write", "event:admin"})
MAX_HITS = 1000  # Sentry's issue search counts hits up to this (X-Max-Hits)
# Without `rate_limit` the headers still show a limit, as sentry.io does, but nothing is refused.
DEFAULT_RATE_LIMIT = (1000, 1.0)
DEFAULT_CONCURRENT_LIMIT = 25

_US = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
_HOUR, _DAY = 3600, 86_400
_PERIOD_RE = re.compile(r"^(\d+)([smhdw]?)$")
_PERIOD_UNITS = {"": 1, "s": 1, "m": 60, "h": _HOUR, "d": _DAY, "w": 7 * _DAY}
_EVENT_ID_RE = re.compile(r"^[0-9a-f]{32}$")
_TOKEN_RE = re.compile(r'(?:[^\s"]|"[^"]*")+')
_STATUSES = frozenset({"unresolved", "resolved", "ignored"})
_IS_STATUS = {"unresolved": "unresolved", "resolved": "resolved", "ignored": "ignored", "archived": "ignored"}
# `is:` values Sentry accepts that are not statuses. Simplification: the simulator has no assignees,
# links or bookmarks, so it ignores them (an unknown `is:` value is a 400, as in Sentry).
_IS_OTHER = frozenset(
    {
        "assigned", "unassigned", "assigned_or_suggested", "for_review", "linked", "unlinked",
        "bookmarked", "subscribed", "new", "ongoing", "escalating", "regressed",
        "archived_until_escalating", "archived_until_condition_met", "archived_forever",
    }
)  # fmt: skip
_SORTS = frozenset({"date", "new", "freq", "user", "trends", "inbox", "recommended"})
_GROUP_STATS = {"24h": (_HOUR, 24), "14d": (_DAY, 14)}
_PRIORITY = {"fatal": "high", "error": "high", "warning": "medium"}
_BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford, as Sentry's short ids use


# ----------------------------------------------------------------------------- small helpers


class ApiError(Exception):
    """An answer other than 200, with Sentry's `{"detail": ...}` body."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def to_us(moment: datetime) -> int:
    """Microseconds since the epoch; a naive datetime is UTC, as in Sentry's API."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _ONE_US


def iso(us: int) -> str:
    """Sentry's timestamp style: whole seconds when there is no fraction, else microseconds."""
    seconds, micro = divmod(us, _US)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))
    return f"{stamp}.{micro:06d}Z" if micro else f"{stamp}Z"


def _iso_or_none(us: int | None) -> str | None:
    return None if us is None else iso(us)


def parse_iso(value: str) -> int:
    """`start`/`end` as Sentry takes them: ISO-8601 with or without fraction, offset or `Z`."""
    for candidate in (value, value.replace(" ", "+")):  # a `+hh:mm` offset arrives as a space
        try:
            return to_us(datetime.fromisoformat(candidate))
        except ValueError:
            continue
    raise ApiError(400, f"{value} is not a valid ISO8601 date query")


def parse_period(value: str) -> int:
    """`statsPeriod`: `<n>` plus an optional unit s/m/h/d/w; microseconds."""
    match = _PERIOD_RE.match(value)
    if not match:
        raise ApiError(400, "Invalid statsPeriod")
    return int(match.group(1)) * _PERIOD_UNITS[match.group(2)] * _US


def short_id(prefix: str, number: int) -> str:
    digits = ""
    while True:
        number, rest = divmod(number, 32)
        digits = _BASE32[rest] + digits
        if not number:
            return f"{prefix.upper()}-{digits}"


def _short_number(text: str) -> int | None:
    number = 0
    for char in text.upper():
        if char not in _BASE32:
            return None
        number = number * 32 + _BASE32.index(char)
    return number


def json_reply(status: int, payload: Any, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":")).encode()  # DRF renders compact JSON
    return Reply(status, body, dict(headers or {}))


# ----------------------------------------------------------------------------- cursors


@dataclass(frozen=True)
class Cursor:
    """Sentry's `value:offset:is_prev` (src/sentry/utils/cursors.py)."""

    value: int
    offset: int
    is_prev: bool

    def __str__(self) -> str:
        return f"{self.value}:{self.offset}:{int(self.is_prev)}"

    @classmethod
    def parse(cls, raw: str | None) -> Cursor | None:
        if not raw:  # an empty cursor means the first page, as in Sentry
            return None
        bits = raw.split(":")
        try:
            if len(bits) != 3:
                raise ValueError(raw)
            value = math.floor(float(bits[0])) if "." in bits[0] else int(bits[0])
            cursor = cls(value, int(bits[1]), bool(int(bits[2])))
        except ValueError:
            raise ApiError(400, INVALID_CURSOR) from None
        if cursor.offset < 0:
            raise ApiError(400, "Pagination offset cannot be negative")
        return cursor


@dataclass(frozen=True)
class PageLinks:
    prev: Cursor
    prev_results: bool
    next: Cursor
    next_results: bool


def link_header(url: str, links: PageLinks) -> str:
    """Sentry's `Link`: both directions, `<url&cursor=..>; rel; results; cursor`, joined by ", "."""

    def entry(name: str, cursor: Cursor, has_results: bool) -> str:
        results = "true" if has_results else "false"
        return f'<{url}&cursor={cursor}>; rel="{name}"; results="{results}"; cursor="{cursor}"'

    return ", ".join(
        [entry("previous", links.prev, links.prev_results), entry("next", links.next, links.next_results)]
    )


def query_without_cursor(raw_query: str) -> str:
    """The query string as sent, minus `cursor`: raw segments are kept, so commas survive."""
    kept = [part for part in raw_query.split("&") if part and part.split("=", 1)[0] != "cursor"]
    return "&".join(kept)


# ----------------------------------------------------------------------------- the data


@dataclass(slots=True, eq=False)
class _Issue:
    id: str
    number: int  # the project's short-id counter
    title: str
    culprit: str | None
    exc_type: str | None
    exc_value: str | None
    level: str
    status: str
    substatus: str | None
    logger: str | None
    platform: str
    is_unhandled: bool
    times: list[int] = field(default_factory=list)  # visible events' dateCreated (µs), ascending
    events: list[_Event] = field(default_factory=list)  # parallel to `times`
    users: Counter[str] = field(default_factory=Counter)  # user tag -> visible events with it

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Index range of the visible events with start <= dateCreated <= end."""
        return bisect.bisect_left(self.times, start), bisect.bisect_right(self.times, end)

    def has_event_in(self, start: int, end: int) -> bool:
        lo = bisect.bisect_left(self.times, start)
        return lo < len(self.times) and self.times[lo] <= end

    def user_count(self, lo: int, hi: int) -> int:
        if lo == 0 and hi == len(self.times):
            return len(self.users)  # the whole history is kept counted
        # A partial window needs a scan: distinct counts do not bisect.
        return len({event.user_tag for event in self.events[lo:hi] if event.user_tag})


@dataclass(slots=True, eq=False)
class _Event:
    us: int
    event_id: str
    issue: _Issue
    title: str | None
    message: str
    culprit: str | None
    user: JSON | None
    user_tag: str | None
    tags: tuple[tuple[str, str], ...]
    exc_type: str | None
    exc_value: str | None
    environment: str | None
    platform: str | None
    location: str | None
    visible_us: int | None


@dataclass(frozen=True)
class _Seen:
    """count / userCount / firstSeen / lastSeen over some set of events."""

    count: int = 0
    users: int = 0
    first: int | None = None
    last: int | None = None

    def wire(self) -> JSON:
        return {
            "count": str(self.count),
            "userCount": self.users,
            "firstSeen": _iso_or_none(self.first),
            "lastSeen": _iso_or_none(self.last),
        }


def _seen(issue: _Issue, start: int | None, end: int | None, envs: frozenset[str]) -> _Seen:
    lo, hi = (0, len(issue.times)) if start is None or end is None else issue.span(start, end)
    if not envs:
        if hi <= lo:
            return _Seen()
        return _Seen(hi - lo, issue.user_count(lo, hi), issue.times[lo], issue.times[hi - 1])
    picked = [event for event in issue.events[lo:hi] if event.environment in envs]
    if not picked:
        return _Seen()
    users = {event.user_tag for event in picked if event.user_tag}
    return _Seen(len(picked), len(users), picked[0].us, picked[-1].us)


def _user_tag(user: Mapping[str, Any] | None) -> str | None:
    """Sentry's automatic `user` tag: id, else username, email or ip, in that order."""
    if not user:
        return None
    for key, prefix in (("id", "id"), ("username", "username"), ("email", "email"), ("ip_address", "ip")):
        value = user.get(key)
        if value not in (None, ""):
            return f"{prefix}:{value}"
    return None


def _normalise_user(user: Mapping[str, Any] | None) -> JSON | None:
    if not user:
        return None  # an event without user data has `"user": null`, not `{}`
    out = dict(user)
    if out.get("id") is not None:
        out["id"] = str(out["id"])  # Sentry always sends user.id as a string
    return out


def _tag_pairs(tags: TagsArg) -> list[tuple[str, str]]:
    if tags is None:
        return []
    if isinstance(tags, Mapping):
        return [(str(key), str(value)) for key, value in tags.items()]
    pairs = []
    for tag in tags:
        key, value = (tag["key"], tag["value"]) if isinstance(tag, Mapping) else (tag[0], tag[1])
        pairs.append((str(key), str(value)))
    return pairs


def _metadata(exc_type: str | None, exc_value: str | None, title: str) -> JSON:
    if exc_type:
        return {"type": exc_type, "value": exc_value or ""}
    return {"title": title}


def _issue_fields(issue: _Issue) -> JSON:
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


def simple_event(event: _Event, project_id: str) -> JSON:
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


def full_event(event: _Event, project_id: str) -> JSON:
    """EventSerializer's shape (`full=true`). Simplification: no stack frames, contexts or breadcrumbs."""
    out = simple_event(event, project_id)
    event_type = out.pop("event.type")
    del out["crashFile"]
    exc_type = out["metadata"].get("type")
    entries: list[JSON] = []
    if exc_type:
        exception = {
            "type": exc_type,
            "value": out["metadata"]["value"],
            "module": None,
            "mechanism": {"type": "generic", "handled": not event.issue.is_unhandled},
            "stacktrace": None,
            "rawStacktrace": None,
            "threadId": None,
        }
        entries.append({"type": "exception", "data": {"values": [exception], "excOmitted": None}})
    elif event.message:
        entries.append({"type": "message", "data": {"formatted": event.message}})
    received = max(event.us, event.visible_us or event.us)  # ingestion ends when it became visible
    out.update(
        {
            "type": event_type,
            "dateReceived": iso(received),
            "entries": entries,
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


# ----------------------------------------------------------------------------- issue search


@dataclass(frozen=True)
class _Ordering:
    """Issues with visible events, best first, and the keys to bisect them by."""

    issues: list[_Issue]
    neg_us: list[int]  # -(sort time): ascending, so bisect works on the descending order
    neg_score: list[int]  # -(Sentry's score): whole seconds x 1000, the cursor value


def _build_ordering(issues: Iterable[_Issue], sort: str) -> _Ordering:
    def sort_time(issue: _Issue) -> int:
        return issue.times[-1] if sort == "date" else issue.times[0]

    with_events = (issue for issue in issues if issue.times)
    ranked = sorted(with_events, key=lambda issue: (sort_time(issue), issue.id), reverse=True)
    times = [sort_time(issue) for issue in ranked]
    return _Ordering(ranked, [-t for t in times], [-(t // _US) * 1000 for t in times])


@dataclass(frozen=True)
class _Segment:
    """A slice [lo, hi) of a list of issues ordered by descending score."""

    issues: Sequence[_Issue]
    neg_score: Sequence[int]
    lo: int
    hi: int

    @classmethod
    def of(cls, issues: list[_Issue], scores: list[int]) -> _Segment:
        return cls(issues, [-score for score in scores], 0, len(issues))


class _View:
    """The matching issues in page order: slices of cached orderings, never copied whole."""

    def __init__(self, segments: Iterable[_Segment]) -> None:
        self._segments = [segment for segment in segments if segment.hi > segment.lo]
        self._len = sum(segment.hi - segment.lo for segment in self._segments)

    def __len__(self) -> int:
        return self._len

    def score(self, index: int) -> int:
        for segment in self._segments:
            size = segment.hi - segment.lo
            if index < size:
                return -segment.neg_score[segment.lo + index]
            index -= size
        raise IndexError(index)

    def items(self, start: int, stop: int) -> list[_Issue]:
        out: list[_Issue] = []
        for segment in self._segments:
            size = segment.hi - segment.lo
            if start < size and stop > 0:
                out.extend(segment.issues[segment.lo + max(start, 0) : segment.lo + min(stop, size)])
            start, stop = start - size, stop - size
        return out

    def search(self, value: int) -> int:
        """Index of the first issue whose score is <= value (Sentry's reverse_bisect_left)."""
        position = 0
        for segment in self._segments:
            if segment.neg_score[segment.hi - 1] < -value:  # even its last issue scores above value
                position += segment.hi - segment.lo
                continue
            index = bisect.bisect_left(segment.neg_score, -value, segment.lo, segment.hi)
            return position + index - segment.lo
        return position


def sequence_page(view: _View, cursor: Cursor | None, limit: int) -> tuple[list[_Issue], PageLinks]:
    """Sentry's SequencePaginator.get_result over a descending view."""
    cursor = cursor or Cursor(0, 0, False)
    size = len(view)
    # value 0 means "from the start" (or, going back, from the end)
    position = (size if cursor.is_prev else 0) if cursor.value == 0 else view.search(cursor.value)
    position += cursor.offset
    if cursor.is_prev:
        hi = min(position, size)
        lo = max(hi - limit, 0)
    else:
        lo = max(position, 0)
        hi = min(lo + limit, size)
    if not size:
        here = (cursor.value, cursor.offset)
        return [], PageLinks(Cursor(*here, True), False, Cursor(*here, False), False)
    prev_score = view.score(min(lo, size - 1))
    next_score = view.score(min(hi, size - 1))
    links = PageLinks(
        Cursor(prev_score, lo - min(view.search(prev_score), lo), True),
        lo > 0,
        Cursor(next_score, hi - min(view.search(next_score), hi), False),
        hi < size,
    )
    return view.items(lo, hi), links


@dataclass(frozen=True)
class IssueQuery:
    """What the issue list was asked for, after parsing."""

    start: int
    end: int
    sort: str = "date"
    statuses: frozenset[str] = _STATUSES
    environments: frozenset[str] = frozenset()
    first_seen: tuple[int | None, int | None] = (None, None)  # (at or after, at or before), µs
    last_seen: tuple[int | None, int | None] = (None, None)
    text: str = ""

    @property
    def fast(self) -> bool:
        """Only status and window: answerable from a cached ordering by bisecting."""
        plain = not (self.environments or self.text) and self.first_seen == self.last_seen == (None, None)
        return plain and self.sort in ("date", "new")


def parse_search(query: str, now: int) -> dict[str, Any]:
    """The issue-search tokens the simulator understands, as IssueQuery keyword arguments."""
    statuses = set(_STATUSES)
    bounds: dict[str, list[int | None]] = {"first_seen": [None, None], "last_seen": [None, None]}
    words = []
    for token in _TOKEN_RE.findall(query):
        negated = token.startswith("!")
        key, sep, value = token.lstrip("!").partition(":")
        value = value.strip('"')
        if not sep:
            words.append(token.strip('"'))
        elif key == "is":
            _apply_is(statuses, value, negated)
        elif key in ("firstSeen", "age", "lastSeen") and not negated:
            _apply_relative(bounds["last_seen" if key == "lastSeen" else "first_seen"], value, now)
        # Simplification: other filters (level:, user.id:, release:[a,b], ...) are ignored.
    return {
        "statuses": frozenset(statuses),
        "first_seen": tuple(bounds["first_seen"]),
        "last_seen": tuple(bounds["last_seen"]),
        "text": " ".join(words).lower(),
    }


def _apply_is(statuses: set[str], value: str, negated: bool) -> None:
    status = _IS_STATUS.get(value)
    if status is None:
        if value not in _IS_OTHER:
            raise ApiError(400, f'Invalid value for "is" search, valid values are {sorted(_IS_STATUS)}')
        return
    if negated:
        statuses.discard(status)
    else:
        statuses.intersection_update({status})  # several `is:` tokens are ANDed


def _apply_relative(bound: list[int | None], value: str, now: int) -> None:
    """`-24h`: within the last 24 h (a lower bound); `+24h`: older than 24 h (an upper bound)."""
    if value[:1] not in ("-", "+"):
        return  # Simplification: absolute dates (`>2024-01-01`) are ignored
    match = _PERIOD_RE.match(value[1:])
    if not match:
        raise ApiError(400, f"Invalid date format: {value}")
    moment = now - int(match.group(1)) * _PERIOD_UNITS[match.group(2)] * _US
    if value[0] == "-":
        bound[0] = moment if bound[0] is None else max(bound[0], moment)
    else:
        bound[1] = moment if bound[1] is None else min(bound[1], moment)


def _within(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _date_view(ordering: _Ordering, start: int, end: int) -> _View | None:
    """Issues last seen in [start, end] form one slice of the lastSeen ordering."""
    a = bisect.bisect_left(ordering.neg_us, -end)  # first issue last seen at or before `end`
    if a:
        return None  # issues seen after `end` are scored by their last event in the window: slow path
    b = bisect.bisect_right(ordering.neg_us, -start)  # first issue last seen before `start`
    return _View([_Segment(ordering.issues, ordering.neg_score, a, b)])


def _new_view(ordering: _Ordering, start: int, end: int) -> _View:
    """Issues first seen in [start, end] are one slice; older ones match if they have events in it."""
    a = bisect.bisect_left(ordering.neg_us, -end)
    b = bisect.bisect_right(ordering.neg_us, -start)
    tail = [i for i in ordering.issues[b:] if i.times[-1] >= start and i.has_event_in(start, end)]
    tail_scores = [(issue.times[0] // _US) * 1000 for issue in tail]
    return _View([_Segment(ordering.issues, ordering.neg_score, a, b), _Segment.of(tail, tail_scores)])


def _slow_view(candidates: Iterable[_Issue], query: IssueQuery) -> _View:
    """Filter and score every candidate: for environments, text, seen-bounds and the other sorts."""
    scored = []
    for issue in candidates:
        window = _seen(issue, query.start, query.end, query.environments)
        if not window.count or (query.text and query.text not in issue.title.lower()):
            continue
        if query.first_seen != (None, None) and not _within(issue.times[0], query.first_seen):
            continue
        if query.last_seen != (None, None) and not _within(issue.times[-1], query.last_seen):
            continue
        scored.append((_score(issue, window, query.sort), issue.id, issue))
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return _View([_Segment.of([row[2] for row in scored], [row[0] for row in scored])])


def _score(issue: _Issue, window: _Seen, sort: str) -> int:
    if sort == "new":
        return (issue.times[0] // _US) * 1000
    if sort == "freq":
        return window.count
    if sort == "user":
        return window.users
    # date; Simplification: trends, inbox and recommended are served in date order too
    return ((window.last or 0) // _US) * 1000


# ----------------------------------------------------------------------------- the scenario


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
        self._issues: dict[str, _Issue] = {}
        self._by_number: dict[int, _Issue] = {}
        self._events: dict[str, _Event] = {}  # every event id ever added, visible or not
        self._pending: list[tuple[int, int, _Event]] = []  # heap of events waiting for visible_at
        self._seq = itertools.count()
        self._version = 0  # bumped on every change that can reorder or refilter issues
        self._orderings: dict[tuple[str, frozenset[str]], _Ordering] = {}
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
        _check_status(status)
        with self.lock:
            issue_id = str(issue_id)
            if issue_id in self._issues:
                raise ValueError(f"issue {issue_id} already exists")
            issue = _Issue(
                id=issue_id, number=len(self._issues) + 1, title=title, culprit=culprit,
                exc_type=exc_type, exc_value=exc_value, level=level, status=status, substatus=substatus,
                logger=logger, platform=platform or self.platform, is_unhandled=is_unhandled,
            )  # fmt: skip
            self._issues[issue_id] = issue
            self._by_number[issue.number] = issue
            self._version += 1
            return _issue_fields(issue)

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
        if not _EVENT_ID_RE.match(event_id):
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
            event.visible_us = None if visible_at is None else int(visible_at * _US)
            event.tags = _event_tags(tags, environment, level or issue.level, event.user_tag)
            self._events[event_id] = event
            if environment:
                self.environments.add(environment)
            if event.visible_us is None:
                self._insert(event)
            else:
                heapq.heappush(self._pending, (event.visible_us, next(self._seq), event))
            return simple_event(event, self.project_id)

    def set_status(self, issue_id: str, status: str, substatus: str | None = None) -> None:
        _check_status(status)
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

    def find(self, ref: str, short_prefix: str) -> _Issue | None:
        """An issue by id, or by short id (`PROJECT-1A`), as Sentry's issue routes accept both."""
        issue = self._issues.get(ref)
        prefix = short_prefix.upper() + "-"
        if issue is None and ref.upper().startswith(prefix):
            number = _short_number(ref[len(prefix) :])
            issue = self._by_number.get(number) if number is not None else None
        return issue

    def visible_event(self, event_id: str) -> _Event | None:
        event = self._events.get(event_id.lower())
        if event is None or not event.issue.times:
            return None
        index = bisect.bisect_left(event.issue.times, event.us)
        # visible when it sits in its issue's timeline (pending events are not there yet)
        window = event.issue.events[index : bisect.bisect_right(event.issue.times, event.us)]
        return event if any(candidate is event for candidate in window) else None

    def search(self, query: IssueQuery) -> _View:
        if not query.fast:
            return _slow_view(self.ordering("date", query.statuses).issues, query)
        ordering = self.ordering(query.sort, query.statuses)
        if query.sort == "new":
            return _new_view(ordering, query.start, query.end)
        view = _date_view(ordering, query.start, query.end)
        return view if view is not None else _slow_view(ordering.issues, query)

    def ordering(self, sort: str, statuses: frozenset[str]) -> _Ordering:
        """Issues with visible events, by lastSeen (`date`) or firstSeen (`new`), cached per version."""
        if self._orderings_version != self._version:
            self._orderings.clear()
            self._orderings_version = self._version
        key = (sort, statuses)
        if key not in self._orderings:
            chosen = (issue for issue in self._issues.values() if issue.status in statuses)
            self._orderings[key] = _build_ordering(chosen, sort)
        return self._orderings[key]

    # -- internals

    def _make_event(
        self,
        issue: _Issue,
        event_id: str,
        date_created: datetime,
        user: Mapping[str, Any] | None,
        title: str | None,
        message: str,
        culprit: str | None,
    ) -> _Event:
        wire_user = _normalise_user(user)
        return _Event(
            us=to_us(date_created), event_id=event_id, issue=issue, title=title, message=message,
            culprit=culprit, user=wire_user, user_tag=_user_tag(wire_user), tags=(), exc_type=None,
            exc_value=None, environment=None, platform=None, location=None, visible_us=None,
        )  # fmt: skip

    def _insert(self, event: _Event) -> None:
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


def _check_status(status: str) -> None:
    if status not in _STATUSES:
        raise ValueError(f"status must be one of {sorted(_STATUSES)}: {status!r}")


def _event_tags(
    tags: TagsArg, environment: str | None, level: str, user_tag: str | None
) -> tuple[tuple[str, str], ...]:
    merged = {"level": level}
    if environment:
        merged["environment"] = environment
    if user_tag:
        merged["user"] = user_tag
    merged.update(_tag_pairs(tags))  # the caller's tags win
    return tuple(sorted(merged.items()))  # Sentry lists an event's tags sorted by key


# ----------------------------------------------------------------------------- rate limiting


@dataclass(frozen=True)
class _Ticket:
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

    def enter(self, caller: str, endpoint: str, now: float) -> _Ticket:
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
        return _Ticket(not self.enforce or count <= self.limit, headers)

    def leave(self, caller: str, endpoint: str) -> None:
        with self._lock:
            self._in_flight[(caller, endpoint)] -= 1

    def refusal(self) -> Reply:
        window = int(self.window) if float(self.window).is_integer() else self.window
        return json_reply(429, RATE_LIMITED.format(limit=self.limit, window=window))


# ----------------------------------------------------------------------------- the app

_ROUTES = [
    ("issues", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/$")),
    ("events", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/(?P<issue>[^/]+)/events/$")),
    ("issue", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/(?P<issue>[^/]+)/$")),
    ("events", re.compile(r"^/api/0/(?:issues|groups)/(?P<issue>[^/]+)/events/$")),
    ("issue", re.compile(r"^/api/0/(?:issues|groups)/(?P<issue>[^/]+)/$")),
]


def _route(path: str) -> tuple[str | None, dict[str, str]]:
    for name, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match.groupdict()
    return None, {}


@dataclass(frozen=True)
class _Render:
    """What an issue list answer depends on besides the issue."""

    now: int
    start: int
    end: int
    environments: frozenset[str]
    stats_period: str | None
    collapse: frozenset[str]
    base_url: str


class SentryApp:
    """The simulator as an App (Request -> Reply) for `SimulatorServer`."""

    def __init__(
        self,
        scenario: SentryScenario,
        *,
        token: str,
        organization: str,
        project: str,
        project_id: str = "1",
        clock: Clock = time.time,
        rate_limit: tuple[int, float] | None = None,
        public_base_url: str | None = None,
        forbidden_token: str | None = None,
        scopes: Iterable[str] = ("event:read",),
        organization_id: str = "1",
        project_name: str | None = None,
        concurrent_limit: int = DEFAULT_CONCURRENT_LIMIT,
        retention_days: int = 90,
    ) -> None:
        self.scenario = scenario
        self.token, self.forbidden_token, self.scopes = token, forbidden_token, frozenset(scopes)
        self.organization, self.organization_id = organization, organization_id
        self.project, self.project_id = project, str(project_id)
        self.project_name = project_name or project.replace("-", " ").title()
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.retention_us = retention_days * _DAY * _US
        limit, window = rate_limit or DEFAULT_RATE_LIMIT
        self.limiter = RateLimiter(limit, window, concurrent_limit, enforce=rate_limit is not None)

    def __call__(self, request: Request) -> Reply:
        now = self.clock()
        route, args = _route(request.path)
        caller = self._caller(request)
        endpoint = route or "catchall"
        ticket = self.limiter.enter(caller, endpoint, now)
        try:
            reply = self._answer(request, route, args, ticket, int(now * _US))
        finally:
            self.limiter.leave(caller, endpoint)
        reply.headers.update(ticket.headers)  # Sentry's middleware adds them to every answer
        return reply

    # -- dispatch, auth

    def _answer(
        self, request: Request, route: str | None, args: dict[str, str], ticket: _Ticket, now: int
    ) -> Reply:
        try:
            if not ticket.allowed:
                return self.limiter.refusal()
            if route is None:
                return self._no_route(request)
            if request.method != "GET":
                raise ApiError(405, f'Method "{request.method}" not allowed.')
            self._authorise(request, args)
            if route == "issues":
                return self._list_issues(request, now)
            issue = self._issue(args["issue"])
            if route == "events":
                return self._list_events(request, issue, now)
            return self._issue_detail(request, issue, now)
        except ApiError as error:
            return json_reply(error.status, {"detail": error.detail})
        except Exception:  # a simulator bug still answers like a server instead of dropping the connection
            traceback.print_exc()
            return json_reply(500, {"detail": "Internal Error"})

    def _no_route(self, request: Request) -> Reply:
        if not request.path.endswith("/") and _route(request.path + "/")[0]:
            # Django's APPEND_SLASH: a permanent redirect to the slashed path
            query = request.raw_path.partition("?")[2]
            location = request.path + "/" + (f"?{query}" if query else "")
            return Reply(301, b"", {"Location": location}, "text/html; charset=utf-8")
        raise ApiError(404, NOT_FOUND)

    def _caller(self, request: Request) -> str:
        """Who the rate limit counts against: the token's owner, else the (single) client address."""
        kind, _, credential = (request.header("authorization") or "").partition(" ")
        credential = credential.strip()
        if kind.lower() == "bearer" and credential in (self.token, self.forbidden_token):
            return f"token:{credential}"
        return "ip:127.0.0.1"

    def _authorise(self, request: Request, args: dict[str, str]) -> None:
        header = request.header("authorization")
        if not header:
            raise ApiError(401, NOT_AUTHENTICATED)
        kind, _, credential = header.partition(" ")
        credential = credential.strip()
        if kind.lower() != "bearer" or not credential or credential not in (self.token, self.forbidden_token):
            raise ApiError(401, BAD_CREDENTIALS)
        org = args.get("org")
        if org is not None and org not in (self.organization, self.organization_id):
            raise ApiError(404, NOT_FOUND)
        if credential == self.forbidden_token or not self.scopes & READ_SCOPES:
            raise ApiError(403, FORBIDDEN)

    # -- parameters

    def _window(self, request: Request, now: int) -> tuple[int, int]:
        """[start, end] in µs: statsPeriod overrides start/end; 90 days by default and at most."""
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
            start, end = now - self.retention_us, now
        return max(start, now - self.retention_us), end

    def _environments(self, request: Request) -> frozenset[str]:
        names = frozenset(name for name in request.query.get("environment", []) if name)
        if names - self.scenario.environments:
            raise ApiError(404, NOT_FOUND)  # Sentry: an unknown environment does not exist
        return names

    def _check_projects(self, request: Request) -> None:
        for ref in request.query.get("project", []):
            if ref not in ("-1", self.project, self.project_id):
                raise ApiError(404, NOT_FOUND)

    def _issue(self, ref: str) -> _Issue:
        with self.scenario.lock:
            issue = self.scenario.find(ref, self.project)
        if issue is None:
            raise ApiError(404, NOT_FOUND)
        return issue

    def _base_url(self, request: Request) -> str:
        return self.public_base_url or f"http://{request.header('host') or '127.0.0.1'}"

    def _page_url(self, request: Request) -> str:
        query = query_without_cursor(request.raw_path.partition("?")[2])
        return f"{self._base_url(request)}{request.path}?{query}"

    # -- endpoints

    def _list_issues(self, request: Request, now: int) -> Reply:
        self._check_projects(request)
        limit = _int_param(request, "limit", 100, 100)
        cursor = Cursor.parse(request.param("cursor"))
        start, end = self._window(request, now)
        sort = request.param("sort") or "date"
        if sort not in _SORTS:
            raise ApiError(400, f"Invalid sort: {sort}")
        render = _Render(
            now, start, end, self._environments(request), _group_stats_period(request),
            frozenset(request.query.get("collapse", [])), self._base_url(request),
        )  # fmt: skip
        text = request.param("query", "is:unresolved") or ""
        with self.scenario.lock:
            self.scenario.reveal(now)
            direct = self._direct_hits(request, text)
            if direct is not None:
                headers = {"X-Sentry-Direct-Hit": "1"} if request.param("group") is None else {}
                return json_reply(200, [self._issue_item(issue, render) for issue in direct], headers)
            query = IssueQuery(start, end, sort, environments=render.environments, **parse_search(text, now))
            view = self.scenario.search(query)
            page, links = sequence_page(view, cursor, limit)
            body = [self._issue_item(issue, render) for issue in page]
        headers = {
            "Link": link_header(self._page_url(request), links),
            "X-Hits": str(min(len(view), MAX_HITS)),
            "X-Max-Hits": str(MAX_HITS),
        }
        return json_reply(200, body, headers)

    def _direct_hits(self, request: Request, text: str) -> list[_Issue] | None:
        """`?group=<id>` lists exactly those issues; a query that is an event id or (with
        shortIdLookup=1) a short id answers with that issue. Neither is paginated."""
        groups = request.query.get("group")
        if groups:
            return [issue for ref in groups if (issue := self.scenario.find(ref, self.project)) is not None]
        term = text.strip()
        if _EVENT_ID_RE.match(term.lower()):
            event = self.scenario.visible_event(term)
            return [event.issue] if event else None
        if request.param("shortIdLookup") == "1" and term.upper().startswith(self.project.upper() + "-"):
            issue = self.scenario.find(term, self.project)
            return [issue] if issue is not None else None
        return None

    def _list_events(self, request: Request, issue: _Issue, now: int) -> Reply:
        per_page = _int_param(request, "per_page", 100, 100)
        cursor = Cursor.parse(request.param("cursor"))
        start, end = self._window(request, now)
        environments = self._environments(request)
        render_event = full_event if request.param("full") in ("1", "true") else simple_event
        offset = cursor.offset if cursor else 0
        with self.scenario.lock:
            self.scenario.reveal(now)
            page, has_more = _newest_first(issue, start, end, environments, offset, per_page)
            body = [render_event(event, self.project_id) for event in page]
        # GenericOffsetPaginator: value 0, the offset moves by per_page; it counts no hits (no X-Hits).
        previous = Cursor(0, max(0, offset - per_page), True)
        links = PageLinks(previous, offset > 0, Cursor(0, offset + per_page, False), has_more)
        return json_reply(200, body, {"Link": link_header(self._page_url(request), links)})

    def _issue_detail(self, request: Request, issue: _Issue, now: int) -> Reply:
        environments = self._environments(request)
        collapse = frozenset(request.query.get("collapse", []))
        with self.scenario.lock:
            self.scenario.reveal(now)
            body = self._issue_base(issue, self._base_url(request), now)
            lifetime = _seen(issue, None, None, environments)
            body.update(lifetime.wire())
            body.update(
                {
                    "activity": [
                        {"id": "0", "type": "first_seen", "data": {}, "user": None,
                         "dateCreated": _iso_or_none(lifetime.first)}
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
                    "24h": _buckets(issue, now, _HOUR, 24),
                    "30d": _buckets(issue, now, _DAY, 30),
                }
        return json_reply(200, body)

    # -- issue rendering

    def _issue_base(self, issue: _Issue, base_url: str, now: int) -> JSON:
        body = _issue_fields(issue)
        body["shortId"] = short_id(self.project, issue.number)
        body["permalink"] = f"{base_url}/organizations/{self.organization}/issues/{issue.id}/"
        body["project"] = {
            "id": self.project_id,
            "name": self.project_name,
            "slug": self.project,
            "platform": issue.platform,
        }
        body["substatus"] = _substatus(issue, now)
        return body

    def _issue_item(self, issue: _Issue, render: _Render) -> JSON:
        """One element of the issue list (StreamGroupSerializerSnuba)."""
        window = _seen(issue, render.start, render.end, render.environments)
        if "base" in render.collapse:
            body: JSON = {"id": issue.id, **window.wire()}
        else:
            body = self._issue_base(issue, render.base_url, render.now)
            body.update(window.wire())
            first_seen = _iso_or_none(issue.times[0] if issue.times else None) or iso(render.now)
            body.update(
                {
                    "inbox": {"reason": 0, "reason_details": None, "date_added": first_seen},
                    "owners": {"type": "ownershipRule", "owner": f"team:{self.project_id}",
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
            self._add_stats(body, issue, render)
        return body

    def _add_stats(self, body: JSON, issue: _Issue, render: _Render) -> None:
        if render.stats_period is not None:
            body["stats"] = {render.stats_period: _period_buckets(issue, render)}
        else:
            body["stats"] = {}  # groupStatsPeriod="" turns the sparkline off; the spec still needs the key
        if "lifetime" not in render.collapse:
            body["lifetime"] = {**_seen(issue, None, None, render.environments).wire(), "stats": None}
        if "filtered" not in render.collapse:
            body["filtered"] = None  # non-null only for event-level search conditions


def _int_param(request: Request, name: str, default: int, maximum: int) -> int:
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


def _group_stats_period(request: Request) -> str | None:
    value = request.param("groupStatsPeriod")
    if value is None:
        return "24h"
    if value not in ("", "24h", "14d", "auto"):
        raise ApiError(400, "Invalid groupStatsPeriod")
    return value or None


def _newest_first(
    issue: _Issue, start: int, end: int, environments: frozenset[str], offset: int, limit: int
) -> tuple[list[_Event], bool]:
    """A page of the issue's events in the window, newest first (-timestamp, -event_id)."""
    lo, hi = issue.span(start, end)
    if environments:
        picked = [event for event in reversed(issue.events[lo:hi]) if event.environment in environments]
        return picked[offset : offset + limit], offset + limit < len(picked)
    top = hi - offset
    bottom = max(lo, top - limit)
    return (issue.events[bottom:top][::-1] if top > lo else []), bottom > lo


def _substatus(issue: _Issue, now: int) -> str | None:
    if issue.substatus is not None or issue.status == "resolved":
        return issue.substatus
    if issue.status == "ignored":
        return "archived_until_escalating"
    new = bool(issue.times) and issue.times[0] >= now - 7 * _DAY * _US  # Sentry's "new" lasts 7 days
    return "new" if new else "ongoing"


def _buckets(issue: _Issue, now: int, rollup: int, points: int) -> list[list[int]]:
    """Sparkline counts per `rollup` seconds, the last bucket holding `now`."""
    last = (now // _US) // rollup * rollup
    return _count_buckets(issue, last - (points - 1) * rollup, last, rollup)


def _period_buckets(issue: _Issue, render: _Render) -> list[list[int]]:
    if render.stats_period == "auto":  # buckets over the query window; hourly up to two days
        rollup = _HOUR if render.end - render.start <= 2 * _DAY * _US else _DAY
        first = (render.start // _US) // rollup * rollup
        return _count_buckets(issue, first, (render.end // _US) // rollup * rollup, rollup)
    rollup, points = _GROUP_STATS[render.stats_period or "24h"]
    return _buckets(issue, render.now, rollup, points)


def _count_buckets(issue: _Issue, first: int, last: int, rollup: int) -> list[list[int]]:
    moments = range(first, last + 2 * rollup, rollup)  # bucket edges, one past the last bucket
    edges = [bisect.bisect_left(issue.times, moment * _US) for moment in moments]
    return [[first + i * rollup, edges[i + 1] - edges[i]] for i in range(len(edges) - 1)]


def _tag_facets(issue: _Issue) -> list[JSON]:
    """The issue detail's `tags`: each key with the number of events carrying it."""
    totals: Counter[str] = Counter(key for event in issue.events for key, _ in event.tags)
    return [
        {"key": key, "name": key.replace("_", " ").title(), "totalValues": count}
        for key, count in sorted(totals.items())
    ]


# ----------------------------------------------------------------------------- entry points


def sentry_app(
    scenario: SentryScenario,
    *,
    token: str,
    organization: str,
    project: str,
    project_id: str = "1",
    clock: Clock = time.time,
    rate_limit: tuple[int, float] | None = None,
    public_base_url: str | None = None,
    **options: Any,
) -> SentryApp:
    """The Sentry simulator as an App. `options`: forbidden_token, scopes, organization_id,
    project_name, concurrent_limit, retention_days (see SentryApp)."""
    return SentryApp(
        scenario, token=token, organization=organization, project=project, project_id=project_id,
        clock=clock, rate_limit=rate_limit, public_base_url=public_base_url, **options,
    )  # fmt: skip


def start_sentry(scenario: SentryScenario, **app_kwargs: Any) -> SimulatorServer:
    """A started loopback server for `sentry_app(scenario, **app_kwargs)`; also a context manager."""
    return SimulatorServer(sentry_app(scenario, **app_kwargs)).start()

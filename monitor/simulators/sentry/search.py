"""Issue search: the `query` tokens the simulator understands and the views that answer them.

A plain query (status and window only, sorted by `date` or `new`) is answered by bisecting a
cached ordering; anything else filters and scores every candidate issue.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from monitor.simulators.sentry.paging import Segment, View
from monitor.simulators.sentry.records import STATUSES, Issue, Seen, seen_counts
from monitor.simulators.sentry.wire import PERIOD_RE, PERIOD_UNITS, US, ApiError

SORTS = frozenset({"date", "new", "freq", "user", "trends", "inbox", "recommended"})
_TOKEN_RE = re.compile(r'(?:[^\s"]|"[^"]*")+')
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


@dataclass(frozen=True)
class IssueQuery:
    """What the issue list was asked for, after parsing."""

    start: int
    end: int
    sort: str = "date"
    statuses: frozenset[str] = STATUSES
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
    statuses = set(STATUSES)
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
    match = PERIOD_RE.match(value[1:])
    if not match:
        raise ApiError(400, f"Invalid date format: {value}")
    moment = now - int(match.group(1)) * PERIOD_UNITS[match.group(2)] * US
    if value[0] == "-":
        bound[0] = moment if bound[0] is None else max(bound[0], moment)
    else:
        bound[1] = moment if bound[1] is None else min(bound[1], moment)


# ----------------------------------------------------------------------------- views


@dataclass(frozen=True)
class Ordering:
    """Issues with visible events, best first, and the keys to bisect them by."""

    issues: list[Issue]
    neg_us: list[int]  # -(sort time): ascending, so bisect works on the descending order
    neg_score: list[int]  # -(Sentry's score): whole seconds x 1000, the cursor value


def build_ordering(issues: Iterable[Issue], sort: str) -> Ordering:
    def sort_time(issue: Issue) -> int:
        return issue.times[-1] if sort == "date" else issue.times[0]

    with_events = (issue for issue in issues if issue.times)
    ranked = sorted(with_events, key=lambda issue: (sort_time(issue), issue.id), reverse=True)
    times = [sort_time(issue) for issue in ranked]
    return Ordering(ranked, [-t for t in times], [-(t // US) * 1000 for t in times])


def date_view(ordering: Ordering, start: int, end: int) -> View | None:
    """Issues last seen in [start, end] form one slice of the lastSeen ordering."""
    a = bisect.bisect_left(ordering.neg_us, -end)  # first issue last seen at or before `end`
    if a:
        return None  # issues seen after `end` are scored by their last event in the window: slow path
    b = bisect.bisect_right(ordering.neg_us, -start)  # first issue last seen before `start`
    return View([Segment(ordering.issues, ordering.neg_score, a, b)])


def new_view(ordering: Ordering, start: int, end: int) -> View:
    """Issues first seen in [start, end] are one slice; older ones match if they have events in it."""
    a = bisect.bisect_left(ordering.neg_us, -end)
    b = bisect.bisect_right(ordering.neg_us, -start)
    tail = [i for i in ordering.issues[b:] if i.times[-1] >= start and i.has_event_in(start, end)]
    tail_scores = [(issue.times[0] // US) * 1000 for issue in tail]
    return View([Segment(ordering.issues, ordering.neg_score, a, b), Segment.of(tail, tail_scores)])


def slow_view(candidates: Iterable[Issue], query: IssueQuery) -> View:
    """Filter and score every candidate: for environments, text, seen-bounds and the other sorts."""
    scored = []
    for issue in candidates:
        window = seen_counts(issue, query.start, query.end, query.environments)
        if not window.count or (query.text and query.text not in issue.title.lower()):
            continue
        if query.first_seen != (None, None) and not _within(issue.times[0], query.first_seen):
            continue
        if query.last_seen != (None, None) and not _within(issue.times[-1], query.last_seen):
            continue
        scored.append((_score(issue, window, query.sort), issue.id, issue))
    scored.sort(key=lambda row: (row[0], row[1]), reverse=True)
    return View([Segment.of([row[2] for row in scored], [row[0] for row in scored])])


def _within(value: int | None, bounds: tuple[int | None, int | None]) -> bool:
    low, high = bounds
    return value is not None and (low is None or value >= low) and (high is None or value <= high)


def _score(issue: Issue, window: Seen, sort: str) -> int:
    if sort == "new":
        return (issue.times[0] // US) * 1000
    if sort == "freq":
        return window.count
    if sort == "user":
        return window.users
    # date; Simplification: trends, inbox and recommended are served in date order too
    return ((window.last or 0) // US) * 1000

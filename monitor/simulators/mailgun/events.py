"""Events-API queries and how a page of them is cut from the stored events.

Stored events stay sorted by (timestamp, id) and are searched with `bisect`, so a page
costs O(page + log n). Paging positions are gaps between events rather than indexes, so
a cursor stays valid while events are inserted, as Mailgun stores them late and out of
order.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from monitor.simulators.mailgun.wire import JSON


@dataclass(slots=True)
class StoredEvent:
    timestamp: float
    event_id: str
    visible_at: float | None
    data: JSON

    def visible(self, now: float) -> bool:
        return self.visible_at is None or now >= self.visible_at


def event_key(entry: StoredEvent) -> tuple[float, str]:
    return entry.timestamp, entry.event_id


def _event_ts(entry: StoredEvent) -> float:
    return entry.timestamp


# A gap is a position *between* events, stable when events are inserted: "lo"/"hi" are
# the ends of the query range, [ts, id, "L"|"R"] sits just before/after that event.
Gap = str | list[Any]


@dataclass(frozen=True)
class EventQuery:
    begin: float | None  # None: open (back to retention, or forward without bound)
    end: float | None
    ascending: bool
    limit: int
    filters: tuple[tuple[str, str], ...]  # (field, expression); repeated fields AND


@dataclass(frozen=True)
class EventCursor:
    gap: Gap
    move: int  # +1 = the next page in the query's order, -1 = the previous page


@dataclass(frozen=True)
class EventPage:
    items: list[JSON]
    next: EventCursor
    previous: EventCursor


def cut_event_page(
    entries: list[StoredEvent],
    query: EventQuery,
    cursor: EventCursor,
    accept: Callable[[StoredEvent], bool],
) -> EventPage:
    """The page of accepted `entries` (sorted by `event_key`) that `cursor` points to,
    with the cursors of the pages either side of it."""
    bounds = _index_range(entries, query)
    step = cursor.move * (1 if query.ascending else -1)
    start = _gap_index(entries, cursor.gap, *bounds)
    picked = _collect(entries, start, step, bounds, query.limit, accept)
    if picked:
        near = _gap_at(entries[picked[0]], "L" if step > 0 else "R")
        far = _gap_at(entries[picked[-1]], "R" if step > 0 else "L")
    else:
        near = far = cursor.gap
    items = [entries[i].data for i in picked]
    if cursor.move < 0:
        items.reverse()
        return EventPage(items, EventCursor(near, +1), EventCursor(far, -1))
    return EventPage(items, EventCursor(far, +1), EventCursor(near, -1))


def _index_range(entries: list[StoredEvent], query: EventQuery) -> tuple[int, int]:
    """Array bounds of the range: ascending is [begin, end), descending is (end, begin]."""
    n = len(entries)
    if query.ascending:
        lo = 0 if query.begin is None else bisect_left(entries, query.begin, key=_event_ts)
        hi = n if query.end is None else bisect_left(entries, query.end, key=_event_ts)
    else:
        lo = 0 if query.end is None else bisect_right(entries, query.end, key=_event_ts)
        hi = n if query.begin is None else bisect_right(entries, query.begin, key=_event_ts)
    return lo, max(lo, hi)


def _gap_index(entries: list[StoredEvent], gap: Gap, lo: int, hi: int) -> int:
    if gap == "lo":
        return lo
    if gap == "hi":
        return hi
    ts, event_id, side = cast(list[Any], gap)
    finder = bisect_left if side == "L" else bisect_right
    return min(hi, max(lo, finder(entries, (ts, event_id), key=event_key)))


def _collect(
    entries: list[StoredEvent],
    start: int,
    step: int,
    bounds: tuple[int, int],
    limit: int,
    accept: Callable[[StoredEvent], bool],
) -> list[int]:
    lo, hi = bounds
    picked: list[int] = []
    i = start if step > 0 else start - 1
    while lo <= i < hi and len(picked) < limit:
        if accept(entries[i]):
            picked.append(i)
        i += step
    return picked


def _gap_at(entry: StoredEvent, side: str) -> Gap:
    return [entry.timestamp, entry.event_id, side]

"""Pagination as Sentry's paginators do it: cursors, `Link` headers and the pages themselves.

The issue list pages by value (SequencePaginator over a descending score); an issue's events page
by offset, newest first (GenericOffsetPaginator).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from monitor.simulators.sentry.records import Event, Issue
from monitor.simulators.sentry.wire import INVALID_CURSOR, ApiError


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


# ----------------------------------------------------------------------------- issues, by value


@dataclass(frozen=True)
class Segment:
    """A slice [lo, hi) of a list of issues ordered by descending score."""

    issues: Sequence[Issue]
    neg_score: Sequence[int]
    lo: int
    hi: int

    @classmethod
    def of(cls, issues: list[Issue], scores: list[int]) -> Segment:
        return cls(issues, [-score for score in scores], 0, len(issues))


class View:
    """The matching issues in page order: slices of cached orderings, never copied whole."""

    def __init__(self, segments: Iterable[Segment]) -> None:
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

    def items(self, start: int, stop: int) -> list[Issue]:
        out: list[Issue] = []
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


def sequence_page(view: View, cursor: Cursor | None, limit: int) -> tuple[list[Issue], PageLinks]:
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


# ----------------------------------------------------------------------------- events, by offset


def newest_first(
    issue: Issue, start: int, end: int, environments: frozenset[str], offset: int, limit: int
) -> tuple[list[Event], bool]:
    """A page of the issue's events in the window, newest first (-timestamp, -event_id)."""
    lo, hi = issue.span(start, end)
    if environments:
        picked = [event for event in reversed(issue.events[lo:hi]) if event.environment in environments]
        return picked[offset : offset + limit], offset + limit < len(picked)
    top = hi - offset
    bottom = max(lo, top - limit)
    return (issue.events[bottom:top][::-1] if top > lo else []), bottom > lo


def event_page_links(offset: int, per_page: int, has_more: bool) -> PageLinks:
    """GenericOffsetPaginator's links: value 0, the offset moves by per_page."""
    previous = Cursor(0, max(0, offset - per_page), True)
    return PageLinks(previous, offset > 0, Cursor(0, offset + per_page, False), has_more)

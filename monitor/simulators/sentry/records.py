"""The scenario's records: issues and their events, and the counts Sentry derives from them."""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from monitor.simulators.sentry.wire import JSON, TagsArg, iso_or_none

STATUSES = frozenset({"unresolved", "resolved", "ignored"})


@dataclass(slots=True, eq=False)
class Issue:
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
    events: list[Event] = field(default_factory=list)  # parallel to `times`
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
class Event:
    us: int
    event_id: str
    issue: Issue
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
class Seen:
    """count / userCount / firstSeen / lastSeen over some set of events."""

    count: int = 0
    users: int = 0
    first: int | None = None
    last: int | None = None

    def wire(self) -> JSON:
        return {
            "count": str(self.count),
            "userCount": self.users,
            "firstSeen": iso_or_none(self.first),
            "lastSeen": iso_or_none(self.last),
        }


def seen_counts(issue: Issue, start: int | None, end: int | None, envs: frozenset[str]) -> Seen:
    """The issue's Seen over [start, end] (None, None: its whole visible history), in `envs` if any."""
    lo, hi = (0, len(issue.times)) if start is None or end is None else issue.span(start, end)
    if not envs:
        if hi <= lo:
            return Seen()
        return Seen(hi - lo, issue.user_count(lo, hi), issue.times[lo], issue.times[hi - 1])
    picked = [event for event in issue.events[lo:hi] if event.environment in envs]
    if not picked:
        return Seen()
    users = {event.user_tag for event in picked if event.user_tag}
    return Seen(len(picked), len(users), picked[0].us, picked[-1].us)


def check_status(status: str) -> None:
    if status not in STATUSES:
        raise ValueError(f"status must be one of {sorted(STATUSES)}: {status!r}")


def automatic_user_tag(user: Mapping[str, Any] | None) -> str | None:
    """Sentry's automatic `user` tag: id, else username, email or ip, in that order."""
    if not user:
        return None
    for key, prefix in (("id", "id"), ("username", "username"), ("email", "email"), ("ip_address", "ip")):
        value = user.get(key)
        if value not in (None, ""):
            return f"{prefix}:{value}"
    return None


def normalise_user(user: Mapping[str, Any] | None) -> JSON | None:
    if not user:
        return None  # an event without user data has `"user": null`, not `{}`
    out = dict(user)
    if out.get("id") is not None:
        out["id"] = str(out["id"])  # Sentry always sends user.id as a string
    return out


def event_tags(
    tags: TagsArg, environment: str | None, level: str, user_tag: str | None
) -> tuple[tuple[str, str], ...]:
    merged = {"level": level}
    if environment:
        merged["environment"] = environment
    if user_tag:
        merged["user"] = user_tag
    merged.update(_tag_pairs(tags))  # the caller's tags win
    return tuple(sorted(merged.items()))  # Sentry lists an event's tags sorted by key


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

"""What the simulated Mailgun account holds: suppression lists, events and sent messages.

Builders append and the first read after an out-of-order append re-sorts, so building a
large scenario stays cheap and every request answers from sorted data.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from dataclasses import dataclass
from datetime import UTC, datetime

from monitor.simulators.mailgun.event_shapes import build_event
from monitor.simulators.mailgun.events import (
    EventCursor,
    EventPage,
    EventQuery,
    StoredEvent,
    cut_event_page,
    event_key,
)
from monitor.simulators.mailgun.filters import compile_filters
from monitor.simulators.mailgun.suppressions import Suppression, SuppressionList
from monitor.simulators.mailgun.wire import DEFAULT_DOMAIN, JSON, SUPPRESSION_LISTS, Files, rfc2822_utc


@dataclass(frozen=True)
class SentMessage:
    """One accepted `POST /messages` or `/messages.mime`; `fields` keeps every form value."""

    id: str
    fields: dict[str, list[str]]
    files: Files
    received_at: float

    def field(self, name: str) -> str | None:
        values = self.fields.get(name)
        return values[0] if values else None

    @property
    def sender(self) -> str | None:
        return self.field("from")

    @property
    def to(self) -> list[str]:
        return [a.strip() for value in self.fields.get("to", []) for a in value.split(",") if a.strip()]

    @property
    def subject(self) -> str | None:
        return self.field("subject")

    @property
    def text(self) -> str | None:
        return self.field("text")

    @property
    def html(self) -> str | None:
        return self.field("html")

    @property
    def headers(self) -> dict[str, str]:
        return {k[2:]: v[0] for k, v in self.fields.items() if k.startswith("h:") and v}

    @property
    def options(self) -> dict[str, str]:
        return {k[2:]: v[0] for k, v in self.fields.items() if k.startswith("o:") and v}

    @property
    def mime(self) -> bytes | None:
        parts = self.files.get("message")
        return parts[0][1] if parts else None


class MailgunScenario:
    """What the simulated Mailgun account holds. Mutable and thread-safe: tests may change
    it while a server answers from it. `repeat_next` makes every page's `next` URL equal
    the URL just requested (a server that never ends paging)."""

    def __init__(self, sender_domain: str = DEFAULT_DOMAIN) -> None:
        self.sender_domain = sender_domain
        self.lock = threading.RLock()
        self.repeat_next = False
        self.sent_messages: list[SentMessage] = []
        self._lists = {name: SuppressionList() for name in SUPPRESSION_LISTS}
        self._events: list[StoredEvent] = []
        self._events_dirty = False
        self._ids_by_day: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)
        self._throttled = 0

    # builders: suppressions
    def add_bounce(
        self,
        address: str,
        code: str = "550",
        error: str = "5.1.1 The email account does not exist",
        created_at: datetime | None = None,
    ) -> None:
        self._put("bounces", Suppression(address, _created(created_at), code=str(code), error=error))

    def add_complaint(self, address: str, created_at: datetime | None = None) -> None:
        self._put("complaints", Suppression(address, _created(created_at)))

    def add_unsubscribe(
        self, address: str, tags: list[str] | None = None, created_at: datetime | None = None
    ) -> None:
        tags = list(tags) if tags is not None else ["*"]
        with self.lock:
            existing = self._lists["unsubscribes"].get(address)
            # Unsubscribing again for another tag adds the tag to the same record.
            old_tags = existing.tags if existing else []
            merged = old_tags + [t for t in tags if t not in old_tags]
            self._put("unsubscribes", Suppression(address, _created(created_at), tags=merged))

    def remove(self, list_name: str, address: str) -> bool:
        with self.lock:
            return self._list(list_name).pop(address) is not None

    def addresses(self, list_name: str) -> list[str]:
        """All addresses of one list in API order (a test helper; O(n))."""
        with self.lock:
            return [record.address for record in self._list(list_name).in_order()]

    def _put(self, list_name: str, record: Suppression) -> None:
        with self.lock:
            self._lists[list_name].put(record)

    def _list(self, list_name: str) -> SuppressionList:
        if list_name not in self._lists:
            raise ValueError(f"unknown suppression list {list_name!r}; use one of {SUPPRESSION_LISTS}")
        return self._lists[list_name]

    # builders: events
    def add_event(
        self,
        event: str,
        recipient: str,
        timestamp: float,
        *,
        severity: str | None = None,
        reason: str | None = None,
        code: int | str | None = None,
        message: str | None = None,
        description: str | None = None,
        event_id: str | None = None,
        visible_at: float | None = None,
        subject: str | None = None,
        tags: list[str] | None = None,
    ) -> JSON:
        """Store one Events-API item and return it. `event_id` must be unique within its UTC
        day (as Mailgun guarantees), so the same id may come back on another day.
        The event is listed only once the app's clock reaches `visible_at`."""
        with self.lock:
            day = datetime.fromtimestamp(timestamp, UTC).date().isoformat()
            event_id = event_id or self._fresh_event_id(day)
            if (day, event_id) in self._ids_by_day:
                raise ValueError(f"event id {event_id!r} already used on {day}")
            self._ids_by_day.add((day, event_id))
            data = build_event(
                event,
                recipient,
                timestamp,
                event_id,
                self.sender_domain,
                severity=severity,
                reason=reason,
                code=code,
                message=message,
                description=description,
                subject=subject,
                tags=tags,
            )
            self._store_event(StoredEvent(float(timestamp), event_id, visible_at, data))
            return data

    def _store_event(self, entry: StoredEvent) -> None:
        if self._events and event_key(entry) < event_key(self._events[-1]):
            self._events_dirty = True
        self._events.append(entry)

    def _fresh_event_id(self, day: str) -> str:
        # Deterministic 22-character ids shaped like Mailgun's (url-safe base64 of 16 bytes).
        while True:
            raw = hashlib.sha256(f"event-{next(self._ids)}".encode()).digest()[:16]
            candidate = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            if (day, candidate) not in self._ids_by_day:
                return candidate

    def _sorted_events(self) -> list[StoredEvent]:
        if self._events_dirty:
            self._events.sort(key=event_key)
            self._events_dirty = False
        return self._events

    # rate limiting
    def throttle(self, times: int = 1) -> None:
        """Answer the next `times` authorised requests with 429 (headers from the app)."""
        with self.lock:
            self._throttled += times

    def take_throttle(self) -> bool:
        with self.lock:
            if self._throttled <= 0:
                return False
            self._throttled -= 1
            return True

    # queries used by the app
    def suppression_page(self, list_name: str, mode: str, pivot: str, term: str, limit: int) -> list[JSON]:
        with self.lock:
            return [r.to_json(list_name) for r in self._list(list_name).page(mode, pivot, term, limit)]

    def suppression(self, list_name: str, address: str) -> JSON | None:
        with self.lock:
            record = self._list(list_name).get(address)
            return record.to_json(list_name) if record else None

    def delete_suppression(self, list_name: str, address: str, tag: str | None = None) -> JSON | None:
        """Remove an address (or one unsubscribe tag). Returns the removed item, or None."""
        with self.lock:
            suppressions = self._list(list_name)
            record = suppressions.get(address)
            if record is None:
                return None
            if tag is not None and list_name == "unsubscribes":
                if tag not in record.tags:
                    return None
                record.tags = [t for t in record.tags if t != tag]
                if record.tags:
                    return record.to_json(list_name)
            suppressions.pop(address)
            return record.to_json(list_name)

    def event_page(self, query: EventQuery, cursor: EventCursor, now: float) -> EventPage:
        """The page `cursor` points to, listing only events already visible at `now`."""
        accept = compile_filters(query.filters)
        with self.lock:
            return cut_event_page(
                self._sorted_events(), query, cursor, lambda e: e.visible(now) and accept(e.data)
            )

    def record_message(self, message: SentMessage) -> None:
        with self.lock:
            self.sent_messages.append(message)

    def next_message_number(self) -> int:
        return next(self._ids)


def _created(created_at: datetime | None) -> str:
    return rfc2822_utc(created_at or datetime.now(UTC))

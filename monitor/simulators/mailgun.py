"""A Mailgun HTTP API simulator for tests and benchmarks.

It answers the endpoints the monitor uses the way the real API does on the wire (the
team's Mailgun reference, the OpenAPI spec and responses recorded by Mailgun's clients):

* suppressions: `GET /v3/{domain}/bounces|complaints|unsubscribes`, alphabetical by address,
  paged on an `address` pivot with full paging URLs; single-address `GET` and `DELETE`;
* events: `GET /v3/{domain}/events` with `begin`/`end`/`ascending`/filter expressions, paged
  through opaque tokens in the path (`/v3/{domain}/events/<token>`). Events can become
  visible late, as Mailgun stores them late and out of order;
* sending: `POST /v3/{domain}/messages` and `/messages.mime`, recorded in the scenario;
* errors: 401 plain-text `Forbidden`, 404 `Domain not found`, 400 `{"message": ...}`, and
  429 with `Retry-After` / `X-RateLimit-Reset`.

Transport failures (5xx, truncated or HTML bodies, slow answers, dropped connections)
come from `base.Fault`; the helpers at the end of this module build Mailgun-flavoured ones.

Data stays sorted (suppressions by lower-cased address, events by (timestamp, id)) and is
searched with `bisect`, so one request costs O(page + log n) however big the scenario is.
Sorting is lazy: builders append, and the first read after an out-of-order append re-sorts.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import math
import re
import threading
import time
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser
from email.utils import collapse_rfc2231_value, parsedate_to_datetime
from typing import Any, cast
from urllib.parse import parse_qs, quote, unquote

from monitor.simulators.base import Fault, Reply, Request, SimulatorServer

JSON = dict[str, Any]
Clock = Callable[[], float]
Fields = dict[str, list[str]]  # form field -> values in order
Files = dict[str, list[tuple[str, bytes]]]  # form field -> (filename, content) parts

DEFAULT_API_KEY = "key-simulated-0123456789abcdef"
DEFAULT_DOMAIN = "mg.example.test"
SUPPRESSION_LISTS = ("bounces", "complaints", "unsubscribes")
DEFAULT_LIMIT = 100
SUPPRESSION_LIMIT_MAX = 1000
EVENTS_LIMIT_MAX = 300
SEND_OPTIONS_MAX_BYTES = 16 * 1024

_NOT_FOUND = {
    "bounces": "Address not found in bounces table",
    "complaints": "No spam complaints found for this address",
    "unsubscribes": "Address not found in unsubscribers table",
}
_REMOVED = {
    "bounces": "Bounced address has been removed",
    "complaints": "Spam complaint has been removed",
    "unsubscribes": "Unsubscribe event has been removed",
}
_UNSUBSCRIBE_TAG_MISSING = "Unsubscribe event for this tag does not exist"

# Mailgun's internal codes for sends it drops because the address is already suppressed.
_SUPPRESSED_STATUS = {
    "suppress-bounce": (605, "Not delivering to previously bounced address"),
    "suppress-unsubscribe": (606, "Not delivering to unsubscribed address"),
    "suppress-complaint": (607, "Not delivering to a user who marked your messages as spam"),
}

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc2822_utc(moment: datetime) -> str:
    """Format like Mailgun's `created_at`: `Sun, 26 Jan 2025 07:29:04 UTC`. Naive means UTC.
    Names come from tables, not strftime, so the process locale cannot change them."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (
        f"{_DAYS[moment.weekday()]}, {moment.day:02d} {_MONTHS[moment.month - 1]} "
        f"{moment.year} {moment:%H:%M:%S} UTC"
    )


# --------------------------------------------------------------------------- suppressions


@dataclass
class _Suppression:
    address: str
    created_at: str
    code: str = ""
    error: str = ""
    tags: list[str] = field(default_factory=list)

    def to_json(self, list_name: str) -> JSON:
        # Key order follows the recorded responses.
        if list_name == "bounces":
            return {
                "address": self.address,
                "code": self.code,
                "error": self.error,
                "created_at": self.created_at,
            }
        if list_name == "unsubscribes":
            return {"address": self.address, "tags": list(self.tags), "created_at": self.created_at}
        return {"address": self.address, "created_at": self.created_at}


class _SuppressionList:
    """Records keyed and ordered by lower-cased address: Mailgun treats addresses
    case-insensitively but answers with the case they were added with."""

    def __init__(self) -> None:
        self._records: dict[str, _Suppression] = {}
        self._keys: list[str] = []
        self._dirty = False

    def __len__(self) -> int:
        return len(self._records)

    def put(self, record: _Suppression) -> None:
        key = record.address.lower()
        if key not in self._records:
            if self._keys and key < self._keys[-1]:
                self._dirty = True
            self._keys.append(key)
        self._records[key] = record

    def get(self, address: str) -> _Suppression | None:
        return self._records.get(address.lower())

    def pop(self, address: str) -> _Suppression | None:
        key = address.lower()
        record = self._records.pop(key, None)
        if record is not None:
            keys = self.sorted_keys()
            del keys[bisect_left(keys, key)]
        return record

    def in_order(self) -> list[_Suppression]:
        return [self._records[key] for key in self.sorted_keys()]

    def sorted_keys(self) -> list[str]:
        if self._dirty:
            self._keys.sort()
            self._dirty = False
        return self._keys

    def page(self, mode: str, pivot: str, term: str, limit: int) -> list[_Suppression]:
        keys = self.sorted_keys()
        lo, hi = _prefix_range(keys, term.lower())
        if mode == "next":
            start = max(lo, bisect_right(keys, pivot.lower()))
            chosen = keys[start : min(start + limit, hi)]
        elif mode == "previous":
            stop = min(hi, bisect_left(keys, pivot.lower()))
            chosen = keys[max(lo, stop - limit) : stop]
        elif mode == "last":
            chosen = keys[max(lo, hi - limit) : hi]
        else:
            chosen = keys[lo : min(lo + limit, hi)]
        return [self._records[key] for key in chosen]


def _prefix_range(keys: list[str], prefix: str) -> tuple[int, int]:
    if not prefix:
        return 0, len(keys)
    return bisect_left(keys, prefix), bisect_left(keys, prefix + "\U0010ffff")


# --------------------------------------------------------------------------------- events


@dataclass(slots=True)
class _StoredEvent:
    timestamp: float
    event_id: str
    visible_at: float | None
    data: JSON

    def visible(self, now: float) -> bool:
        return self.visible_at is None or now >= self.visible_at


def _event_key(entry: _StoredEvent) -> tuple[float, str]:
    return entry.timestamp, entry.event_id


def _event_ts(entry: _StoredEvent) -> float:
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


def _index_range(entries: list[_StoredEvent], query: EventQuery) -> tuple[int, int]:
    """Array bounds of the range: ascending is [begin, end), descending is (end, begin]."""
    n = len(entries)
    if query.ascending:
        lo = 0 if query.begin is None else bisect_left(entries, query.begin, key=_event_ts)
        hi = n if query.end is None else bisect_left(entries, query.end, key=_event_ts)
    else:
        lo = 0 if query.end is None else bisect_right(entries, query.end, key=_event_ts)
        hi = n if query.begin is None else bisect_right(entries, query.begin, key=_event_ts)
    return lo, max(lo, hi)


def _gap_index(entries: list[_StoredEvent], gap: Gap, lo: int, hi: int) -> int:
    if gap == "lo":
        return lo
    if gap == "hi":
        return hi
    ts, event_id, side = cast(list[Any], gap)
    finder = bisect_left if side == "L" else bisect_right
    return min(hi, max(lo, finder(entries, (ts, event_id), key=_event_key)))


def _collect(
    entries: list[_StoredEvent],
    start: int,
    step: int,
    bounds: tuple[int, int],
    limit: int,
    accept: Callable[[_StoredEvent], bool],
) -> list[int]:
    lo, hi = bounds
    picked: list[int] = []
    i = start if step > 0 else start - 1
    while lo <= i < hi and len(picked) < limit:
        if accept(entries[i]):
            picked.append(i)
        i += step
    return picked


def _gap_at(entry: _StoredEvent, side: str) -> Gap:
    return [entry.timestamp, entry.event_id, side]


# ------------------------------------------------------------------------- event filters

Matcher = Callable[[set[str]], bool]
_TOKEN_RE = re.compile(r'\s*(\(|\)|"[^"]*"|[^\s()"]+)')


def _either(a: Matcher, b: Matcher) -> Matcher:
    return lambda values: a(values) or b(values)


def _both(a: Matcher, b: Matcher) -> Matcher:
    return lambda values: a(values) and b(values)


def _negate(a: Matcher) -> Matcher:
    return lambda values: not a(values)


def _term(value: str) -> Matcher:
    return lambda values: value in values


class _ExpressionParser:
    """Mailgun filter expressions: `a b` / `a AND b`, `a OR b`, `NOT a`, `"a b"`, parentheses."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while text[pos:].strip():
            match = _TOKEN_RE.match(text, pos)
            if match is None:
                raise ValueError(f"cannot parse {text[pos:]!r}")
            self.tokens.append(match.group(1))
            pos = match.end()
        self.pos = 0

    def parse(self) -> Matcher:
        matcher = self._or()
        if self._peek() is not None:
            raise ValueError(f"unexpected {self._peek()!r}")
        return matcher

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str | None:
        token = self._peek()
        self.pos += 1
        return token

    def _or(self) -> Matcher:
        matcher = self._and()
        while self._peek() == "OR":
            self.pos += 1
            matcher = _either(matcher, self._and())
        return matcher

    def _and(self) -> Matcher:
        matcher = self._not()
        while self._peek() not in (None, "OR", ")"):
            if self._peek() == "AND":
                self.pos += 1
            matcher = _both(matcher, self._not())
        return matcher

    def _not(self) -> Matcher:
        if self._peek() == "NOT":
            self.pos += 1
            return _negate(self._not())
        return self._atom()

    def _atom(self) -> Matcher:
        word = self._take()
        if word == "(":
            matcher = self._or()
            if self._take() != ")":
                raise ValueError("missing ')'")
            return matcher
        if word is None or word in (")", "OR", "AND"):
            raise ValueError(f"expected a value, got {word!r}")
        return _term(word.strip('"').lower())


def _headers(data: JSON) -> JSON:
    return cast(JSON, data.get("message", {}).get("headers", {}))


_FILTER_FIELDS: dict[str, Callable[[JSON], list[str]]] = {
    "event": lambda d: [d["event"]],
    "severity": lambda d: [d["severity"]] if "severity" in d else [],
    "recipient": lambda d: [d.get("recipient", "")],
    "tags": lambda d: list(d.get("tags", [])),
    "from": lambda d: [_headers(d).get("from", "")],
    "to": lambda d: [_headers(d).get("to", "")],
    "subject": lambda d: [_headers(d).get("subject", "")],
    "message-id": lambda d: [_headers(d).get("message-id", "")],
}


def compile_filters(filters: Iterable[tuple[str, str]]) -> Callable[[JSON], bool]:
    """Compile (field, expression) pairs into one predicate; raises ValueError on bad syntax."""
    compiled = [(_FILTER_FIELDS[name], _ExpressionParser(expr).parse()) for name, expr in filters]

    def accept(data: JSON) -> bool:
        return all(match({str(v).lower() for v in getter(data)}) for getter, match in compiled)

    return accept


# ------------------------------------------------------------------------- event shapes


def _log_level(event: str, severity: str | None) -> str:
    if event == "failed":
        return "error" if severity == "permanent" else "warn"
    return "warn" if event in ("rejected", "complained") else "info"


def _failure_fields(
    recipient_domain: str,
    severity: str,
    reason: str | None,
    code: int | str | None,
    message: str | None,
    description: str | None,
) -> JSON:
    permanent = severity == "permanent"
    reason = reason or ("bounce" if permanent else "generic")
    if reason in _SUPPRESSED_STATUS:
        # Dropped before any SMTP session: no mx-host, no enhanced code.
        default_code, default_description = _SUPPRESSED_STATUS[reason]
        status: JSON = {
            "attempt-no": 1,
            "code": default_code if code is None else code,
            "message": message or "",
            "description": default_description if description is None else description,
            "session-seconds": 0.0,
        }
    else:
        enhanced = "5.1.1" if permanent else "4.7.1"
        default_message = (
            "5.1.1 The email account that you tried to reach does not exist."
            if permanent
            else "4.7.1 Try again later"
        )
        status = {
            "attempt-no": 1,
            "code": (550 if permanent else 451) if code is None else code,
            "message": default_message if message is None else message,
            "description": description or "",
            "enhanced-code": enhanced,
            "bounce-code": enhanced,
            "mx-host": f"mx.{recipient_domain}",
            "session-seconds": 0.42,
            "tls": True,
            "utf8": True,
            "certificate-verified": True,
            "first-delivery-attempt-seconds": 0.12,
        }
        if not permanent:
            status["retry-seconds"] = 600
    return {"severity": severity, "reason": reason, "delivery-status": status}


def _build_event(
    event: str,
    recipient: str,
    timestamp: float,
    event_id: str,
    sender_domain: str,
    *,
    severity: str | None,
    reason: str | None,
    code: int | str | None,
    message: str | None,
    description: str | None,
    subject: str | None,
    tags: list[str] | None,
) -> JSON:
    recipient_domain = recipient.rpartition("@")[2].lower()
    stamp = datetime.fromtimestamp(timestamp, UTC).strftime("%Y%m%d%H%M%S")
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:16].upper()
    if event == "failed":
        severity = severity or "permanent"
    data: JSON = {
        "id": event_id,
        "event": event,
        "timestamp": float(timestamp),
        "log-level": _log_level(event, severity),
        "recipient": recipient,
        "recipient-domain": recipient_domain,
        "tags": list(tags or []),
        "campaigns": [],
        "user-variables": {},
        "flags": {
            "is-authenticated": True,
            "is-routed": False,
            "is-system-test": False,
            "is-test-mode": False,
        },
        "message": {
            "headers": {
                "message-id": f"{stamp}.1.{digest}@{sender_domain}",  # events drop the <>
                "from": f"CustomersDot <noreply@{sender_domain}>",
                "to": recipient,
                "subject": subject if subject is not None else "Your purchase",
            },
            "attachments": [],
            "size": 2048,
        },
    }
    if event in ("accepted", "delivered", "failed"):
        data["envelope"] = {
            "sender": f"noreply@{sender_domain}",
            "transport": "smtp",
            "sending-ip": "198.51.100.7",
            "targets": recipient,
        }
    if event == "failed":
        failure = _failure_fields(recipient_domain, cast(str, severity), reason, code, message, description)
        data.update(failure)
    elif event == "delivered":
        data["delivery-status"] = {
            "attempt-no": 1,
            "code": 250 if code is None else code,
            "message": message or "OK",
            "description": description or "",
            "mx-host": f"mx.{recipient_domain}",
            "tls": True,
            "utf8": True,
            "certificate-verified": True,
            "session-seconds": 0.42,
        }
    elif event == "rejected":
        data["reject"] = {"reason": reason or "", "description": description or ""}
    return data


# ----------------------------------------------------------------------------- messages


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


# ----------------------------------------------------------------------------- scenario


class MailgunScenario:
    """What the simulated Mailgun account holds. Mutable and thread-safe: tests may change
    it while a server answers from it. `repeat_next` makes every page's `next` URL equal
    the URL just requested (a server that never ends paging)."""

    def __init__(self, sender_domain: str = DEFAULT_DOMAIN) -> None:
        self.sender_domain = sender_domain
        self.lock = threading.RLock()
        self.repeat_next = False
        self.sent_messages: list[SentMessage] = []
        self._lists = {name: _SuppressionList() for name in SUPPRESSION_LISTS}
        self._events: list[_StoredEvent] = []
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
        self._put("bounces", _Suppression(address, _created(created_at), code=str(code), error=error))

    def add_complaint(self, address: str, created_at: datetime | None = None) -> None:
        self._put("complaints", _Suppression(address, _created(created_at)))

    def add_unsubscribe(
        self, address: str, tags: list[str] | None = None, created_at: datetime | None = None
    ) -> None:
        tags = list(tags) if tags is not None else ["*"]
        with self.lock:
            existing = self._lists["unsubscribes"].get(address)
            # Unsubscribing again for another tag adds the tag to the same record.
            old_tags = existing.tags if existing else []
            merged = old_tags + [t for t in tags if t not in old_tags]
            self._put("unsubscribes", _Suppression(address, _created(created_at), tags=merged))

    def remove(self, list_name: str, address: str) -> bool:
        with self.lock:
            return self._list(list_name).pop(address) is not None

    def addresses(self, list_name: str) -> list[str]:
        """All addresses of one list in API order (a test helper; O(n))."""
        with self.lock:
            return [record.address for record in self._list(list_name).in_order()]

    def _put(self, list_name: str, record: _Suppression) -> None:
        with self.lock:
            self._lists[list_name].put(record)

    def _list(self, list_name: str) -> _SuppressionList:
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
            data = _build_event(
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
            entry = _StoredEvent(float(timestamp), event_id, visible_at, data)
            if self._events and _event_key(entry) < _event_key(self._events[-1]):
                self._events_dirty = True
            self._events.append(entry)
            return data

    def _fresh_event_id(self, day: str) -> str:
        # Deterministic 22-character ids shaped like Mailgun's (url-safe base64 of 16 bytes).
        while True:
            raw = hashlib.sha256(f"event-{next(self._ids)}".encode()).digest()[:16]
            candidate = base64.urlsafe_b64encode(raw).decode().rstrip("=")
            if (day, candidate) not in self._ids_by_day:
                return candidate

    def _sorted_events(self) -> list[_StoredEvent]:
        if self._events_dirty:
            self._events.sort(key=_event_key)
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
        accept = compile_filters(query.filters)
        with self.lock:
            entries = self._sorted_events()
            bounds = _index_range(entries, query)
            step = cursor.move * (1 if query.ascending else -1)
            start = _gap_index(entries, cursor.gap, *bounds)
            picked = _collect(
                entries, start, step, bounds, query.limit, lambda e: e.visible(now) and accept(e.data)
            )
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

    def record_message(self, message: SentMessage) -> None:
        with self.lock:
            self.sent_messages.append(message)

    def next_message_number(self) -> int:
        return next(self._ids)


def _created(created_at: datetime | None) -> str:
    return rfc2822_utc(created_at or datetime.now(UTC))


# -------------------------------------------------------------------------- HTTP helpers


class _BadRequest(Exception):
    """Answered as 400 {"message": str(exc)}."""


def _json_reply(status: int, payload: JSON, headers: dict[str, str] | None = None) -> Reply:
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    return Reply(status, body, headers or {}, "application/json")


def _text_reply(status: int, text: str) -> Reply:
    return Reply(status, text.encode(), {}, "text/plain")


def _limit(request: Request, maximum: int) -> int:
    raw = request.param("limit")
    if raw is None or raw == "":
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise _BadRequest(f"Invalid limit: {raw!r} is not an integer") from None
    if not 1 <= limit <= maximum:
        raise _BadRequest(f"Invalid limit: must be between 1 and {maximum}")
    return limit


def _parse_time(name: str, raw: str) -> float:
    """Epoch seconds (floats allowed) or an RFC 2822 date; a naive date (`-0000`) is UTC."""
    try:
        value = float(raw)
    except ValueError:
        try:
            moment = parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            raise _BadRequest(f"Invalid time value for '{name}': {raw!r}") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return moment.timestamp()
    if not math.isfinite(value):
        raise _BadRequest(f"Invalid time value for '{name}': {raw!r}")
    return value


def _parse_ascending(request: Request) -> bool | None:
    raw = request.param("ascending")
    if raw is None:
        return None
    if raw not in ("yes", "no"):
        raise _BadRequest(f"Invalid value for 'ascending': {raw!r}, must be 'yes' or 'no'")
    return raw == "yes"


def _direction(begin: float | None, end: float | None, ascending: bool | None) -> bool:
    """The range's direction: `ascending` is required without `end`; with both, a
    contradiction between `ascending` and begin/end is an error."""
    if end is None:
        if ascending is None:
            raise _BadRequest("'ascending' must be provided when 'end' is not specified")
        return ascending
    if begin is None or begin == end:
        return True if ascending is None else ascending
    implied = begin < end
    if ascending is not None and ascending != implied:
        raise _BadRequest("'ascending' contradicts the time range given by 'begin' and 'end'")
    return implied


def parse_event_query(request: Request, now: float) -> EventQuery:
    begin_raw, end_raw = request.param("begin"), request.param("end")
    begin = _parse_time("begin", begin_raw) if begin_raw else None
    end = _parse_time("end", end_raw) if end_raw else None
    ascending = _parse_ascending(request)
    if end is not None and begin is None and ascending is None:
        begin = now  # Mailgun's default start; the direction then follows from `end`
    ascending = _direction(begin, end, ascending)
    filters = tuple((name, value) for name in _FILTER_FIELDS for value in request.query.get(name, []))
    try:
        compile_filters(filters)
    except ValueError as exc:
        raise _BadRequest(f"Invalid filter expression: {exc}") from None
    return EventQuery(begin, end, ascending, _limit(request, EVENTS_LIMIT_MAX), filters)


def encode_event_token(query: EventQuery, cursor: EventCursor) -> str:
    # Shaped like Mailgun's (base64 of a JSON list starting `[{"b":`), url-safe for the path.
    payload = [
        {"b": query.begin, "e": query.end, "a": query.ascending, "l": query.limit, "f": list(query.filters)},
        {"g": cursor.gap, "m": cursor.move},
    ]
    raw = json.dumps(payload, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_event_token(token: str) -> tuple[EventQuery, EventCursor]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        head, position = json.loads(raw)
        filters = tuple((str(name), str(expr)) for name, expr in head["f"])
        compile_filters(filters)
        query = EventQuery(head["b"], head["e"], bool(head["a"]), int(head["l"]), filters)
        gap = position["g"]
        if not (gap in ("lo", "hi") or (isinstance(gap, list) and len(gap) == 3 and gap[2] in ("L", "R"))):
            raise ValueError(gap)
        return query, EventCursor(gap, 1 if position["m"] > 0 else -1)
    except (binascii.Error, ValueError, TypeError, KeyError, IndexError):
        raise _BadRequest("Invalid page token") from None


def parse_form(request: Request) -> tuple[Fields, Files]:
    """Form fields and file parts of a urlencoded or multipart/form-data body."""
    content_type = request.header("content-type") or ""
    if not content_type.lower().startswith("multipart/form-data"):
        try:
            return parse_qs(request.body.decode("utf-8"), keep_blank_values=True), {}
        except UnicodeDecodeError:
            raise _BadRequest("Request body is not valid UTF-8") from None
    fields: Fields = {}
    files: Files = {}
    for headers, content in _multipart_parts(content_type, request.body):
        name = headers.get_param("name", header="content-disposition")
        if name is None:
            continue
        filename = headers.get_filename()
        if filename is not None:
            files.setdefault(collapse_rfc2231_value(name), []).append((filename, content))
        else:
            charset = headers.get_content_charset() or "utf-8"
            fields.setdefault(collapse_rfc2231_value(name), []).append(content.decode(charset, "replace"))
    return fields, files


def _multipart_parts(content_type: str, body: bytes) -> Iterator[tuple[Message, bytes]]:
    """Split a multipart body by hand: the email package would parse a `message/rfc822`
    part (the MIME upload) into a nested message and lose its exact bytes."""
    envelope = Message()
    envelope["Content-Type"] = content_type
    boundary = envelope.get_boundary()
    if not boundary:
        raise _BadRequest("Malformed multipart body: no boundary")
    chunks = (b"\r\n" + body).split(b"\r\n--" + boundary.encode())
    if len(chunks) < 2:
        raise _BadRequest("Malformed multipart body")
    for chunk in chunks[1:]:
        if chunk.startswith(b"--"):
            return  # the closing delimiter
        # After the delimiter: optional padding, CRLF, the part's headers, a blank line, content.
        head, separator, content = chunk.lstrip(b" \t").removeprefix(b"\r\n").partition(b"\r\n\r\n")
        if not separator:
            raise _BadRequest("Malformed multipart body: part without headers")
        yield BytesHeaderParser().parsebytes(head + b"\r\n\r\n"), content


# ----------------------------------------------------------------------------------- app


class MailgunApp:
    """The request handler (`base.App`); build it with `mailgun_app`."""

    def __init__(
        self,
        scenario: MailgunScenario,
        *,
        api_key: str,
        domain: str,
        clock: Clock = time.time,
        public_base_url: str | None = None,
        retry_after: float | None = None,
        rate_limit_reset: float | None = None,
    ) -> None:
        self.scenario = scenario
        self.api_key = api_key
        self.domain = domain
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.retry_after = retry_after
        self.rate_limit_reset = rate_limit_reset

    def __call__(self, request: Request) -> Reply:
        if not self._authorized(request):
            return _text_reply(401, "Forbidden")
        if self.scenario.take_throttle():
            return self._too_many_requests()
        try:
            return self._dispatch(request)
        except _BadRequest as exc:
            return _json_reply(400, {"message": str(exc)})

    def _authorized(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == "api" and hmac.compare_digest(password.encode(), self.api_key.encode())

    def _too_many_requests(self) -> Reply:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = _number(self.retry_after)
        if self.rate_limit_reset is not None:
            # Small values are "seconds from now"; epoch-sized values are used as given.
            reset = self.rate_limit_reset
            headers["X-RateLimit-Reset"] = _number(reset if reset > 1e9 else self.clock() + reset)
        return _json_reply(429, {"message": "Too Many Requests"}, headers)

    def _dispatch(self, request: Request) -> Reply:
        parts = request.path.split("/")
        if len(parts) < 4 or parts[0] != "" or parts[1] != "v3" or not all(parts[3:]):
            return _text_reply(404, "404 page not found")
        domain, rest = unquote(parts[2]), parts[3:]
        handler = self._route(request.method, rest)
        if handler is None:
            return _text_reply(404, "404 page not found")
        if domain.lower() != self.domain.lower():
            return _json_reply(404, {"message": f"Domain not found: {domain}"})
        return handler(request)

    def _route(self, method: str, rest: list[str]) -> Callable[[Request], Reply] | None:
        head = rest[0]
        routes: dict[tuple[str, int], Callable[[Request], Reply]] = {}
        if head in SUPPRESSION_LISTS:
            address = unquote(rest[1]) if len(rest) == 2 else ""
            routes = {
                ("GET", 1): lambda r: self._list_suppressions(r, head),
                ("GET", 2): lambda r: self._get_suppression(head, address),
                ("DELETE", 2): lambda r: self._delete_suppression(r, head, address),
            }
        elif head == "events":
            routes = {("GET", 1): self._events, ("GET", 2): lambda r: self._events_token(r, rest[1])}
        elif head in ("messages", "messages.mime"):
            routes = {("POST", 1): self._send if head == "messages" else self._send_mime}
        if not any(n == len(rest) for _, n in routes):
            return None
        return routes.get((method, len(rest)), _method_not_allowed)

    def _base_url(self, request: Request) -> str:
        return self.public_base_url or f"http://{request.header('host') or '127.0.0.1'}"

    # suppressions
    def _list_suppressions(self, request: Request, list_name: str) -> Reply:
        limit = _limit(request, SUPPRESSION_LIMIT_MAX)
        mode = request.param("page", "") or "first"
        if mode not in ("first", "next", "previous", "last"):
            raise _BadRequest(f"Invalid page: {mode!r}, must be 'next', 'previous', 'last' or empty")
        pivot = request.param("address", "") or ""
        term = request.param("term", "") or ""
        items = self.scenario.suppression_page(list_name, mode, pivot, term, limit)
        root = f"{self._base_url(request)}/v3/{self.domain}/{list_name}"
        tail = f"limit={limit}&term={_q(term)}"
        after = items[-1]["address"] if items else pivot
        before = items[0]["address"] if items else pivot
        paging = {
            "first": f"{root}?{tail}",
            "last": f"{root}?page=last&{tail}",
            "next": f"{root}?page=next&address={_q(after)}&{tail}",
            "previous": f"{root}?page=previous&address={_q(before)}&{tail}",
        }
        if self.scenario.repeat_next:
            paging["next"] = self._base_url(request) + request.raw_path
        return _json_reply(200, {"items": items, "paging": paging})

    def _get_suppression(self, list_name: str, address: str) -> Reply:
        item = self.scenario.suppression(list_name, address)
        if item is None:
            return _json_reply(404, {"message": _NOT_FOUND[list_name]})
        return _json_reply(200, item)

    def _delete_suppression(self, request: Request, list_name: str, address: str) -> Reply:
        tag = request.param("tag") if list_name == "unsubscribes" else None
        removed = self.scenario.delete_suppression(list_name, address, tag or None)
        if removed is None:
            missing = _UNSUBSCRIBE_TAG_MISSING if list_name == "unsubscribes" else _NOT_FOUND[list_name]
            return _json_reply(404, {"message": missing})
        return _json_reply(200, {"address": removed["address"], "message": _REMOVED[list_name]})

    # events
    def _events(self, request: Request) -> Reply:
        query = parse_event_query(request, self.clock())
        return self._events_page(request, query, EventCursor("lo" if query.ascending else "hi", +1))

    def _events_token(self, request: Request, token: str) -> Reply:
        query, cursor = decode_event_token(token)
        return self._events_page(request, query, cursor)

    def _events_page(self, request: Request, query: EventQuery, cursor: EventCursor) -> Reply:
        # Visibility is decided now, so a re-request of the same token can find late events.
        page = self.scenario.event_page(query, cursor, self.clock())
        root = f"{self._base_url(request)}/v3/{self.domain}/events/"
        start, end = ("lo", "hi") if query.ascending else ("hi", "lo")
        paging = {
            "next": root + encode_event_token(query, page.next),
            "previous": root + encode_event_token(query, page.previous),
            "first": root + encode_event_token(query, EventCursor(start, +1)),
            "last": root + encode_event_token(query, EventCursor(end, -1)),
        }
        if self.scenario.repeat_next:
            paging["next"] = self._base_url(request) + request.raw_path
        with self.scenario.lock:  # items are the stored dicts; serialise them consistently
            return _json_reply(200, {"items": page.items, "paging": paging})

    # sending
    def _send(self, request: Request) -> Reply:
        fields, files = parse_form(request)
        for name in ("from", "to", "subject"):
            if not any(v.strip() for v in fields.get(name, [])):
                raise _BadRequest(f"{name} parameter is missing")
        if not any(fields.get(name) for name in ("text", "html", "amp-html", "template")):
            raise _BadRequest(
                "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"
            )
        return self._accept_message(fields, files)

    def _send_mime(self, request: Request) -> Reply:
        fields, files = parse_form(request)
        if not any(v.strip() for v in fields.get("to", [])):
            raise _BadRequest("to parameter is missing")
        if "message" not in files:
            raise _BadRequest("message parameter is missing")
        return self._accept_message(fields, files)

    def _accept_message(self, fields: Fields, files: Files) -> Reply:
        options = [(k, v) for k, vs in fields.items() if k[:2] in ("o:", "h:", "v:", "t:") for v in vs]
        if sum(len(k) + len(v) for k, v in options) > SEND_OPTIONS_MAX_BYTES:
            raise _BadRequest(
                "Send options (parameters starting with o:, h:, v:, or t:) are limited to 16KB total"
            )
        now = self.clock()
        number = self.scenario.next_message_number()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
        suffix = hashlib.sha256(f"{now}-{number}".encode()).hexdigest()[:8].upper()
        message_id = f"<{stamp}.{number}.{suffix}@{self.domain}>"
        self.scenario.record_message(SentMessage(message_id, fields, files, now))
        return _json_reply(200, {"id": message_id, "message": "Queued. Thank you."})


def _method_not_allowed(request: Request) -> Reply:
    return _text_reply(405, "Method Not Allowed")


def _q(value: str) -> str:
    # Escapes `@` and `+` as the recorded URLs do (%40, %2B).
    return quote(value, safe="")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


def mailgun_app(
    scenario: MailgunScenario,
    *,
    api_key: str,
    domain: str,
    clock: Clock = time.time,
    public_base_url: str | None = None,
    retry_after: float | None = None,
    rate_limit_reset: float | None = None,
) -> MailgunApp:
    """The simulator as a `base.App`. `public_base_url` (default: from the Host header)
    prefixes paging URLs. `retry_after` / `rate_limit_reset` set the headers of the 429s
    produced by `scenario.throttle()`; `rate_limit_reset` is seconds from now, or an
    absolute epoch if it is larger than 1e9."""
    return MailgunApp(
        scenario,
        api_key=api_key,
        domain=domain,
        clock=clock,
        public_base_url=public_base_url,
        retry_after=retry_after,
        rate_limit_reset=rate_limit_reset,
    )


# -------------------------------------------------------------------------------- server


class MailgunServer(SimulatorServer):
    """A SimulatorServer that keeps its app and scenario at hand, may be started before
    `with` (start is idempotent), and stops within ~50 ms so many short-lived servers
    keep test runs fast."""

    app: MailgunApp

    def __init__(self, app: MailgunApp) -> None:
        super().__init__(app)
        self.scenario = app.scenario

    def start(self) -> MailgunServer:
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
            )
            self._thread.start()
        return self

    def __enter__(self) -> MailgunServer:
        return self.start()


def start_mailgun(scenario: MailgunScenario, **app_kwargs: Any) -> MailgunServer:
    """Serve `scenario` on loopback (started). `api_key` and `domain` default to
    DEFAULT_API_KEY / DEFAULT_DOMAIN; other keywords go to `mailgun_app`."""
    app_kwargs.setdefault("api_key", DEFAULT_API_KEY)
    app_kwargs.setdefault("domain", DEFAULT_DOMAIN)
    return MailgunServer(mailgun_app(scenario, **app_kwargs)).start()


# ------------------------------------------------------------------------ canned faults


def too_many_requests(
    *,
    retry_after: float | None = None,
    reset_at: float | None = None,
    times: int = 1,
    path_contains: str = "",
) -> Fault:
    """A 429 as Mailgun sends it; `reset_at` is the X-RateLimit-Reset epoch (seconds)."""
    headers = {}
    if retry_after is not None:
        headers["Retry-After"] = _number(retry_after)
    if reset_at is not None:
        headers["X-RateLimit-Reset"] = _number(reset_at)
    return Fault(429, b'{"message":"Too Many Requests"}', headers, times=times, path_contains=path_contains)


def server_error(status: int = 503, *, times: int = 1, path_contains: str = "") -> Fault:
    messages = {
        500: "Internal Server Error",
        502: "Bad Gateway",
        503: "Service Unavailable",
        504: "Gateway Timeout",
    }
    body = json.dumps({"message": messages.get(status, "Server Error")}).encode()
    return Fault(status, body, times=times, path_contains=path_contains)


def html_error_page(status: int = 502, *, times: int = 1, path_contains: str = "") -> Fault:
    """What a load balancer in front of the API answers: HTML, not JSON."""
    body = f"<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center></body></html>"
    return Fault(status, body.encode(), content_type="text/html", times=times, path_contains=path_contains)


def malformed_json(*, times: int = 1, path_contains: str = "") -> Fault:
    """A 200 whose body is not valid JSON."""
    return Fault(body=b'{"items": [{"address": ', times=times, path_contains=path_contains)


def truncated_body(keep_bytes: int = 20, *, times: int = 1, path_contains: str = "") -> Fault:
    """The real answer cut short: Content-Length promises more than is sent."""
    return Fault(truncate=keep_bytes, times=times, path_contains=path_contains)


def slow_answer(seconds: float, *, times: int = 1, path_contains: str = "") -> Fault:
    return Fault(delay=seconds, times=times, path_contains=path_contains)


def dropped_connection(*, times: int = 1, path_contains: str = "") -> Fault:
    return Fault(drop=True, times=times, path_contains=path_contains)

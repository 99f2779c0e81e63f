"""What the digest is built from: the day's stored rows, the sources' poll history and the
window. Plain records, filled by the store and read by the pure build."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import NamedTuple
from zoneinfo import ZoneInfo


class SignalRow(NamedTuple):
    """One stored signal of the day, with its link and customer when it has one. A NamedTuple,
    not a dataclass: a busy day builds tens of thousands, at a third of the cost."""

    source: str
    category: str
    occurred_at: datetime
    stored_at: datetime
    title: str
    group: str
    url: str = ""
    email: str | None = None
    email_norm: str | None = None
    name: str | None = None
    action: str = ""
    customer_id: str | None = None  # from the link
    match: str | None = None
    confidence: float = 0.0
    customer_email: str | None = None
    customer_name: str = ""
    company: str = ""
    rule: str = ""  # Sentry: the classification rule that filed it
    uncertain: bool = False  # no time of its own: dated by its Sentry issue's last-seen time


@dataclass(frozen=True)
class SourceRuns:
    """What job_runs say about one source's polls."""

    name: str
    last_success: datetime | None
    last_outcome: str | None  # 'ok' | 'failed' | None (never finished a poll)
    last_error: str | None
    failing_since: datetime | None


@dataclass(frozen=True)
class AckRow:
    """One acknowledgement (`monitor ack`)."""

    customer_id: str
    at: datetime
    until: datetime
    note: str
    by: str
    categories: frozenset[str]  # the reported categories the customer had when acknowledged
    withdrawn_at: datetime | None = None


@dataclass(frozen=True)
class DigestInput:
    day: date
    zone: ZoneInfo
    window: tuple[datetime, datetime]
    rows: Sequence[SignalRow]  # occurred in the window
    late: Sequence[SignalRow]  # of earlier days, stored in the window after their digest went out
    trend: Sequence[tuple[date, Mapping[str, int]]]  # oldest day first
    sources: Sequence[SourceRuns]
    now: datetime
    # Follow-up state, per customer of the day: the earliest day with a reported signal in
    # the 14 days before it (absent: none), the acknowledgement that counts for the day, and
    # the categories the customer had from that acknowledgement to the day's end.
    earlier: Mapping[str, date] = field(default_factory=dict)
    acks: Mapping[str, AckRow] = field(default_factory=dict)
    seen_since_ack: Mapping[str, frozenset[str]] = field(default_factory=dict)

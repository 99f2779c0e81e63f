"""The core's data: immutable records that every layer passes around. No I/O here.

They are NamedTuples rather than frozen dataclasses: as immutable and as typed, and built at
a third of the cost (a frozen dataclass sets each field through `object.__setattr__`), which
counts when an import makes a million customers and a backfill a hundred thousand signals."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Literal, NamedTuple

Source = Literal["sentry", "mailgun"]

# Categories are part of the public interface (interface.md).
PURCHASE_CATEGORIES = ("address_or_card", "expired_subscription", "other_purchase_error")
NOT_PURCHASE = "not_purchase"  # stored, never reported
MAIL_CATEGORIES = ("bounce", "complaint", "unsubscribe", "failed_delivery")
REPORTED_CATEGORIES = PURCHASE_CATEGORIES + MAIL_CATEGORIES

# How sure a link is; the digest ranks by it and shows it.
MATCH_CONFIDENCE: dict[str, float] = {"customer_id": 1.0, "email": 0.9, "domain": 0.4}


class Customer(NamedTuple):
    id: str
    email: str  # as given, for display
    first_name: str = ""
    last_name: str = ""
    company: str = ""

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


class Signal(NamedTuple):
    """One observation about one customer or address: a Sentry error event, a Mailgun
    bounce/complaint/unsubscribe or permanent failure.

    `key` is unique per source record, so storing the same record twice is a no-op.
    `group` gathers signals that the digest shows as one line with a count (a Sentry
    issue, a Mailgun address and category)."""

    source: Source
    key: str
    category: str
    occurred_at: datetime  # aware, UTC
    title: str
    group: str
    url: str = ""
    customer_ref: str | None = None  # Sentry user.id: the portal's customer ID
    email: str | None = None  # as seen; matched case-insensitively
    name: str | None = None
    action: str = ""  # the suggested next step for a support engineer
    detail: Mapping[str, object] = MappingProxyType({})  # read-only: one empty default for all


def normalize_email(email: str | None) -> str | None:
    """The form used for matching: trimmed and lower-case; None for an empty value."""
    if email is None:
        return None
    cleaned = email.strip().lower()
    return cleaned or None


def email_domain(email: str | None) -> str | None:
    normalized = normalize_email(email)
    if not normalized or "@" not in normalized:
        return None
    return normalized.rsplit("@", 1)[1] or None

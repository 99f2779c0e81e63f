"""Everything known about one customer, found the way the portal's admin search finds them.

A query matches a customer by exact ID, exact email (case-insensitive), email domain
(`acme.com` or `@acme.com`), or a case-insensitive part of the first, last or full name.
Signals that no customer is linked to are found too when their address or its domain
matches the query, so an unknown colleague's bounce is not missed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlite_utils import Database

from monitor.core.errors import InputError
from monitor.core.models import normalize_email
from monitor.core.timeutil import from_db, to_db

MAX_CUSTOMERS = 100
MAX_SIGNALS = 200  # per customer, and of unlinked signals
_DOMAIN = re.compile(r"^[^\s@]+\.[^\s@.]+$")


@dataclass(frozen=True)
class Query:
    text: str
    email: str | None = None  # normalized
    domain: str | None = None
    name: str | None = None  # case-folded


@dataclass(frozen=True)
class FoundSignal:
    source: str
    key: str
    category: str
    occurred_at: datetime
    title: str
    url: str
    email: str | None
    customer_ref: str | None
    name: str | None
    action: str
    detail: dict[str, Any]
    match: str | None = None  # how it links to the customer; None for unlinked signals
    confidence: float | None = None


@dataclass
class FoundCustomer:
    id: str
    email: str
    first_name: str
    last_name: str
    company: str
    origin: str  # 'import' or 'seen' (known only from signals)
    found_by: list[str] = field(default_factory=list)  # customer_id | email | domain | name
    signals: list[FoundSignal] = field(default_factory=list)  # newest first
    signal_total: int = 0  # in the window; `signals` holds at most MAX_SIGNALS

    @property
    def name(self) -> str:
        return " ".join(part for part in (self.first_name, self.last_name) if part)


@dataclass
class LookupResult:
    query: str
    days: int
    since: datetime
    customers: list[FoundCustomer]
    more_customers: int  # matches beyond MAX_CUSTOMERS, not shown
    unlinked: list[FoundSignal]

    @property
    def empty(self) -> bool:
        return not self.customers and not self.unlinked


def parse_query(text: str) -> Query:
    """How the admin search reads a query: an address, a domain, or else a name (an ID is
    always tried as well)."""
    text = text.strip()
    if not text:
        raise InputError("Give a customer ID, an email address, an email domain or a name to look up.")
    lowered = text.lower()
    if text.startswith("@") and _DOMAIN.match(lowered[1:]):
        return Query(text, domain=lowered[1:])
    if "@" in text:
        return Query(text, email=normalize_email(text))
    domain = lowered if _DOMAIN.match(lowered) else None
    has_letters = any(char.isalpha() for char in text)
    return Query(text, domain=domain, name=text.casefold() if has_letters else None)


def _fold(value: str | None) -> str:
    return (value or "").casefold()


def _customer_searches(query: Query) -> list[tuple[str, str, list[str]]]:
    """(found_by, WHERE clause, params) for each way the query can match a customer."""
    searches = [("customer_id", "id = ?", [query.text])]
    if query.email:
        searches.append(("email", "email_norm = ?", [query.email]))
    if query.domain:
        searches.append(("domain", "domain = ?", [query.domain]))
    if query.name:
        full = "monitor_fold(COALESCE(first_name, '') || ' ' || COALESCE(last_name, ''))"
        searches.append(("name", f"instr({full}, ?) > 0", [query.name]))
    return searches


def find_customers(db: Database, query: Query) -> tuple[list[FoundCustomer], int]:
    """Matching customers, best match first (ID, email, domain, name), and how many more."""
    db.conn.create_function("monitor_fold", 1, _fold, deterministic=True)
    found: dict[str, FoundCustomer] = {}
    for found_by, where, params in _customer_searches(query):
        sql = f"SELECT * FROM customers WHERE {where} ORDER BY id LIMIT {MAX_CUSTOMERS + 1}"
        for row in db.query(sql, params):
            customer = found.get(row["id"])
            if customer is None:
                customer = found[row["id"]] = FoundCustomer(
                    id=row["id"],
                    email=row["email"] or "",
                    first_name=row["first_name"] or "",
                    last_name=row["last_name"] or "",
                    company=row["company"] or "",
                    origin=row["origin"],
                )
            if found_by not in customer.found_by:
                customer.found_by.append(found_by)
    customers = list(found.values())
    return customers[:MAX_CUSTOMERS], max(0, len(customers) - MAX_CUSTOMERS)


def _signal(row: dict[str, Any]) -> FoundSignal:
    return FoundSignal(
        source=row["source"],
        key=row["key"],
        category=row["category"],
        occurred_at=from_db(row["occurred_at"]),
        title=row["title"],
        url=row["url"],
        email=row["email"],
        customer_ref=row["customer_ref"],
        name=row["name"],
        action=row["action"],
        detail=json.loads(row["detail"] or "{}"),
        match=row.get("match"),
        confidence=row.get("confidence"),
    )


LINKED_SIGNALS = f"""
SELECT * FROM (
  SELECT s.*, l.customer_id, l.match, l.confidence,
         ROW_NUMBER() OVER (PARTITION BY l.customer_id ORDER BY s.occurred_at DESC, s.id DESC) AS n,
         COUNT(*) OVER (PARTITION BY l.customer_id) AS total
  FROM signals s JOIN links l ON l.signal_id = s.id
  WHERE l.customer_id IN (SELECT value FROM json_each(?)) AND s.occurred_at >= ?
) WHERE n <= {MAX_SIGNALS} ORDER BY occurred_at DESC, id DESC
"""

# A signal with a customer ID is linked by it: only those without one can be unlinked. Said
# in each branch of the OR, so each can use its partial index.
UNLINKED_SIGNALS = f"""
SELECT s.* FROM signals s
WHERE s.occurred_at >= ? AND NOT EXISTS (SELECT 1 FROM links l WHERE l.signal_id = s.id)
  AND ((s.email_norm = ? AND s.customer_ref IS NULL) OR (s.domain = ? AND s.customer_ref IS NULL))
ORDER BY s.occurred_at DESC, s.id DESC LIMIT {MAX_SIGNALS}
"""


def lookup(db: Database, text: str, *, now: datetime, days: int = 30) -> LookupResult:
    """The customers matching `text`, each with its signals of the last `days` days (newest
    first), and the unlinked signals whose address or domain matches."""
    query = parse_query(text)
    since = now - timedelta(days=days)
    customers, more = find_customers(db, query)
    by_id = {customer.id: customer for customer in customers}
    if by_id:
        for row in db.query(LINKED_SIGNALS, [json.dumps(list(by_id)), to_db(since)]):
            customer = by_id[row["customer_id"]]
            customer.signals.append(_signal(row))
            customer.signal_total = row["total"]
    unlinked: list[FoundSignal] = []
    if query.email or query.domain:
        rows = db.query(UNLINKED_SIGNALS, [to_db(since), query.email, query.domain])
        unlinked = [_signal(row) for row in rows]
    return LookupResult(query.text, days, since, customers, more, unlinked)

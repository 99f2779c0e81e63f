"""The digest, built: rows of one day in, the interface.md JSON shape out. Pure: no I/O, no clock.

Grouping: per customer, one line per (source, category, group) with its count, first and
last time, and the title and evidence link of the latest signal. A Mailgun permanent failure
of an address that also bounced that day is the same trouble, so only the bounce is shown.

Ranking (most likely affected first), with `score` in [0, 1]:

    score = 0.5 * both + 0.5 * (0.5 * severity + 0.2 * volume + 0.2 * confidence + 0.1 * recency)

- `both` is 1 when the customer has a purchase error *and* a mail problem, so these always
  come first (their score is above 0.5, everyone else's at most 0.5);
- `severity` is the highest weight among the customer's categories (`SEVERITY`);
- `volume` grows with the number of signals, log-scaled, full at `VOLUME_FULL` signals;
- `confidence` is the strongest match's (`models.MATCH_CONFIDENCE`: ID 1.0, email 0.9, domain 0.4);
- `recency` is where the last signal falls in the day (0 at its start, 1 at its end).

Ties are broken by customer ID, so the same rows always give the same order."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.settings import Settings
from monitor.core.models import MAIL_CATEGORIES, MATCH_CONFIDENCE, PURCHASE_CATEGORIES
from monitor.core.timeutil import local_day, to_public
from monitor.core.urlparts import quote_part
from monitor.digest.followup import STATUSES, follow_up
from monitor.digest.model import DigestInput, SignalRow, SourceRuns
from monitor.digest.steps import next_steps, signal_actions

# Display order and ranking weight of the reported categories, most serious first.
SEVERITY: dict[str, float] = {
    "address_or_card": 1.0,
    "expired_subscription": 1.0,
    "bounce": 0.8,
    "complaint": 0.8,
    "other_purchase_error": 0.6,
    "failed_delivery": 0.4,
    "unsubscribe": 0.4,
}
CATEGORY_ORDER = tuple(SEVERITY)
_RANK = {category: rank for rank, category in enumerate(CATEGORY_ORDER)}
VOLUME_FULL = 10


# A source whose last successful poll is older than this is not ok, even without errors:
# a stopped scheduler fails silently, and the digest is where that must show.
STALE_HOURS = 6


def build_digest(inp: DigestInput, settings: Settings) -> dict[str, Any]:
    """The digest of `inp.day` as the interface.md JSON object (plus `totals` and `trend`)."""
    rows = without_bounced_failures(inp.rows, inp.zone)
    by_customer: dict[str, list[SignalRow]] = defaultdict(list)
    unlinked: list[SignalRow] = []
    for row in rows:
        (by_customer[row.customer_id] if row.customer_id else unlinked).append(row)
    customers = [_customer(cid, crows, inp, settings) for cid, crows in by_customer.items()]
    customers.sort(key=lambda entry: (-entry[1], entry[0]["customer_id"]))
    late = without_bounced_failures(inp.late, inp.zone)
    return {
        "date": inp.day.isoformat(),
        "timezone": inp.zone.key,
        "window": {"start": to_public(inp.window[0]), "end": to_public(inp.window[1])},
        "customers": [entry for entry, _score in customers],
        "unlinked": [_unlinked_line(group) for group in _groups(unlinked, _unlinked_key)],
        "late": [_late_line(group, inp.zone) for group in _groups(late, _late_key(inp.zone))],
        "sources": {s.name: _source(s, inp.now) for s in inp.sources},
        "totals": {
            "customers": len(customers),
            "both": sum(1 for entry, _score in customers if entry["both"]),
            "signals": sum(len(crows) for crows in by_customer.values()),
            "unlinked": len(unlinked),
            "late": len(late),
            **{status: sum(1 for entry, _s in customers if entry["status"] == status) for status in STATUSES},
        },
        "trend": {
            "days": [day.isoformat() for day, _counts in inp.trend],
            "categories": {c: [counts.get(c, 0) for _day, counts in inp.trend] for c in CATEGORY_ORDER},
        },
    }


def is_quiet(digest: Mapping[str, Any]) -> bool:
    """Nothing to tell: no customer, no unlinked or late signal, and every source healthy."""
    return not (digest["customers"] or digest["unlinked"] or digest["late"]) and all(
        source["ok"] for source in digest["sources"].values()
    )


def without_bounced_failures(rows: Iterable[SignalRow], zone: ZoneInfo) -> list[SignalRow]:
    """Drop a Mailgun permanent failure when the same address bounced the same local day:
    a permanent failure of an address on the bounce list is that bounce, told twice."""
    rows = list(rows)
    bounced = {
        (row.email_norm, local_day(row.occurred_at, zone))
        for row in rows
        if row.source == "mailgun" and row.category == "bounce" and row.email_norm
    }
    return [
        row
        for row in rows
        if not (
            row.category == "failed_delivery"
            and (row.email_norm, local_day(row.occurred_at, zone)) in bounced
        )
    ]


def score(rows: Sequence[SignalRow], window: tuple[datetime, datetime]) -> float:
    """The ranking formula of the module docstring, unrounded."""
    categories = {row.category for row in rows}
    both = bool(categories & set(PURCHASE_CATEGORIES)) and bool(categories & set(MAIL_CATEGORIES))
    severity = max(SEVERITY.get(category, 0.0) for category in categories)
    volume = min(1.0, math.log2(1 + len(rows)) / math.log2(1 + VOLUME_FULL))
    confidence = max(row.confidence for row in rows)
    span = (window[1] - window[0]).total_seconds()
    last = max(row.occurred_at for row in rows)
    recency = min(1.0, max(0.0, (last - window[0]).total_seconds() / span))
    rest = 0.5 * severity + 0.2 * volume + 0.2 * confidence + 0.1 * recency
    return 0.5 * float(both) + 0.5 * rest


def _customer(
    customer_id: str, rows: list[SignalRow], inp: DigestInput, settings: Settings
) -> tuple[dict[str, Any], float]:
    groups = _groups(rows, _customer_key)
    recent_first = sorted(rows, key=_recency_key, reverse=True)
    latest = recent_first[0]  # what max() would pick: the sort is stable
    strongest = _strongest(rows)
    email = latest.customer_email or next((r.email for r in recent_first if r.email), None)
    name = latest.customer_name or next((r.name for r in recent_first if r.name), None)
    exact = score(rows, inp.window)
    steps = next_steps(customer_id, rows, strongest, settings)
    entry = {
        "customer_id": customer_id,
        "email": email or "",
        "name": name or "",
        "admin_url": settings.links.customer.format(customer_id=quote_part(customer_id)),
        "match": strongest.match or "",
        "score": round(exact, 2),
        "signals": [_customer_line(group) for group in groups],
        "actions": signal_actions(groups)
        + [f"{s['text']}: {s['url']}" if s["url"] else s["text"] for s in steps],
        "company": latest.company,
        "both": exact > 0.5,
        "confidence": strongest.confidence or MATCH_CONFIDENCE.get(strongest.match or "", 0.0),
        "steps": steps,
        **follow_up(
            inp.day,
            {row.category for row in rows},
            inp.earlier.get(customer_id),
            inp.acks.get(customer_id),
            inp.seen_since_ack.get(customer_id, frozenset()),
        ),
    }
    return entry, exact


GroupKey = Callable[[SignalRow], tuple[Hashable, ...]]


def _customer_key(row: SignalRow) -> tuple[Hashable, ...]:
    return (row.source, row.category, row.group)


def _unlinked_key(row: SignalRow) -> tuple[Hashable, ...]:
    return (row.source, row.category, row.email_norm or "", row.group)


def _late_key(zone: ZoneInfo) -> GroupKey:
    def key(row: SignalRow) -> tuple[Hashable, ...]:
        day = local_day(row.occurred_at, zone)
        return (
            day,
            row.customer_id or "",
            row.email_norm or "",
            row.source,
            row.category,
            row.group,
            row.uncertain,
        )

    return key


def _recency_key(row: SignalRow) -> tuple[datetime, str, str]:
    """The latest signal is the one that happened last; a tie (two events in the same second)
    goes to the greater title, then link. Never the time it was stored: that depends on which
    poll came first, and a regenerated day must show the same evidence."""
    return (row.occurred_at, row.title, row.url)


def _groups(rows: Iterable[SignalRow], key: GroupKey) -> list[list[SignalRow]]:
    """Rows gathered by `key`; most serious category first, then larger, then more recent."""
    gathered: dict[tuple[Hashable, ...], list[SignalRow]] = defaultdict(list)
    for row in rows:
        gathered[key(row)].append(row)

    def order(item: tuple[tuple[Hashable, ...], list[SignalRow]]) -> tuple[Any, ...]:
        group_key, group = item
        last = max(row.occurred_at for row in group)
        return (_RANK.get(group[0].category, len(_RANK)), -len(group), -last.timestamp(), repr(group_key))

    return [group for _key, group in sorted(gathered.items(), key=order)]


def _span(group: Sequence[SignalRow], latest: SignalRow) -> dict[str, Any]:
    """Count, first and last time, and the latest signal's title and link (`latest` is the
    group's most recent row, which every caller has at hand)."""
    return {
        "count": len(group),
        "first_seen": to_public(min(row.occurred_at for row in group)),
        "last_seen": to_public(latest.occurred_at),
        "title": latest.title,
        "url": latest.url,
        # A Sentry line says which classification rule filed it (see `monitor classify`).
        **({"rule": latest.rule} if latest.source == "sentry" else {}),
    }


def _customer_line(group: Sequence[SignalRow]) -> dict[str, Any]:
    latest = max(group, key=_recency_key)
    return {
        "source": latest.source,
        "category": latest.category,
        **_span(group, latest),
        "email": latest.email or "",
        "match": _strongest(group).match or "",
    }


def _strongest(rows: Iterable[SignalRow]) -> SignalRow:
    """The row with the strongest link (customer_id, then email, then domain). The customer's
    `match` and each of its lines' use this one rule, so the customer's match is always the
    strongest of its lines', whichever signal came last."""
    return max(
        rows, key=lambda row: (MATCH_CONFIDENCE.get(row.match or "", 0.0), row.confidence, row.match or "")
    )


def _unlinked_line(group: Sequence[SignalRow]) -> dict[str, Any]:
    latest = max(group, key=_recency_key)
    return {
        "source": latest.source,
        "category": latest.category,
        "email": latest.email or "",
        **_span(group, latest),
        "name": latest.name or "",
    }


def _late_line(group: Sequence[SignalRow], zone: ZoneInfo) -> dict[str, Any]:
    latest = max(group, key=_recency_key)
    return {
        "source": latest.source,
        "category": latest.category,
        "day": local_day(latest.occurred_at, zone).isoformat(),
        "customer_id": latest.customer_id,
        "name": latest.customer_name or latest.name or "",
        "email": latest.customer_email or latest.email or "",
        **_span(group, latest),
        "stored_at": to_public(max(row.stored_at for row in group)),
        **({"uncertain": True} if latest.uncertain else {}),
    }


def _source(runs: SourceRuns, now: datetime) -> dict[str, Any]:
    fresh = runs.last_success is not None and (now - runs.last_success).total_seconds() <= STALE_HOURS * 3600
    return {
        "last_success": to_public(runs.last_success) if runs.last_success else None,
        "ok": runs.last_outcome == "ok" and fresh,
        "failing_since": to_public(runs.failing_since) if runs.failing_since else None,
        "last_error": runs.last_error if runs.last_outcome == "failed" else None,
    }

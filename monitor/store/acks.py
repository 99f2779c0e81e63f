"""Acknowledgements (`monitor ack`): support has seen a customer and follows up until a time."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.core.models import REPORTED_CATEGORIES
from monitor.core.timeutil import from_db, to_db
from monitor.digest.model import AckRow
from monitor.store import write_tx

_CATEGORIES = ", ".join(f"'{category}'" for category in REPORTED_CATEGORIES)  # constants, not data
COLUMNS = "customer_id, at, until, note, by, categories, withdrawn_at"

# The reported categories a customer's dated signals had in [start, end]: at acknowledgement,
# the 14 days up to it (what they are acknowledged for); later, what happened since.
KNOWN_CATEGORIES = f"""
SELECT DISTINCT s.category FROM signals s JOIN links l ON l.signal_id = s.id
WHERE l.customer_id = ? AND s.category IN ({_CATEGORIES}) AND s.occurred_at >= ? AND s.occurred_at < ?
  AND json_extract(s.detail, '$.dated_by') IS NOT 'issue'
"""
FOLLOW_UP_DAYS = 14
# When an acknowledgement stopped counting: taken back, or else its `until`.
ENDED = "MIN(until, COALESCE(withdrawn_at, until))"


def _row(record: tuple[object, ...]) -> AckRow:
    customer, at, until, note, by, categories, withdrawn = record
    return AckRow(
        customer_id=str(customer),
        at=from_db(str(at)),
        until=from_db(str(until)),
        note=str(note or ""),
        by=str(by or ""),
        categories=frozenset(json.loads(str(categories))),
        withdrawn_at=from_db(str(withdrawn)) if withdrawn else None,
    )


def acknowledge(db: Database, customer_id: str, now: datetime, days: int, note: str, by: str) -> AckRow:
    """A new acknowledgement from `now` for `days`; the customer's current categories recorded."""
    since = now - timedelta(days=FOLLOW_UP_DAYS)
    known = sorted(categories_between(db, customer_id, since, now + timedelta(microseconds=1)))
    row = (customer_id, to_db(now), to_db(now + timedelta(days=days)), note, by, json.dumps(known), None)
    with write_tx(db) as conn:
        conn.execute(f"INSERT INTO acknowledgements ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)", row)
    return _row(row)


def withdraw(db: Database, customer_id: str, now: datetime) -> int:
    """Ends the acknowledgements of a customer still in force at `now`; how many it ended."""
    with write_tx(db) as conn:
        cursor = conn.execute(
            "UPDATE acknowledgements SET withdrawn_at = ?"
            " WHERE customer_id = ? AND withdrawn_at IS NULL AND until > ? AND at <= ?",
            (to_db(now), customer_id, to_db(now), to_db(now)),
        )
        return max(cursor.rowcount, 0)


def history(db: Database, customer_id: str) -> list[AckRow]:
    sql = f"SELECT {COLUMNS} FROM acknowledgements WHERE customer_id = ? ORDER BY at, id"
    return [_row(r) for r in db.execute(sql, [customer_id])]


def recent(db: Database, now: datetime, days: int = FOLLOW_UP_DAYS) -> list[AckRow]:
    """Acknowledgements in force at `now`, and those that ended (expired or were taken back)
    in the last `days`."""
    sql = f"SELECT {COLUMNS} FROM acknowledgements WHERE {ENDED} > ? ORDER BY at, id"
    return [_row(r) for r in db.execute(sql, [to_db(now - timedelta(days=days))])]


def categories_between(db: Database, customer_id: str, start: datetime, end: datetime) -> set[str]:
    """The reported categories of the customer's signals that occurred in [start, end)."""
    return {r[0] for r in db.execute(KNOWN_CATEGORIES, [customer_id, to_db(start), to_db(end)])}


def for_day(db: Database, customer_ids: Iterable[str], start: datetime, end: datetime) -> dict[str, AckRow]:
    """Per customer, the newest acknowledgement that counts for the day [start, end): the one
    in force at the day's end (made before it, `until` not before it, not withdrawn before
    it). So what is acknowledged or taken back later never changes a past day, and an
    acknowledgement for N days counts for the N days whose end it reaches."""
    ids = sorted(set(customer_ids))
    if not ids:
        return {}
    sql = (
        f"SELECT {COLUMNS} FROM acknowledgements"
        " WHERE customer_id IN (SELECT value FROM json_each(?)) AND at < ? AND until >= ?"
        " AND (withdrawn_at IS NULL OR withdrawn_at >= ?) ORDER BY at, id"
    )
    found: dict[str, AckRow] = {}
    for record in db.execute(sql, [json.dumps(ids), to_db(end), to_db(end), to_db(end)]):
        row = _row(record)
        found[row.customer_id] = row  # ordered by time: the newest stays
    return found


def seen_since(
    db: Database, acks: Iterable[AckRow], start: datetime, end: datetime
) -> dict[str, frozenset[str]]:
    """Per acknowledged customer, the categories of their signals from the acknowledgement (or
    the day's start, if earlier) to the day's end: one they did not have when acknowledged
    reopens them, on that day and after, until they are acknowledged again."""
    return {
        ack.customer_id: frozenset(categories_between(db, ack.customer_id, min(ack.at, start), end))
        for ack in acks
    }


def reopened(db: Database, ack: AckRow, now: datetime) -> bool:
    """Whether the customer had a reported signal of a category not acknowledged, from the
    acknowledgement until `now` (or until it ended, if earlier)."""
    ends = [now, ack.until] + ([ack.withdrawn_at] if ack.withdrawn_at else [])
    return bool(categories_between(db, ack.customer_id, ack.at, min(ends)) - ack.categories)

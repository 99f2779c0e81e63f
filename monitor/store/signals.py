"""Signals: stored once per source record, linked to customers in SQL, with cursors moving
in the same transaction as the data they describe."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.linking import LINK_LEARNED_BY_EMAIL, LINK_STEPS, UNLINK_WEAK, public_domains
from monitor.models import Signal, email_domain, normalize_email
from monitor.store import write_tx
from monitor.store.customers import remember_seen_rows, seen_row
from monitor.timeutil import to_db

INSERT_SIGNAL = """
INSERT OR IGNORE INTO signals
  (source, key, category, occurred_at, stored_at, title, grp, url, customer_ref, email, email_norm,
   domain, name, action, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


@dataclass(frozen=True)
class SaveResult:
    new: int  # signals not stored before
    linked: int  # of those, linked to a customer


def signal_row(signal: Signal, stored_at: str) -> tuple[object, ...]:
    norm = normalize_email(signal.email)
    return (
        signal.source,
        signal.key,
        signal.category,
        to_db(signal.occurred_at),
        stored_at,
        signal.title,
        signal.group,
        signal.url,
        signal.customer_ref,
        signal.email,
        norm,
        email_domain(norm),
        signal.name,
        signal.action,
        json.dumps(signal.detail, sort_keys=True, default=str),
    )


def save_signals(
    db: Database,
    signals: Sequence[Signal],
    *,
    now: datetime,
    cursors: Mapping[str, str] | None = None,
    extra_public_domains: Iterable[str] = (),
    also: Callable[[sqlite3.Connection], None] | None = None,
) -> SaveResult:
    """Store a page of signals, learn customers seen in them, link the new ones and move the
    cursors: all in one transaction, so a crash repeats at most this page and loses nothing.
    `also` runs last inside the same transaction (a source's own bookkeeping, e.g. which
    Sentry issues were read in full)."""
    stored_at = to_db(now)
    seen = [seen_row(s.customer_ref, s.email, s.name, stored_at) for s in signals if s.customer_ref]
    with write_tx(db) as conn:
        # Rowids only grow (no AUTOINCREMENT gaps matter here): what this insert adds has an
        # id above the current maximum, so linking looks at this page only.
        after_id = conn.execute("SELECT COALESCE(MAX(id), 0) FROM signals").fetchone()[0]
        new = conn.executemany(INSERT_SIGNAL, [signal_row(s, stored_at) for s in signals]).rowcount
        remember_seen_rows(conn, seen)
        linked = link_signals(conn, after_id=after_id, extra_public_domains=extra_public_domains) if new else 0
        learned = sorted({row[2] for row in seen if row[2]})
        if learned:
            linked += max(conn.execute(LINK_LEARNED_BY_EMAIL, {"emails": json.dumps(learned)}).rowcount, 0)
        for name, value in (cursors or {}).items():
            set_cursor(conn, name, value, now)
        if also is not None:
            also(conn)
    return SaveResult(new=max(new, 0), linked=linked)


def link_signals(conn: sqlite3.Connection, *, after_id: int = 0, extra_public_domains: Iterable[str] = ()) -> int:
    """Run the linking steps for signals with an id above `after_id` that have no link yet."""
    _fill_public_domains(conn, extra_public_domains)
    return sum(max(conn.execute(step, {"after_id": after_id}).rowcount, 0) for step in LINK_STEPS)


def relink_all(db: Database, extra_public_domains: Iterable[str] = ()) -> int:
    """After the customer directory changed: re-decide weak links and link what now matches."""
    with write_tx(db) as conn:
        conn.execute(UNLINK_WEAK)
        return link_signals(conn, extra_public_domains=extra_public_domains)


def _fill_public_domains(conn: sqlite3.Connection, extra: Iterable[str]) -> None:
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS public_domains (domain TEXT PRIMARY KEY)")
    conn.execute("DELETE FROM temp.public_domains")
    conn.executemany("INSERT INTO temp.public_domains VALUES (?)", [(d,) for d in public_domains(extra)])


def get_cursor(db: Database, name: str) -> str | None:
    row = db.execute("SELECT value FROM cursors WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def set_cursor(conn: sqlite3.Connection, name: str, value: str, now: datetime) -> None:
    conn.execute(
        "INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?) "
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        (name, value, to_db(now)),
    )


def count_signals(db: Database, source: str | None = None) -> int:
    if source is None:
        return int(db.execute("SELECT COUNT(*) FROM signals").fetchone()[0])
    return int(db.execute("SELECT COUNT(*) FROM signals WHERE source = ?", [source]).fetchone()[0])

"""Signals: stored once per source record, linked to customers in SQL, with cursors moving
in the same transaction as the data they describe."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import NamedTuple

from sqlite_utils import Database

from monitor.core.linking import LINK_LEARNED_BY_EMAIL, LINK_STEPS, UNLINK_WEAK, public_domains
from monitor.core.models import Signal
from monitor.core.timeutil import to_db
from monitor.store import write_tx
from monitor.store.customers import UPSERT_SEEN
from monitor.writer.tx import Batch, SaveSql, Statement, link_after, write_batch

# Several records can stand for one trouble and share a key: a bounce-list entry and the
# permanent failure that put the address there, an entry removed and added again. The stored
# evidence is the earliest record's, ties broken by title and URL: a rule over the facts, so
# the digest does not depend on which poll came first. A repeated record changes nothing.
SAVE_SIGNAL = """
INSERT INTO signals
  (source, key, category, occurred_at, stored_at, title, grp, url, customer_ref, email, email_norm,
   domain, name, action, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (source, key) DO UPDATE SET
  occurred_at = excluded.occurred_at, title = excluded.title, url = excluded.url,
  email = excluded.email, name = excluded.name, detail = excluded.detail
WHERE (excluded.occurred_at, excluded.title, excluded.url) < (occurred_at, title, url)
"""

SET_CURSOR = """
INSERT INTO cursors (name, value, updated_at) VALUES (?, ?, ?)
ON CONFLICT(name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at
"""

SAVE_SQL = SaveSql(SAVE_SIGNAL, UPSERT_SEEN, LINK_STEPS, LINK_LEARNED_BY_EMAIL, SET_CURSOR)


class SaveResult(NamedTuple):
    new: int  # signals not stored before
    linked: int  # of those, linked to a customer


def batch_of(
    signals: Sequence[Signal],
    *,
    now: datetime,
    cursors: Mapping[str, str] | None = None,
    extra_public_domains: Iterable[str] = (),
    before: Sequence[Statement] = (),
    also: Sequence[Statement] = (),
) -> Batch:
    """One write's batch (see `writer.tx`)."""
    stored_at = to_db(now)
    return Batch(
        # A read-only mapping does not pickle; the writer process takes the batch pickled.
        signals=[s if type(s.detail) is dict else s._replace(detail=dict(s.detail)) for s in signals],
        stored_at=stored_at,
        cursors=[(name, value, stored_at) for name, value in (cursors or {}).items()],
        before=list(before),
        also=list(also),
        public_domains=_public_domains_json(tuple(extra_public_domains)),
    )


def save_signals(
    db: Database, signals: Sequence[Signal], *, now: datetime, extra_public_domains: Iterable[str] = ()
) -> SaveResult:
    """Store signals in this process, in one transaction, as a poll's writer stores a batch:
    the rows, the customers seen in them, the links of the new ones (`writer.tx`). For tests
    and benchmarks that need stored signals; a poll writes through `SignalBatch`, with its
    cursors and bookkeeping in the same transactions."""
    written = write_batch(
        db.conn, SAVE_SQL, batch_of(signals, now=now, extra_public_domains=extra_public_domains)
    )
    return SaveResult(len(written.new_at), len(written.linked_at))


def link_signals(
    conn: sqlite3.Connection, *, after_id: int = 0, extra_public_domains: Iterable[str] = ()
) -> int:
    """Run the linking steps for signals with an id above `after_id` that have no link yet."""
    return link_after(conn, LINK_STEPS, after_id, _public_domains_json(tuple(extra_public_domains)))


# Relinking probes the directory's indexes once per stored signal, all over the file; mapped
# into memory for that run, each page read skips a system call (a quarter less time at a
# million customers). Only for the run: mapped pages count as the process's memory.
RELINK_MMAP_BYTES = 1 << 30


def relink_all(db: Database, extra_public_domains: Iterable[str] = ()) -> int:
    """After the customer directory changed: re-decide weak links and link what now matches."""
    db.conn.execute(f"PRAGMA mmap_size = {RELINK_MMAP_BYTES}")
    try:
        with write_tx(db) as conn:
            conn.execute(UNLINK_WEAK)
            return link_signals(conn, extra_public_domains=extra_public_domains)
    finally:
        db.conn.execute("PRAGMA mmap_size = 0")


@lru_cache(maxsize=16)
def _public_domains_json(extra: tuple[str, ...]) -> str:
    """The public mail domains as a JSON array, the form the domain step takes them in."""
    return json.dumps(sorted(public_domains(extra)))


def get_cursor(db: Database, name: str) -> str | None:
    row = db.execute("SELECT value FROM cursors WHERE name = ?", [name]).fetchone()
    return row[0] if row else None


def set_cursor(conn: sqlite3.Connection, name: str, value: str, now: datetime) -> None:
    conn.execute(SET_CURSOR, (name, value, to_db(now)))


def count_signals(db: Database, source: str | None = None) -> int:
    if source is None:
        return int(db.execute("SELECT COUNT(*) FROM signals").fetchone()[0])
    return int(db.execute("SELECT COUNT(*) FROM signals WHERE source = ?", [source]).fetchone()[0])

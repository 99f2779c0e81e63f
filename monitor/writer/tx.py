"""One batch of signals written in one transaction, as a function of plain data.

The SQL steps of a poll's write (`SignalBatch`): turn the signals into rows, store them,
learn the customers seen in them, link the new ones, move the cursors, run the source's own
bookkeeping. The same function runs in the poll's process and in its writer process
(`writer.process`), so this module imports only the standard library and the core's records:
the writer starts as a bare interpreter (`python -I -S`), in a few milliseconds and about
12 MB, without the monitor's other imports.

What crosses to the writer is this module's records, the core's and built-in types: the
writer imports nothing else, so nothing else would unpickle there."""

from __future__ import annotations

import json
import pickle
import signal
import sqlite3
import sys
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from monitor.core.models import Signal, email_domain, normalize_email
from monitor.core.timeutil import to_db


class Statement(NamedTuple):
    """A source's bookkeeping statement, run inside a batch's transaction. `many`: `params`
    is a list of rows, run as one prepared statement. `counted`: the rows it changed are
    reported under this name in `Written.counted`."""

    sql: str
    params: Any
    many: bool = False
    counted: str = ""


class SaveSql(NamedTuple):
    """The statements of a write, handed to the writer once when it starts."""

    insert_signal: str
    upsert_seen: str
    link_steps: tuple[str, ...]
    link_learned: str
    set_cursor: str


class Batch(NamedTuple):
    """What one transaction writes."""

    signals: list[Signal]  # each `detail` a dict (a read-only mapping does not pickle)
    stored_at: str  # the poll's time, as stored
    cursors: list[tuple[str, str, str]]  # (name, value, updated_at)
    before: list[Statement]  # ahead of the rows
    also: list[Statement]  # after them
    public_domains: str  # JSON array: a domain there never links


class Written(NamedTuple):
    """What a batch stored, small enough to cross the pipe at once: the new signals by their
    place in `Batch.signals` (the last of those sharing a key), not by their keys."""

    new_at: list[int]  # the signals not stored before
    linked_at: list[int]  # of those, the ones linked to a customer
    counted: dict[str, int]  # rows changed by the counted statements


# What a writer process started from this file must agree on with the poll that started it:
# a daemon running since before an upgrade pickles the records of the code it loaded then.
# (A checksum of this file: zlib is light where hashlib would load OpenSSL into the writer.)
VERSION = zlib.crc32(Path(__file__).read_bytes())
UPGRADED = (
    "the installed monitor changed since this process started (an upgrade?): restart it, "
    "e.g. `systemctl restart monitor`"
)

# One encoder for every row: json.dumps with options builds a new encoder per call.
encode_detail = json.JSONEncoder(sort_keys=True, default=str).encode


def signal_row(signal: Signal, stored_at: str) -> tuple[object, ...]:
    """The parameters of `SaveSql.insert_signal` for one signal."""
    norm = normalize_email(signal.email)
    # As email_domain(norm), without normalizing a second time.
    domain = norm.rpartition("@")[2] or None if norm and "@" in norm else None
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
        domain,
        signal.name,
        signal.action,
        encode_detail(signal.detail),  # a dict: `Batch` says so
    )


def seen_rows(signals: Sequence[Signal], stored_at: str) -> list[tuple[str | None, ...]]:
    """The parameters of `SaveSql.upsert_seen` for each customer the signals name by ID. A
    customer retrying a purchase appears many times in one page: each row once."""
    rows: dict[tuple[str | None, ...], None] = {}
    for s in signals:
        if s.customer_ref:
            first, _, last = (s.name or "").strip().partition(" ")
            norm = normalize_email(s.email)
            email = (s.email or "").strip() or None
            rows[
                (s.customer_ref, email, norm, email_domain(norm), first or None, last or None, stored_at)
            ] = None
    return list(rows)


# SQLite gives a new row the largest rowid + 1, so what an insert adds has an id above the
# maximum before it: linking and counting look at this batch only, however much is stored.
MAX_ID = "SELECT COALESCE(MAX(id), 0) FROM signals"
NEW_ROWS = """
SELECT s.key, l.signal_id IS NOT NULL FROM signals s LEFT JOIN links l ON l.signal_id = s.id
WHERE s.id > ?
"""


def write_batch(conn: sqlite3.Connection, sql: SaveSql, batch: Batch) -> Written:
    """The batch in one IMMEDIATE transaction (the write lock taken up front): all of it or,
    on any error, none of it."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        written = _write(conn, sql, batch)
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return written


def _write(conn: sqlite3.Connection, sql: SaveSql, batch: Batch) -> Written:
    rows = [signal_row(signal, batch.stored_at) for signal in batch.signals]
    seen = seen_rows(batch.signals, batch.stored_at)
    counted: dict[str, int] = {}
    _run(conn, batch.before, counted)
    after_id = conn.execute(MAX_ID).fetchone()[0]
    conn.executemany(sql.insert_signal, rows)
    learned = max(conn.executemany(sql.upsert_seen, seen).rowcount, 0) if seen else 0
    found: list[tuple[str, int]] = []
    if rows:
        link_after(conn, sql.link_steps, after_id, batch.public_domains)
        found = conn.execute(NEW_ROWS, (after_id,)).fetchall()
    if learned:  # a new or completed customer may own earlier signals that named only the address
        emails = sorted({row[2] for row in seen if row[2]})
        conn.execute(sql.link_learned, {"emails": json.dumps(emails)})
    for cursor in batch.cursors:
        conn.execute(sql.set_cursor, cursor)
    _run(conn, batch.also, counted)
    place = {signal.key: number for number, signal in enumerate(batch.signals)}
    return Written(
        new_at=sorted(place[key] for key, _ in found),
        linked_at=sorted(place[key] for key, linked in found if linked),
        counted=counted,
    )


def link_after(conn: sqlite3.Connection, steps: Sequence[str], after_id: int, public_domains: str) -> int:
    """Run the linking steps (`core.linking`) for the signals with an id above `after_id` that
    have no link yet (0: every signal); how many links were made."""
    params = {"after_id": after_id, "public_domains": public_domains}
    return sum(max(conn.execute(step, params).rowcount, 0) for step in steps)


def _run(conn: sqlite3.Connection, statements: list[Statement], counted: dict[str, int]) -> None:
    for sql, params, many, name in statements:
        cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
        if name:
            counted[name] = counted.get(name, 0) + max(cursor.rowcount, 0)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The writer process: (version, path, pragmas, sql) first, answered ("ready",) or
    ("error", kind, message); then one batch at a time, each answered ("ok", written) or
    ("error", kind, message) before the next is read.

    After a failed batch every later one is refused unwritten: a later batch may move a cursor
    or mark an issue read past the rows that failed, which would then never be read again.
    Ends when the poll's process closes the pipe, also when it died (a batch cut short
    arrives as a truncated pickle): a batch being written is finished (committed or rolled
    back) first, so the database is never left half-written."""
    # A terminal's Ctrl-C and a service stop signal the whole process group: the poll's process
    # decides when writing ends (it flushes what it read, then closes the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    version, path, pragmas, sql = pickle.load(requests)  # noqa: S301 (our own parent, a private pipe)
    if version != VERSION:
        _reply(replies, ("error", "VersionMismatch", UPGRADED))
        return
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in pragmas:
        conn.execute(pragma)
    _reply(replies, ("ready",))
    failed: tuple[Any, ...] | None = None
    while True:
        try:
            batch = pickle.load(requests)  # noqa: S301
        except (EOFError, pickle.UnpicklingError):  # the pipe closed, or the poll died mid-batch
            break
        if failed is not None:
            _reply(replies, ("error", failed[1], f"not written after an earlier failure: {failed[2]}"))
            continue
        try:
            reply: tuple[Any, ...] = ("ok", write_batch(conn, sql, batch))
        except Exception as err:  # told to the poll, which raises it
            reply = failed = ("error", type(err).__name__, str(err))
        _reply(replies, reply)
    conn.close()


def _reply(replies: BinaryIO, reply: tuple[Any, ...]) -> None:
    pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
    replies.flush()


def main() -> None:
    """The writer process's entry (see `writer.process`)."""
    serve(sys.stdin.buffer, sys.stdout.buffer)

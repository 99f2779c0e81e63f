"""One batch of signals written in one transaction, as a function of plain data.

The SQL steps of a poll's write (`save_signals`): store the rows, learn the customers seen
in them, link the new ones, move the cursors, run the source's own bookkeeping. This module
imports nothing but the standard library, and nothing of the package, so the same function
runs in the poll's process and in its writer process (`store.writer`), which starts as a bare
interpreter running this file: a few milliseconds and about 12 MB, not the monitor's imports.

Everything crossing to the writer is built-in types (tuples, lists, strings, numbers): a
NamedTuple of this module would be pickled by a module path the writer cannot import."""

from __future__ import annotations

import json
import pickle
import signal
import sqlite3
import sys
from typing import Any, BinaryIO, NamedTuple


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

    rows: list[tuple[Any, ...]]  # signal rows, in the order of `insert_signal`'s parameters
    seen: list[tuple[Any, ...]]  # customers named in them, in `upsert_seen`'s order
    cursors: list[tuple[str, str, str]]  # (name, value, updated_at)
    before: list[Statement]  # ahead of the rows
    also: list[Statement]  # after them
    public_domains: str  # JSON array: a domain there never links


class Written(NamedTuple):
    new: int  # signals not stored before
    new_keys: frozenset[str]
    linked_keys: frozenset[str]  # of the new ones, those linked to a customer
    counted: dict[str, int]  # rows changed by the counted statements


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
    counted: dict[str, int] = {}
    _run(conn, batch.before, counted)
    after_id = conn.execute(MAX_ID).fetchone()[0]
    conn.executemany(sql.insert_signal, batch.rows)
    found = conn.execute(NEW_ROWS, (after_id,)).fetchall() if batch.rows else []
    learned = max(conn.executemany(sql.upsert_seen, batch.seen).rowcount, 0) if batch.seen else 0
    if found:
        params = {"after_id": after_id, "public_domains": batch.public_domains}
        for step in sql.link_steps:
            conn.execute(step, params)
        found = conn.execute(NEW_ROWS, (after_id,)).fetchall()
    if learned:  # a new or completed customer may own earlier signals that named only the address
        emails = sorted({row[2] for row in batch.seen if row[2]})
        conn.execute(sql.link_learned, {"emails": json.dumps(emails)})
    for cursor in batch.cursors:
        conn.execute(sql.set_cursor, cursor)
    _run(conn, batch.also, counted)
    return Written(
        new=len(found),
        new_keys=frozenset(key for key, _ in found),
        linked_keys=frozenset(key for key, linked in found if linked),
        counted=counted,
    )


def _run(conn: sqlite3.Connection, statements: list[Statement], counted: dict[str, int]) -> None:
    for sql, params, many, name in statements:  # plain tuples too: as they reach the writer
        cursor = conn.executemany(sql, params) if many else conn.execute(sql, params)
        if name:
            counted[name] = counted.get(name, 0) + max(cursor.rowcount, 0)


def serve(requests: BinaryIO, replies: BinaryIO) -> None:
    """The writer process: (path, pragmas, sql) first, then one batch at a time, each answered
    with ("ok", written) or ("error", kind, message) before the next is read. Ends when the
    poll's process closes the pipe, also when it died: a batch being written is finished
    (committed or rolled back) first, so the database is never left half-written."""
    # A terminal's Ctrl-C and a service stop signal the whole process group: the poll's process
    # decides when writing ends (it flushes what it read, then closes the pipe).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    path, pragmas, sql_fields = pickle.load(requests)  # noqa: S301 (our own parent, a private pipe)
    sql = SaveSql(*sql_fields)
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in pragmas:
        conn.execute(pragma)
    while True:
        try:
            fields = pickle.load(requests)  # noqa: S301
        except EOFError:
            break
        try:
            reply: tuple[Any, ...] = ("ok", tuple(write_batch(conn, sql, Batch(*fields))))
        except Exception as err:  # told to the poll, which raises it; the writer goes on
            reply = ("error", type(err).__name__, str(err))
        pickle.dump(reply, replies, protocol=pickle.HIGHEST_PROTOCOL)
        replies.flush()
    conn.close()


if __name__ == "__main__":
    serve(sys.stdin.buffer, sys.stdout.buffer)

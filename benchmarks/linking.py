"""Linking every stored signal to the customer directory (what `monitor customers import` runs
afterwards) against a single indexed SQL join of the same tables.

A million customers and 100,000 signals: 30% name a customer ID (Sentry's user.id), 40% only
a customer's address, 15% a colleague's address at a customer's company domain (a weak
link), 15% a stranger at a public mail provider (no link). The floor joins signals to
customers on the indexed address, once, writing link rows into a table shaped and indexed
like `links`; the monitor runs its three steps (ID, address, unique company domain), each
an index probe per signal, as `relink_all` after an import."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import Run, Scale, measure, progress, timed, versus
from benchmarks.data import customer_email, customer_id, insert_customers
from benchmarks.floors import INSERT_SIGNAL
from monitor.core.timeutil import to_db
from monitor.store import open_db
from monitor.store.signals import relink_all

TARGET = 1.5
FLOOR_JOIN = """
INSERT INTO floor_links (signal_id, customer_id, match, confidence)
SELECT s.id, c.id, 'email', 0.9 FROM signals s JOIN customers c ON c.email_norm = s.email_norm
"""
# The floor writes the same kind of row into a table shaped like `links` (and indexed the same).
FLOOR_TABLE = (
    "CREATE TABLE floor_links (signal_id INTEGER PRIMARY KEY, customer_id TEXT NOT NULL, match TEXT NOT NULL,"
    " confidence REAL NOT NULL)",
    "CREATE INDEX floor_links_customer_id ON floor_links(customer_id)",
)


def signal_rows(count: int, customers: int, stamp: str) -> Iterator[tuple[Any, ...]]:
    for n in range(count):
        who = (n * 7919) % customers
        kind = n % 20
        ref = customer_id(who) if kind < 6 else None
        if kind < 14:
            email = customer_email(who)
        elif kind < 17:
            email = f"colleague{n}@firm{who}.example"
        else:
            email = f"someone{n}@gmail.com"
        yield (
            "sentry" if ref else "mailgun",
            f"key-{n}",
            "bounce",
            stamp,
            stamp,
            "title",
            f"g{n}",
            "",
            ref,
            email,
            email,
            email.rpartition("@")[2],
            None,
            "",
            json.dumps({"n": n}),
        )


def build(path: Path, scale: Scale, now: datetime) -> sqlite3.Connection:
    conn = open_db(path).conn
    insert_customers(conn, scale.linking_customers, now)
    conn.execute("BEGIN")
    conn.executemany(INSERT_SIGNAL, signal_rows(scale.linking_signals, scale.linking_customers, to_db(now)))
    conn.execute("COMMIT")
    for statement in FLOOR_TABLE:
        conn.execute(statement)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return conn


def floor_link(conn: sqlite3.Connection) -> tuple[Run, int]:
    conn.execute("DELETE FROM floor_links")

    def join() -> int:
        conn.execute("BEGIN")
        linked = conn.execute(FLOOR_JOIN).rowcount
        conn.execute("COMMIT")
        return int(linked)

    return measure(join)


def monitor_link(conn: sqlite3.Connection) -> tuple[Run, int]:
    conn.execute("DELETE FROM links")
    from sqlite_utils import Database

    return measure(lambda: relink_all(Database(conn)))


def run(scale: Scale, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-linking-") as name:
        seconds, conn = timed(lambda: build(Path(name) / "linking.db", scale, now))
        progress(
            f"linking: {scale.linking_customers:,} customers, {scale.linking_signals:,} signals "
            f"generated in {seconds:.1f} s"
        )
        floors, monitors = [], []
        for _ in range(scale.repeats):
            floors.append(floor_link(conn))
            monitors.append(monitor_link(conn))
            progress(f"linking: monitor {monitors[-1][0].seconds:.2f} s, floor {floors[-1][0].seconds:.2f} s")
        conn.close()
    figure, details = versus([run for run, _ in monitors], [run for run, _ in floors], TARGET)
    details.update(
        customers=scale.linking_customers,
        signals=scale.linking_signals,
        linked=monitors[-1][1],
        floor_linked=floors[-1][1],
    )
    return {"linking_vs_join": figure}, details

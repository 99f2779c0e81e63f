"""`monitor customers import` of a large CSV file against raw `executemany` of the same rows.

The floor reads the same file with the csv module and inserts each row's columns (the
address lower-cased, its domain) with one `executemany` in one transaction, into the same
customers table with its indexes. The monitor validates every row, upserts in batches and
re-links signals afterwards (none here: this measures the import itself)."""

from __future__ import annotations

import csv
import sqlite3
import tempfile
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import Run, Scale, measure, progress, versus
from benchmarks.data import write_customers_csv
from monitor.core.timeutil import to_db
from monitor.store import open_db
from monitor.store.customer_import import import_customers

TARGET = 1.5
INSERT = "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, 'import', ?)"


def fresh_db(path: Path) -> sqlite3.Connection:
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    return open_db(path).conn


def floor_rows(path: Path, stamp: str) -> Iterator[tuple[str, ...]]:
    with path.open(newline="", encoding="utf-8") as lines:
        reader = csv.reader(lines)
        next(reader)
        for cid, email, first, last, company in reader:
            norm = email.lower()
            yield cid, email, norm, norm.rpartition("@")[2], first, last, company, stamp


def floor_import(csv_path: Path, db_path: Path, now: datetime) -> Run:
    conn = fresh_db(db_path)
    stamp = to_db(now)

    def load() -> None:
        conn.execute("BEGIN")
        conn.executemany(INSERT, floor_rows(csv_path, stamp))
        conn.execute("COMMIT")

    run, _ = measure(load)
    conn.close()
    return run


def monitor_import(csv_path: Path, db_path: Path, now: datetime, expected: int) -> Run:
    conn = fresh_db(db_path)
    from sqlite_utils import Database

    run, result = measure(lambda: import_customers(Database(conn), csv_path, now))
    if result.imported != expected or result.bad_total:
        raise RuntimeError(f"the import stored {result.imported} of {expected} rows ({result.bad_total} bad)")
    conn.close()
    return run


def run(scale: Scale, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="bench-import-") as name:
        folder = Path(name)
        csv_path = folder / "customers.csv"
        write_customers_csv(csv_path, scale.import_rows)
        floors: list[Run] = []
        monitors: list[Run] = []
        for _ in range(scale.repeats):
            floors.append(floor_import(csv_path, folder / "floor.db", now))
            monitors.append(monitor_import(csv_path, folder / "monitor.db", now, scale.import_rows))
            progress(f"import: monitor {monitors[-1].seconds:.2f} s, floor {floors[-1].seconds:.2f} s")
    figure, details = versus(monitors, floors, TARGET)
    details.update(rows=scale.import_rows, rows_per_second=round(scale.import_rows / details["seconds"]))
    return {"import_vs_executemany": figure}, details

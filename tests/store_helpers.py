"""Test data written straight into a store, the way the product writes it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlite_utils import Database

from monitor.core.models import Customer
from monitor.core.timeutil import to_db
from monitor.store import open_db, write_tx
from monitor.store.customers import customer_row, upsert_imported


def save_customers(db: Database, customers: Iterable[Customer], now: datetime) -> None:
    """The customers upserted as `monitor customers import` upserts them, in one transaction."""
    stamp = to_db(now)
    with write_tx(db) as conn:
        upsert_imported(conn, [customer_row(customer, stamp) for customer in customers])


def save_customers_at(db_path: Path, customers: Iterable[Customer], now: datetime) -> None:
    """`save_customers` into the database file at `db_path`."""
    db = open_db(db_path)
    save_customers(db, customers, now)
    db.close()

"""Customers: the imported directory, plus customers known only from signals ('seen')."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable

from sqlite_utils import Database

from monitor.core.models import Customer

# The import is the source of truth: it overwrites every column it carries.
UPSERT_IMPORTED = """
INSERT INTO customers (id, email, email_norm, domain, first_name, last_name, company, origin, updated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, 'import', ?)
ON CONFLICT(id) DO UPDATE SET
  email = excluded.email, email_norm = excluded.email_norm, domain = excluded.domain,
  first_name = excluded.first_name, last_name = excluded.last_name, company = excluded.company,
  origin = 'import', updated_at = excluded.updated_at
"""

# Details seen in a signal fill what is empty and never overwrite what is known. The WHERE
# skips the write when there is nothing to fill (the usual case: a known customer), so a
# page of events does not rewrite a hundred customer rows and their index entries.
UPSERT_SEEN = """
INSERT INTO customers (id, email, email_norm, domain, first_name, last_name, company, origin, updated_at)
VALUES (?, ?, ?, ?, ?, ?, '', 'seen', ?)
ON CONFLICT(id) DO UPDATE SET
  email = COALESCE(NULLIF(customers.email, ''), excluded.email),
  email_norm = COALESCE(customers.email_norm, excluded.email_norm),
  domain = COALESCE(customers.domain, excluded.domain),
  first_name = COALESCE(NULLIF(customers.first_name, ''), excluded.first_name),
  last_name = COALESCE(NULLIF(customers.last_name, ''), excluded.last_name)
WHERE (NULLIF(customers.email, '') IS NULL AND excluded.email IS NOT NULL)
   OR (customers.email_norm IS NULL AND excluded.email_norm IS NOT NULL)
   OR (customers.domain IS NULL AND excluded.domain IS NOT NULL)
   OR (NULLIF(customers.first_name, '') IS NULL AND excluded.first_name IS NOT NULL)
   OR (NULLIF(customers.last_name, '') IS NULL AND excluded.last_name IS NOT NULL)
"""


def customer_row(customer: Customer, updated_at: str) -> tuple[str | None, ...]:
    """The parameters of UPSERT_IMPORTED for one customer; the time already in database form
    (a bulk import formats it once)."""
    email = customer.email.strip()
    norm = email.lower() or None
    return (
        customer.id,
        email,
        norm,
        norm.rpartition("@")[2] or None if norm and "@" in norm else None,  # email_domain, inlined: hot
        customer.first_name,
        customer.last_name,
        customer.company,
        updated_at,
    )


def upsert_imported(conn: sqlite3.Connection, rows: Iterable[tuple[str | None, ...]]) -> None:
    """Within the caller's transaction: one prepared statement for the whole batch."""
    conn.executemany(UPSERT_IMPORTED, rows)


def get_customer(db: Database, customer_id: str) -> dict[str, object] | None:
    rows = list(db.query("SELECT * FROM customers WHERE id = ?", [customer_id]))
    return rows[0] if rows else None


def count_customers(db: Database) -> int:
    return int(db.execute("SELECT COUNT(*) FROM customers").fetchone()[0])

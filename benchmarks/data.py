"""Synthetic data at scale: a customer directory, Sentry issues and events, Mailgun events
and bounces. Deterministic (the same scale gives the same data) and generated as streams,
so a million customers never sit in a Python list.

The population: customer `i` has ID `100000 + i` and the address `user{i}@firm{i}.example`
(one customer per company domain, so a colleague's address links weakly by domain). Sentry
events name a customer by `user.id` (70%), only by a customer's address (20%) or not at all
(10%); Mailgun recipients are customers (60%), colleagues at a customer's firm (20%) or
strangers at a public provider (20%). So every linking step has work to do.

Every event lies between six days and three hours before `now`: the first poll (seven days
back) reads them all, and a second poll finds nothing new, not even in its overlap."""

from __future__ import annotations

import csv
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from monitor.core.timeutil import to_db
from monitor.simulators.mailgun import MailgunScenario
from monitor.simulators.sentry import SentryScenario

FIRST_ID = 100_000
SPAN = timedelta(days=6) - timedelta(hours=3)  # where events fall, ending 3 hours before now
SENTRY_TITLES = (
    ("Zuora::Error: Postal code is invalid", "SubscriptionsController#create"),
    ("Your card was declined.", "PaymentsController#create"),
    ("Cannot purchase add-on: the subscription has expired", "OrdersController#create"),
    ("NoMethodError: undefined method `plan_id' for nil", "SubscriptionsController#new"),
    ("Redis::TimeoutError: Connection timed out", "SessionsController#create"),
)
BOUNCE_ERRORS = ("5.1.1 The email account does not exist", "5.2.1 Mailbox disabled", "5.4.1 Relay denied")


def customer_id(i: int) -> str:
    return str(FIRST_ID + i)


def customer_email(i: int) -> str:
    return f"user{i}@firm{i}.example"


def customer_rows(count: int, updated_at: str) -> Iterator[tuple[str, ...]]:
    """Rows of the customers table (the import's column order), one at a time."""
    for i in range(count):
        email = customer_email(i)
        yield (
            customer_id(i),
            email,
            email,
            f"firm{i}.example",
            f"First{i}",
            f"Last{i}",
            f"Firm {i}",
            "import",
            updated_at,
        )


def insert_customers(conn: sqlite3.Connection, count: int, now: datetime) -> None:
    """A directory of `count` customers, straight into the customers table in one transaction."""
    conn.execute("BEGIN")
    conn.executemany(
        "INSERT INTO customers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", customer_rows(count, to_db(now))
    )
    conn.execute("COMMIT")
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # so the timed work does not pay for this setup


def write_customers_csv(path: Path, count: int) -> None:
    """The import file: CSV with a header row, as `monitor customers import` takes it."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "email", "first_name", "last_name", "company"])
        writer.writerows(
            (customer_id(i), customer_email(i), f"First{i}", f"Last{i}", f"Firm {i}") for i in range(count)
        )


def _moment(now: datetime, index: int, total: int) -> datetime:
    """The index-th of `total` moments spread over SPAN, oldest first, in whole milliseconds."""
    offset = SPAN * (index / max(total, 1))
    return (now - timedelta(hours=3) - SPAN + offset).replace(microsecond=(index % 1000) * 1000)


def sentry_scenario(issues: int, per_issue: int, customers: int, now: datetime) -> SentryScenario:
    """`issues` issues of `per_issue` events each, titles cycling through the categories."""
    scenario = SentryScenario()
    total = issues * per_issue
    for i in range(issues):
        title, culprit = SENTRY_TITLES[i % len(SENTRY_TITLES)]
        issue_id = str(10_000 + i)
        scenario.add_issue(issue_id, f"{title} ({i})", culprit=culprit)
        for j in range(per_issue):
            n = j * issues + i  # issues interleave in time, as real traffic does
            scenario.add_event(
                issue_id, f"{i:016x}{j:016x}", _moment(now, n, total), user=_sentry_user(n, customers)
            )
    return scenario


def _sentry_user(n: int, customers: int) -> dict[str, str] | None:
    who = (n * 7919) % customers
    kind = n % 10
    if kind < 7:
        return {"id": customer_id(who), "email": customer_email(who), "username": f"user{who}"}
    if kind < 9:
        return {"email": customer_email(who).upper()}  # matched case-insensitively
    return None


def mailgun_scenario(events: int, bounces: int, customers: int, now: datetime) -> MailgunScenario:
    """`events` reported events (permanent failures, complaints, unsubscribes; plus one
    temporary failure in ten, which a poll must skip) and `bounces` bounce-list entries."""
    scenario = MailgunScenario()
    for n in range(events):
        at = _moment(now, n, events).timestamp()
        recipient = _recipient(n, customers)
        kind = n % 20
        if kind < 14:
            scenario.add_event(
                "failed",
                recipient,
                at,
                severity="permanent",
                reason="generic",
                code=550,
                message="550 5.1.1 mailbox unavailable",
            )
        elif kind < 17:
            scenario.add_event("complained", recipient, at)
        else:
            scenario.add_event("unsubscribed", recipient, at)
        if n % 10 == 0:
            scenario.add_event(
                "failed", recipient, at + 0.5, severity="temporary", reason="generic", code=421
            )
    for n in range(bounces):
        created = _moment(now, n, bounces)
        scenario.add_bounce(
            f"bounce{n}@" + _domain(n, customers), error=BOUNCE_ERRORS[n % 3], created_at=created
        )
    return scenario


def _recipient(n: int, customers: int) -> str:
    who = (n * 7919) % customers
    kind = n % 5
    if kind < 3:
        return customer_email(who)
    if kind < 4:
        return f"colleague{n}@firm{who}.example"  # a weak, domain-only link
    return f"someone{n}@gmail.com"  # a public provider: never linked by domain


def _domain(n: int, customers: int) -> str:
    who = (n * 104_729) % customers
    return f"firm{who}.example" if n % 2 else "gmail.com"

"""The digest of a day with 10,000 affected customers (build + render) against a plain jinja2
render of the same rows.

The day holds three signals per customer (a purchase error, a second one of the same issue,
and a bounce for one customer in three, an unsubscribe otherwise) plus unlinked bounces.
The monitor does what the daily digest job does before handing the message to SMTP: it
queries the day, builds the digest (grouping, ranking, trend, source health) and renders the
mail's two bodies, text and HTML (the top customers, CSS inlined). The floor reads the same
rows with one query and renders them, every row, as an HTML table with an autoescaping
jinja2 template. The JSON form (`monitor digest --format json`, every customer) is timed on
its own and reported in the details."""

from __future__ import annotations

import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from jinja2 import Environment
from sqlite_utils import Database

from benchmarks import Run, Scale, measure, progress, timed, versus
from benchmarks.data import customer_email, customer_id, insert_customers
from monitor.config.settings import DigestSettings, MailgunSettings, MonitorSettings, SentrySettings, Settings
from monitor.core.models import Signal
from monitor.core.timeutil import day_window, to_db
from monitor.digest.build import build_digest
from monitor.digest.render import render_html, render_json, render_text
from monitor.store import open_db
from monitor.store.digest import digest_input
from monitor.store.signals import save_signals

TARGET = 1.5
DAY = date(2026, 11, 23)
FLOOR_QUERY = """
SELECT s.source, s.category, s.occurred_at, s.title, s.url, s.email, l.customer_id, l.match,
       c.email AS customer_email, c.first_name, c.last_name
FROM signals s LEFT JOIN links l ON l.signal_id = s.id LEFT JOIN customers c ON c.id = l.customer_id
WHERE s.occurred_at >= ? AND s.occurred_at < ?
ORDER BY s.occurred_at, s.id
"""
FLOOR_TEMPLATE = """<html><body><h1>Digest of {{ day }}</h1><table>
<tr><th>Customer</th><th>Name</th><th>Email</th><th>Source</th><th>Category</th><th>When</th><th>What</th></tr>
{% for r in rows %}<tr><td>{{ r.customer_id or "" }}</td>
<td>{{ r.first_name or "" }} {{ r.last_name or "" }}</td><td>{{ r.customer_email or r.email or "" }}</td>
<td>{{ r.source }}</td><td>{{ r.category }}</td><td>{{ r.occurred_at }}</td>
<td><a href="{{ r.url }}">{{ r.title }}</a></td></tr>
{% endfor %}</table></body></html>
"""


def settings(database: Path) -> Settings:
    return Settings(
        monitor=MonitorSettings(timezone="Europe/Amsterdam", database=database),
        sentry=SentrySettings(organization="gitlab", project="customersgitlabcom"),
        mailgun=MailgunSettings(domain="customers.gitlab.com"),
        digest=DigestSettings(recipients=("support@example.com",), sender="Monitor <monitor@example.com>"),
    )


def day_signals(customers: int, start: datetime) -> list[Signal]:
    """Three signals per affected customer, spread over the day, plus one unlinked bounce in ten."""
    signals = []
    for i in range(customers):
        at = start + timedelta(seconds=(i * 8.64) % 86_000)
        cid, email = customer_id(i), customer_email(i)
        issue = str(4000 + i % 50)
        url = f"https://sentry.io/organizations/gitlab/issues/{issue}/events/{i:032x}/"
        for n in range(2):
            signals.append(
                Signal(
                    "sentry",
                    f"{i:030x}{n:02x}",
                    "address_or_card",
                    at + timedelta(minutes=n),
                    f"Zuora::Error: Postal code is <invalid> ({i % 50})",
                    issue,
                    url,
                    customer_ref=cid,
                    email=email,
                )
            )
        kind = "bounce" if i % 3 == 0 else "unsubscribe"
        signals.append(
            Signal(
                "mailgun",
                f"{kind}:{email}:{DAY}",
                kind,
                at + timedelta(hours=1),
                "550 5.1.1",
                f"{kind}:{email}",
                email=email,
            )
        )
        if i % 10 == 0:
            stranger = f"stranger{i}@gmail.com"
            signals.append(
                Signal(
                    "mailgun",
                    f"bounce:{stranger}:{DAY}",
                    "bounce",
                    at,
                    "550 no such user",
                    f"bounce:{stranger}",
                    email=stranger,
                )
            )
    return signals


def build(folder: Path, scale: Scale, now: datetime) -> tuple[Database, Settings]:
    config = settings(folder / "digest.db")
    db = open_db(config.monitor.database)
    insert_customers(db.conn, scale.digest_customers * 10, now)
    signals = day_signals(scale.digest_customers, day_window(DAY, config.zone)[0])
    for start in range(0, len(signals), 2_000):
        save_signals(db, signals[start : start + 2_000], now=now)
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return db, config


def monitor_digest(db: Database, config: Settings, now: datetime) -> tuple[Run, dict[str, Any]]:
    """(the build and the mail's bodies, the built digest)."""

    def work() -> dict[str, Any]:
        digest = build_digest(digest_input(db, config, DAY, now), config)
        render_text(digest, config.digest.max_customers), render_html(digest, config.digest.max_customers)
        return digest

    return measure(work)


def floor_digest(db: Database, config: Settings) -> tuple[Run, int]:
    template = Environment(autoescape=True).from_string(FLOOR_TEMPLATE)
    start, end = day_window(DAY, config.zone)

    def work() -> int:
        cursor = db.conn.execute(FLOOR_QUERY, (to_db(start), to_db(end)))
        names = [column[0] for column in cursor.description]
        rows = [dict(zip(names, row, strict=True)) for row in cursor]
        template.render(day=DAY.isoformat(), rows=rows)
        return len(rows)

    return measure(work)


def run(scale: Scale, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    now = datetime.combine(DAY + timedelta(days=1), datetime.min.time(), UTC) + timedelta(hours=8)
    with tempfile.TemporaryDirectory(prefix="bench-digest-") as name:
        seconds, (db, config) = timed(lambda: build(Path(name), scale, now))
        progress(f"digest: {scale.digest_customers:,} affected customers generated in {seconds:.1f} s")
        floor_digest(db, config), monitor_digest(db, config, now)  # compile the templates: not timed
        floors, monitors = [], []
        for _ in range(scale.repeats):
            floors.append(floor_digest(db, config))
            monitors.append(monitor_digest(db, config, now))
            progress(f"digest: monitor {monitors[-1][0].seconds:.2f} s, floor {floors[-1][0].seconds:.2f} s")
        db.conn.close()
    digest, rows = monitors[-1][1], floors[-1][1]
    customers = len(digest["customers"])
    if customers != scale.digest_customers:
        raise RuntimeError(f"the digest holds {customers} customers, not {scale.digest_customers}")
    figure, details = versus([run for run, _ in monitors], [run for run, _ in floors], TARGET)
    json_seconds, text = timed(lambda: render_json(digest))
    details.update(customers=customers, rows=rows, json_seconds=round(json_seconds, 3), json_bytes=len(text))
    return {"digest_vs_jinja2": figure}, details

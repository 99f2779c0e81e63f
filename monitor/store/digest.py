"""The digest's queries: a day's signals with their links and customers, late signals, the
14-day trend per category and each source's health. Read-only; the build (`monitor.digest.build`)
turns these rows into the digest."""

from __future__ import annotations

import json
import sqlite3
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from monitor.config.settings import Settings
from monitor.core.models import REPORTED_CATEGORIES
from monitor.core.timeutil import day_window, from_db, local_day, to_db
from monitor.digest.model import DigestInput, SignalRow, SourceRuns
from monitor.store.acks import FOLLOW_UP_DAYS, seen_since
from monitor.store.acks import for_day as acks_for_day
from monitor.store.runs import failing_since, last_run

TREND_DAYS = 14
_CATEGORIES = ", ".join(f"'{category}'" for category in REPORTED_CATEGORIES)  # constants, not data

SELECT_ROWS = f"""
SELECT s.source, s.category, s.occurred_at, s.stored_at, s.title, s.grp, s.url, s.email, s.email_norm,
       s.name, s.action, l.customer_id, l.match, l.confidence, c.email AS customer_email,
       TRIM(COALESCE(c.first_name, '') || ' ' || COALESCE(c.last_name, '')) AS customer_name,
       COALESCE(c.company, '') AS company,
       json_extract(s.detail, '$.dated_by') IS 'issue' AS uncertain,
       COALESCE(json_extract(s.detail, '$.rule'), '') AS rule
FROM signals s
LEFT JOIN links l ON l.signal_id = s.id
LEFT JOIN customers c ON c.id = l.customer_id
WHERE s.category IN ({_CATEGORIES}) AND {{where}}
ORDER BY s.occurred_at, s.source, s.key
"""
# Rows come in an order of the facts (time, then the source's own key), not of the row ids:
# where the build keeps the first of equals, a day regenerates the same after any poll order.

# Signals per category in one window; a permanent failure of an address that bounced in the
# same window is counted as that bounce only, as the digest's lines show it. A bounce is
# Mailgun's and carries no customer ID: saying so lets the partial address index serve.
COUNT_CATEGORIES = f"""
SELECT s.category, COUNT(*) FROM signals s
WHERE s.occurred_at >= :start AND s.occurred_at < :end AND s.category IN ({_CATEGORIES})
  AND NOT (s.category = 'failed_delivery' AND EXISTS (
      SELECT 1 FROM signals b WHERE b.category = 'bounce' AND b.email_norm = s.email_norm
        AND b.customer_ref IS NULL
        AND b.occurred_at >= :start AND b.occurred_at < :end))
GROUP BY s.category
"""

# The first time each day's digest went out to anyone.
FIRST_SENT = "SELECT day, MIN(sent_at) FROM digest_sends WHERE status = 'sent' GROUP BY day"

# Which job polls which source.
SOURCE_JOBS = {"sentry": "poll-sentry", "mailgun": "poll-mailgun"}


def _row(record: sqlite3.Row | tuple[Any, ...]) -> SignalRow:
    (source, category, occurred, stored, title, grp, url, email, email_norm, name, action) = record[:11]
    (customer_id, match, confidence, customer_email, customer_name, company, uncertain, rule) = record[11:]
    # Positional, in SignalRow's field order: this runs once per row of the day.
    return SignalRow(
        source,
        category,
        from_db(occurred),
        from_db(stored),
        title,
        grp,
        url or "",
        email,
        email_norm,
        name,
        action or "",
        customer_id,
        match,
        float(confidence or 0.0),
        customer_email,
        customer_name or "",
        company or "",
        rule or "",
        bool(uncertain),
    )


# An event that carried no time of its own is dated by its issue: it never counts as a signal
# of that day, but shows as late and uncertain in the digest of the day it was stored.
DATED = "json_extract(s.detail, '$.dated_by') IS NOT 'issue'"
UNDATED = "json_extract(s.detail, '$.dated_by') IS 'issue'"


def day_rows(db: Database, start: datetime, end: datetime) -> list[SignalRow]:
    """Reported signals that occurred in [start, end), with link and customer."""
    sql = SELECT_ROWS.format(where=f"s.occurred_at >= :start AND s.occurred_at < :end AND {DATED}")
    return [_row(r) for r in db.execute(sql, {"start": to_db(start), "end": to_db(end)})]


def late_rows(db: Database, start: datetime, end: datetime, zone: ZoneInfo) -> list[SignalRow]:
    """Signals of earlier days stored in [start, end) after their own day's digest was sent.

    Each signal has one `stored_at`, so it is late in exactly one digest: the one whose window
    holds the moment it was stored. A suppression list's first snapshot (`detail.backfill`)
    is history the monitor had never seen, not news arriving late: it is left out. Events with
    no time of their own stored in [start, end) are late too, marked uncertain."""
    window = {"start": to_db(start), "end": to_db(end)}
    sql = SELECT_ROWS.format(
        where="s.occurred_at < :start AND s.stored_at >= :start AND s.stored_at < :end"
        f" AND json_extract(s.detail, '$.backfill') IS NOT 1 AND {DATED}"
    )
    candidates = [_row(r) for r in db.execute(sql, window)]
    undated_sql = SELECT_ROWS.format(where=f"s.stored_at >= :start AND s.stored_at < :end AND {UNDATED}")
    undated = [_row(r) for r in db.execute(undated_sql, window)]
    if not candidates:
        return undated
    first_sent = {day: from_db(sent) for day, sent in db.execute(FIRST_SENT) if sent}
    late = []
    for row in candidates:
        sent = first_sent.get(local_day(row.occurred_at, zone).isoformat())
        if sent is not None and sent < row.stored_at:
            late.append(row)
    return late + undated


def trend(
    db: Database, day: date, zone: ZoneInfo, days: int = TREND_DAYS
) -> list[tuple[date, dict[str, int]]]:
    """Signals per category for each of the `days` local days ending with `day`, oldest first."""
    result = []
    for offset in range(days - 1, -1, -1):
        current = day - timedelta(days=offset)
        start, end = day_window(current, zone)
        counts = db.execute(COUNT_CATEGORIES, {"start": to_db(start), "end": to_db(end)}).fetchall()
        result.append((current, {category: int(count) for category, count in counts}))
    return result


def source_runs(db: Database, settings: Settings) -> list[SourceRuns]:
    """The poll history of each configured source."""
    configured = {"sentry": settings.sentry, "mailgun": settings.mailgun}
    found = []
    for name, job in SOURCE_JOBS.items():
        if configured[name] is None:
            continue
        last = last_run(db, job)
        success = last_run(db, job, "ok")
        found.append(
            SourceRuns(
                name=name,
                last_success=success.finished_at if success else None,
                last_outcome=last.outcome if last else None,
                last_error=last.error if last else None,
                failing_since=failing_since(db, job, success) if last and last.outcome == "failed" else None,
            )
        )
    return found


def digest_input(db: Database, settings: Settings, day: date, now: datetime) -> DigestInput:
    """Everything the build needs for `day` in the configured time zone."""
    zone = settings.zone
    start, end = day_window(day, zone)
    rows = day_rows(db, start, end)
    customers = {row.customer_id for row in rows if row.customer_id}
    acks = acks_for_day(db, customers, start, end)
    return DigestInput(
        day=day,
        zone=zone,
        window=(start, end),
        rows=rows,
        late=late_rows(db, start, end, zone),
        trend=trend(db, day, zone),
        sources=source_runs(db, settings),
        now=now,
        earlier=earliest_days(db, customers, day, zone),
        acks=acks,
        seen_since_ack=seen_since(db, acks.values(), start, end),
    )


# Per customer, the first reported signal in a window (the 14 days before a day).
EARLIEST = f"""
SELECT l.customer_id, MIN(s.occurred_at) FROM signals s JOIN links l ON l.signal_id = s.id
WHERE l.customer_id IN (SELECT value FROM json_each(:ids)) AND s.category IN ({_CATEGORIES})
  AND s.occurred_at >= :start AND s.occurred_at < :end AND {DATED}
GROUP BY l.customer_id
"""


def earliest_days(db: Database, customers: set[str], day: date, zone: ZoneInfo) -> dict[str, date]:
    """The earliest local day with a reported signal in the 14 days before `day`, per customer."""
    if not customers:
        return {}
    start = day_window(day - timedelta(days=FOLLOW_UP_DAYS), zone)[0]
    end = day_window(day, zone)[0]
    params = {"ids": json.dumps(sorted(customers)), "start": to_db(start), "end": to_db(end)}
    return {cid: local_day(from_db(first), zone) for cid, first in db.execute(EARLIEST, params)}

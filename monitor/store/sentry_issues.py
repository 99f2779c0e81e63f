"""The Sentry poll's bookkeeping: which issues were read in full, up to which lastSeen and
event count. The poll decides; these run the SQL (what a batch added comes from `store.batch.Saved`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlite_utils import Database

from monitor.core.timeutil import from_db, to_db
from monitor.writer.tx import Statement

CHUNK = 500  # stays under SQLite's bound-parameter limit

UPSERT_ISSUE = """
INSERT INTO sentry_issues (issue_id, last_seen, title, category, updated_at, event_count)
VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT(issue_id) DO UPDATE SET
  last_seen = excluded.last_seen, title = excluded.title, category = excluded.category,
  updated_at = excluded.updated_at, event_count = excluded.event_count
"""


def known_issues(db: Database, ids: Sequence[str]) -> dict[str, tuple[datetime | None, int | None]]:
    """issue id -> (lastSeen, lifetime event count) when its events were last read in full."""
    known: dict[str, tuple[datetime | None, int | None]] = {}
    for start in range(0, len(ids), CHUNK):
        chunk = list(ids[start : start + CHUNK])
        marks = ",".join("?" * len(chunk))
        sql = f"SELECT issue_id, last_seen, event_count FROM sentry_issues WHERE issue_id IN ({marks})"
        for issue_id, last_seen, count in db.execute(sql, chunk).fetchall():
            known[issue_id] = (from_db(last_seen) if last_seen else None, count)
    return known


def remember_issue(
    issue_id: str,
    *,
    last_seen: datetime | None,
    event_count: int | None,
    title: str,
    category: str,
    now: datetime,
) -> Statement:
    """A statement for `SignalBatch.add(also=...)`: marks the issue read in full, in the
    transaction of its last page, so a crash before that page re-reads the issue next time."""
    row = (issue_id, to_db(last_seen) if last_seen else None, title, category, to_db(now), event_count)
    return Statement(UPSERT_ISSUE, row)

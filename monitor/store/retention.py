"""Retention: personal data (emails, names in signals) is kept `retention_days`, then purged.

Kept on purpose: the imported customer directory (it is the operator's own data), and the
suppression rows that are still on a Mailgun list (the reconciliation diffs against them;
dropping one would make it reappear as a new bounce)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.config.settings import Settings
from monitor.core.timeutil import to_db
from monitor.store import write_tx
from monitor.store.acks import ENDED as ACK_ENDED

# (what, statement); each takes the cutoff as its only parameter.
PURGE_STEPS = (
    ("signals", "DELETE FROM signals WHERE occurred_at < ?"),  # their links go too (ON DELETE CASCADE)
    (
        "customers seen only in signals",
        "DELETE FROM customers WHERE origin = 'seen' AND updated_at < ?"
        " AND id NOT IN (SELECT customer_ref FROM signals WHERE customer_ref IS NOT NULL)",
    ),
    ("removed suppressions", "DELETE FROM suppressions WHERE removed_at IS NOT NULL AND removed_at < ?"),
    ("suppression removals", "DELETE FROM suppression_removals WHERE removed_at < ?"),
    ("digest sends", "DELETE FROM digest_sends WHERE claimed_at < ?"),
    ("job runs", "DELETE FROM job_runs WHERE started_at < ?"),
    # Notes and names are personal data: kept while an acknowledgement counts, then as long
    # as the days it covered can be rebuilt (a digest older than retention_days is refused).
    ("acknowledgements", f"DELETE FROM acknowledgements WHERE {ACK_ENDED} < ?"),
)


@dataclass(frozen=True)
class PurgeResult:
    cutoff: datetime
    deleted: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.deleted.values())


def purge_cutoff(settings: Settings, now: datetime) -> datetime:
    return now - timedelta(days=settings.monitor.retention_days)


def purge(db: Database, settings: Settings, now: datetime, *, dry_run: bool = False) -> PurgeResult:
    """Delete what is older than the retention period, in one transaction."""
    cutoff = purge_cutoff(settings, now)
    deleted: dict[str, int] = {}
    with write_tx(db) as conn:
        for what, statement in PURGE_STEPS:
            if dry_run:
                count_sql = statement.replace("DELETE FROM", "SELECT COUNT(*) FROM", 1)
                deleted[what] = int(conn.execute(count_sql, (to_db(cutoff),)).fetchone()[0])
            else:
                deleted[what] = max(conn.execute(statement, (to_db(cutoff),)).rowcount, 0)
    return PurgeResult(cutoff=cutoff, deleted=deleted)

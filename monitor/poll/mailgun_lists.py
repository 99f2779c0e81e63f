"""Reconciling the suppression lists (bounces, complaints, unsubscribes) with the `suppressions` table.

The lists page alphabetically and have no date filter, so "what is new" can only be a diff
against a full snapshot: each list is read to its end (1000 per page), every page's entries
are stored in the same transaction as their new or re-added signals (a few pages per
transaction, `SignalBatch`), and only after a COMPLETE
snapshot are the entries that disappeared recorded as removed (the address can receive mail
again). A failed or cut-off snapshot never marks anything removed."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from monitor.config.settings import Settings
from monitor.core.errors import SourceError
from monitor.core.models import Signal, normalize_email
from monitor.core.timeutil import to_db
from monitor.poll.mailgun_events import Tally, tally
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_client import LIST_LIMIT, list_url, section, walk
from monitor.sources.mailgun_entries import entry_to_signal, parse_entry
from monitor.sources.mailgun_parse import LISTS, Entry
from monitor.store import write_tx
from monitor.store.batch import Saved, SignalBatch
from monitor.writer.tx import Statement

log = logging.getLogger(__name__)

MAX_LIST_PAGES = 2000  # 2 million addresses per list
LOGGED_REMOVALS = 20  # addresses named in the log per list and run; the rest are counted

UPSERT_ENTRY = """
INSERT INTO suppressions (list, address_norm, address, created_at, first_seen_at, last_seen_at, removed_at,
                          detail)
VALUES (?, ?, ?, ?, ?, ?, NULL, ?)
ON CONFLICT (list, address_norm) DO UPDATE SET
  address = excluded.address, created_at = excluded.created_at, last_seen_at = excluded.last_seen_at,
  removed_at = NULL, detail = excluded.detail
"""

# A permanent failure stored before the address reached the bounce list is the same bounce:
# it becomes the bounce (keeping its link and its more telling title) instead of a second signal.
PROMOTE_FAILED_DELIVERY = """
UPDATE signals SET category = 'bounce', key = :key, grp = :grp, action = :action
WHERE source = 'mailgun' AND key = :old_key
  AND NOT EXISTS (SELECT 1 FROM signals WHERE source = 'mailgun' AND key = :key)
"""


PROMOTED = "promoted"  # the rows PROMOTE_FAILED_DELIVERY changed, counted in the batch's result

MARK_REMOVED = (
    "UPDATE suppressions SET removed_at = ? WHERE list = ? AND address_norm = ? AND removed_at IS NULL"
)


@dataclass
class ListStats(Tally):
    pages: int = 0
    requests: int = 0
    entries: Counter[str] = field(default_factory=Counter)  # per list, in this snapshot
    added: int = 0  # entries not known before
    readded: int = 0  # known entries with a new created_at, or back after a removal
    removed: int = 0  # entries that disappeared from a complete snapshot
    promoted: int = 0  # failed deliveries that turned out to be bounces
    skipped: int = 0  # entries that could not be read

    def counts(self) -> dict[str, object]:
        return {
            "pages": self.pages,
            "requests": self.requests,
            **{name: self.entries[name] for name in LISTS},
            "added": self.added,
            "readded": self.readded,
            "removed": self.removed,
            "promoted": self.promoted,
            "new": self.new,
            "linked": self.linked,
            "unlinked": self.new - self.linked,
            "skipped": self.skipped,
        }

    def summary(self) -> str:
        sizes = ", ".join(f"{self.entries[name]} {name}" for name in LISTS)
        return (
            f"Mailgun lists: {sizes}; {self.added} added, {self.readded} re-added, {self.removed} removed; "
            f"{self.new} new signals, {self.linked} linked"
            + (f", {self.skipped} unreadable entries skipped" if self.skipped else "")
        )


def reconcile_lists(db: Database, client: HttpClient, settings: Settings, now: datetime) -> ListStats:
    """Reconcile the three lists. A passing failure (5xx, a malformed page) of one list does not
    stop the others; the first such error is raised at the end. A permanent one (401, 404) is
    raised at once: the other lists would answer the same."""
    stats = ListStats()
    errors: list[SourceError] = []
    before = client.requests_made
    try:
        for name in LISTS:
            try:
                reconcile_list(db, client, settings, name, now, stats)
            except SourceError as err:
                if err.permanent:
                    raise
                log.warning("Mailgun %s list not reconciled: %s", name, err)
                errors.append(err)
    finally:
        stats.requests = client.requests_made - before
    if errors:
        raise errors[0]
    return stats


def reconcile_list(
    db: Database, client: HttpClient, settings: Settings, name: str, now: datetime, stats: ListStats
) -> None:
    # A list's first snapshot (nothing of it on record) can neither re-add nor remove
    # anything, so it skips the lookups and the snapshot table: all of it is new.
    backfill = not _has_entries(db, name)
    seen = None if backfill else _Snapshot(db)
    url = list_url(section(settings), name)
    # Pages are written about 1,000 signals at a time (see `SignalBatch`); each page's entries
    # go into the same transaction as its signals. Leaving the block writes the pages read so
    # far, also when the snapshot stops early.
    with SignalBatch(
        db,
        now=now,
        extra_public_domains=section(settings).public_domains,
        on_saved=lambda saved: _count(stats, saved),
    ) as batch:
        for step in walk(client, url, {"limit": str(LIST_LIMIT)}, cap=MAX_LIST_PAGES, short_page_ends=True):
            stats.pages += 1
            entries: dict[str, Entry] = {}
            for item in step.items:
                try:
                    entry = parse_entry(name, item)
                except ValueError as err:
                    stats.skipped += 1
                    log.warning("Mailgun %s list: skipped an entry (%s)", name, err)
                    # Still present on the list: it must not count as having disappeared.
                    norm = normalize_email(str(item.get("address") or "")) if isinstance(item, dict) else None
                    if seen is not None and norm:
                        seen.add([norm])
                    continue
                entries[entry.address_norm] = entry
            if seen is not None:
                seen.add(entries)
            stats.entries[name] += len(entries)
            _add_page(db, batch, settings, name, list(entries.values()), now, stats, backfill=backfill)
    if seen is not None:
        stats.removed += _mark_removed(db, name, now)


def _count(stats: ListStats, saved: Saved) -> None:
    stats.add(tally(saved))
    stats.promoted += saved.counted.get(PROMOTED, 0)


def _add_page(
    db: Database,
    batch: SignalBatch,
    settings: Settings,
    name: str,
    entries: Sequence[Entry],
    now: datetime,
    stats: ListStats,
    *,
    backfill: bool,
) -> None:
    known = {} if backfill else _known(db, name, [entry.address_norm for entry in entries])
    changed = [entry for entry in entries if _is_news(entry, known.get(entry.address_norm))]
    readded = sum(1 for entry in changed if entry.address_norm in known)
    stats.added += len(changed) - readded
    stats.readded += readded
    signals = [_signal(entry, settings, backfill) for entry in changed]
    promote = _promote_failed_deliveries(signals) if name == "bounces" and signals else ()
    batch.add(signals, before=promote, also=[_upsert(entries, now)])


def _signal(entry: Entry, settings: Settings, backfill: bool) -> Signal:
    # The first snapshot of a list brings in its whole history; the mark lets reports tell
    # old entries from news.
    return entry_to_signal(entry, section(settings), settings.links.mailgun_logs, backfill=backfill)


def _is_news(entry: Entry, known: tuple[str, str | None] | None) -> bool:
    """New, back after a removal, or added again (Mailgun resets `created_at` on a re-add)."""
    if known is None:
        return True
    created_at, removed_at = known
    return removed_at is not None or created_at != to_db(entry.created_at)


def _known(db: Database, name: str, norms: Sequence[str]) -> dict[str, tuple[str, str | None]]:
    known: dict[str, tuple[str, str | None]] = {}
    for start in range(0, len(norms), 500):
        chunk = list(norms[start : start + 500])
        sql = (
            "SELECT address_norm, created_at, removed_at FROM suppressions WHERE list = ?"
            f" AND address_norm IN ({','.join('?' * len(chunk))})"
        )
        for norm, created_at, removed_at in db.execute(sql, [name, *chunk]).fetchall():
            known[norm] = (created_at, removed_at)
    return known


def _has_entries(db: Database, name: str) -> bool:
    return db.execute("SELECT 1 FROM suppressions WHERE list = ? LIMIT 1", [name]).fetchone() is not None


def _upsert(entries: Sequence[Entry], now: datetime) -> Statement:
    """Every entry of the page, seen now; runs inside the page's signal transaction."""
    seen_at = to_db(now)
    rows = [
        (e.list, e.address_norm, e.address, to_db(e.created_at), seen_at, seen_at, json.dumps(e.detail))
        for e in entries
    ]
    return Statement(UPSERT_ENTRY, rows, many=True)


def _promote_failed_deliveries(bounces: Sequence[Signal]) -> list[Statement]:
    """A statement ahead of the page's insert, in its transaction: each earlier permanent
    failure to an address now on the bounce list becomes that bounce, so the insert then finds
    the bounce stored and ignores it. One prepared statement for the page."""
    params = [
        {
            "key": s.key,
            "grp": s.group,
            "action": s.action,
            "old_key": "failed_delivery" + s.key[len("bounce") :],
        }
        for s in bounces
    ]
    return [Statement(PROMOTE_FAILED_DELIVERY, params, many=True, counted=PROMOTED)]


class _Snapshot:
    """The addresses one snapshot of a list has shown so far. Kept in a temporary table, not a
    Python set, so a list of a million addresses is diffed without a million strings in memory."""

    def __init__(self, db: Database) -> None:
        self.conn = db.conn
        self.conn.execute("CREATE TEMP TABLE IF NOT EXISTS snapshot (address_norm TEXT PRIMARY KEY)")
        self.conn.execute("DELETE FROM temp.snapshot")

    def add(self, norms: Iterable[str]) -> None:
        self.conn.executemany("INSERT OR IGNORE INTO temp.snapshot VALUES (?)", [(norm,) for norm in norms])


# Entries on record that the snapshot (temp.snapshot) did not show: usually a handful.
GONE = """
SELECT address_norm, address FROM suppressions s
WHERE list = ? AND removed_at IS NULL
  AND NOT EXISTS (SELECT 1 FROM temp.snapshot t WHERE t.address_norm = s.address_norm)
"""


def _mark_removed(db: Database, name: str, now: datetime) -> int:
    """After a complete snapshot: entries on record but no longer on the list."""
    gone = db.execute(GONE, [name]).fetchall()
    db.conn.execute("DELETE FROM temp.snapshot")
    if not gone:
        return 0
    with write_tx(db) as conn:
        conn.executemany(MARK_REMOVED, [(to_db(now), name, norm) for norm, _ in gone])
    for _, address in gone[:LOGGED_REMOVALS]:
        log.info("Mailgun: %s is no longer on the %s list; it can receive mail again", address, name)
    if len(gone) > LOGGED_REMOVALS:
        log.info("Mailgun: ... and %d more addresses left the %s list", len(gone) - LOGGED_REMOVALS, name)
    return len(gone)


def record_removal(db: Database, list_name: str, address: str, now: datetime, removed_by: str) -> None:
    """A removal done through `monitor suppressions remove`: logged, and the entry marked removed
    (the next reconcile then finds it gone without counting it again)."""
    norm = normalize_email(address) or address
    with write_tx(db) as conn:
        conn.execute(
            "INSERT INTO suppression_removals (list, address, removed_at, removed_by) VALUES (?, ?, ?, ?)",
            (list_name, address.strip(), to_db(now), removed_by),
        )
        conn.execute(MARK_REMOVED, (to_db(now), list_name, norm))

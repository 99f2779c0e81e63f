"""The events poll: permanent failures, complaints and unsubscribes since the last poll, from
the Logs API (`[mailgun] events_api = "logs"`, the default) or the Events API (`"events"`).

One poll reads one closed window, ascending, `[cursor - overlap, now - trust]` (see
`mailgun_parse.poll_window`), in ONE query for the three event types; temporary failures are
dropped here rather than in a second query, so a poll with nothing new costs one request.
Pages are stored a few at a time (one transaction per ~1,000 signals, `SignalBatch`); the
cursor moves to the window's end together with the final (empty) page, so a failure part-way
repeats the window next time and the signal keys make the repeat harmless."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from monitor.config.settings import MailgunSettings, Settings
from monitor.core.models import MAIL_CATEGORIES, normalize_email
from monitor.core.timeutil import to_db
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_client import Step, events_params, events_url, section, walk
from monitor.sources.mailgun_logs import walk_logs
from monitor.sources.mailgun_parse import CURSOR, parse_events, poll_window, recipient_of
from monitor.store.batch import Saved, SignalBatch
from monitor.store.signals import get_cursor

log = logging.getLogger(__name__)

MAX_EVENT_PAGES = 2000  # 600,000 events in one window: far past a sane domain, so a runaway next


@dataclass
class Tally:
    """New signals stored, how many of them linked, and their categories."""

    new: int = 0
    linked: int = 0
    categories: Counter[str] = field(default_factory=Counter)

    def add(self, other: Tally) -> None:
        self.new += other.new
        self.linked += other.linked
        self.categories.update(other.categories)


@dataclass
class EventStats(Tally):
    window: tuple[datetime, datetime] | None = None
    pages: int = 0
    requests: int = 0
    events: int = 0  # items read
    ignored: int = 0  # temporary failures and other event types
    skipped: int = 0  # records that could not be read

    def counts(self) -> dict[str, object]:
        counts: dict[str, object] = {
            "pages": self.pages,
            "requests": self.requests,
            "events": self.events,
            "new": self.new,
            **{name: self.categories[name] for name in MAIL_CATEGORIES},
            "linked": self.linked,
            "unlinked": self.new - self.linked,
            "skipped": self.skipped,
        }
        if self.ignored:
            counts["ignored"] = self.ignored
        return counts

    def summary(self) -> str:
        kinds = ", ".join(f"{self.categories[n]} {n}" for n in MAIL_CATEGORIES if self.categories[n])
        skipped = f", {self.skipped} unreadable records skipped" if self.skipped else ""
        return (
            f"Mailgun events: {self.pages} pages, {self.new} new signals{f' ({kinds})' if kinds else ''}, "
            f"{self.linked} linked, {self.new - self.linked} unlinked{skipped}"
        )


def _pages(client: HttpClient, mailgun: MailgunSettings, begin: datetime, end: datetime) -> Iterator[Step]:
    """The window's pages from the configured API: the Logs API by default, the deprecated
    Events API on request. Both answer the same events; the parser reads either shape."""
    if mailgun.events_api == "logs":
        return walk_logs(client, mailgun, begin, end, cap=MAX_EVENT_PAGES * 3)  # 100 a page, not 300
    url, params = events_url(mailgun), events_params(begin, end)
    return walk(client, url, params, cap=MAX_EVENT_PAGES, short_page_ends=False)


def poll_events(db: Database, client: HttpClient, settings: Settings, now: datetime) -> EventStats:
    """One events poll (see the module docstring). Raises SourceError on failure, after
    committing the pages read so far; the cursor then stays where it was."""
    mailgun = section(settings)
    begin, end = poll_window(get_cursor(db, CURSOR), now, mailgun)
    stats = EventStats(window=(begin, end))
    if end <= begin:
        return stats  # the cursor is already past now - trust: nothing may be read yet
    before = client.requests_made
    # Pages are written about 1,000 signals at a time (see `SignalBatch`), the cursor with the
    # last; leaving the block writes the pages read so far, also when the poll stops early.
    batch = SignalBatch(
        db,
        now=now,
        extra_public_domains=mailgun.public_domains,
        on_saved=lambda saved: stats.add(tally(saved)),
    )
    try:
        with batch:
            for step in _pages(client, mailgun, begin, end):
                stats.pages += 1
                stats.events += len(step.items)
                bounced = bounced_addresses(db, (recipient_of(i) for i in step.items if isinstance(i, dict)))
                parsed = parse_events(step.items, mailgun, settings.links.mailgun_logs, bounced)
                stats.ignored += parsed.ignored
                stats.skipped += len(parsed.skipped)
                for reason in parsed.skipped:
                    log.warning("Mailgun events: skipped a record (%s)", reason)
                batch.add(parsed.signals, cursors={CURSOR: to_db(end)} if step.last else None)
    finally:
        stats.requests = client.requests_made - before
    return stats


def bounced_addresses(db: Database, emails: Iterable[str | None]) -> set[str]:
    """Which of these addresses are on the bounce list now (as far as the last reconcile saw):
    a permanent failure to such an address is a bounce, whatever its `reason` says."""
    norms = sorted({n for n in (normalize_email(e) for e in emails) if n})
    found: set[str] = set()
    for start in range(0, len(norms), 500):
        chunk = norms[start : start + 500]
        sql = (
            "SELECT address_norm FROM suppressions WHERE list = 'bounces' AND removed_at IS NULL"
            f" AND address_norm IN ({','.join('?' * len(chunk))})"
        )
        found.update(row[0] for row in db.execute(sql, chunk).fetchall())
    return found


def tally(saved: Saved) -> Tally:
    """What one write stored: the new signals by category, and how many of them linked."""
    return Tally(
        new=saved.new.total(),
        linked=saved.linked.total(),
        categories=Counter({str(category): n for category, n in saved.new.items()}),
    )

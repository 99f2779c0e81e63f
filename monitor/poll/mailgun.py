"""The Mailgun source: permanent failures, complaints and unsubscribes from the Events API,
and a reconciliation of the suppression lists (bounces, complaints, unsubscribes).

Two job functions, the same shape as the Sentry source's:
- `poll_job` (job `poll-mailgun`): the events poll (`mailgun_events`). When the lists'
  reconciliation is due (the `reconcile-mailgun` schedule fired since its last success), it
  runs that first, recorded as its own job run: so the first `monitor poll mailgun` brings the
  lists in, and the events poll already knows who is on the bounce list.
- `reconcile_job` (job `reconcile-mailgun`, hourly by default): the lists (`mailgun_lists`).

The pure half (windows, wire parsing, signal keys, sentences) is `mailgun_parse`; paging and
the client are `mailgun_client`."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from sqlite_utils import Database

from monitor.config.settings import Settings
from monitor.core.cron import parse_crontab
from monitor.poll.mailgun_events import EventStats, poll_events
from monitor.poll.mailgun_lists import ListStats, reconcile_lists
from monitor.runner.jobs import JobResult, run_job
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_client import client_for, mailgun_client, section
from monitor.sources.mailgun_entries import entry_to_signal
from monitor.sources.mailgun_parse import event_to_signal
from monitor.store.runs import last_run

if TYPE_CHECKING:
    from monitor.config.context import AppContext

__all__ = [
    "EventStats",
    "ListStats",
    "entry_to_signal",
    "event_to_signal",
    "mailgun_client",
    "poll_events",
    "poll_job",
    "reconcile_due",
    "reconcile_job",
    "reconcile_lists",
]

RECONCILE_JOB = "reconcile-mailgun"
LIST_COUNTS_SHOWN = (
    "requests",
    "bounces",
    "complaints",
    "unsubscribes",
    "added",
    "removed",
    "promoted",
    "new",
)


def reconcile_due(db: Database, settings: Settings, now: datetime) -> bool:
    """True when the reconcile schedule has fired since the last successful reconcile
    (or there never was one)."""
    last = last_run(db, RECONCILE_JOB, "ok")
    if last is None or last.finished_at is None:
        return True
    trigger = parse_crontab(settings.schedule_of(RECONCILE_JOB), settings.zone)
    # Strictly after the finish: a run ending on a fire time does not make itself due again.
    fire = trigger.get_next_fire_time(None, last.finished_at + timedelta(microseconds=1))
    return fire is not None and fire <= now


def reconcile_job(app: AppContext, now: datetime, *, client: HttpClient | None = None) -> JobResult:
    """The `reconcile-mailgun` job. `client` lets tests and benchmarks bring their own."""
    settings = app.settings()
    section(settings)
    own = client is None
    client = client or client_for(app.settings(), app.secrets(required=False), app.stop)
    try:
        stats = reconcile_lists(app.db(), client, settings, now)
    finally:
        if own:
            client.close()
    return JobResult(ok=True, summary=stats.summary(), counts=stats.counts())


def poll_job(app: AppContext, now: datetime, *, client: HttpClient | None = None) -> JobResult:
    """The `poll-mailgun` job: the lists first when their reconcile is due, then the events.
    A failed reconcile (recorded as such) does not stop the events poll; the poll then reports
    failure too, with the reconcile's sentence, so `monitor poll` exits 1."""
    settings = app.settings()
    section(settings)
    own = client is None
    client = client or client_for(app.settings(), app.secrets(required=False), app.stop)
    try:
        lists: JobResult | None = None
        if reconcile_due(app.db(), settings, now):
            lists = run_job(app, RECONCILE_JOB, now, lambda a, n: reconcile_job(a, n, client=client))
        stats = poll_events(app.db(), client, settings, now)
    finally:
        if own:
            client.close()
    counts = stats.counts()
    summary = stats.summary()
    if lists is not None:  # the essentials; the reconcile's own run keeps all its counts
        shown = {name: value for name, value in lists.counts.items() if name in LIST_COUNTS_SHOWN}
        counts.update({f"lists_{name}": value for name, value in shown.items()})
        summary = f"{lists.summary}; {summary}"
    if lists is not None and not lists.ok:
        error = f"The suppression lists were not reconciled: {lists.error}"
        return JobResult(
            ok=False, summary=summary, counts=counts, window=stats.window, error=error, exit_code=1
        )
    return JobResult(ok=True, summary=summary, counts=counts, window=stats.window)

"""The Sentry source: incremental polling of one organization/project's error events.

One poll (see `poll`):
1. the window: from the stored cursor minus `overlap_minutes` (late events), or
   `lookback_days` back on the first poll, to now;
2. the configured project's numeric ID (resolved once, then remembered), and the
   organization issue list, every status, most recently seen first, following the Link
   header until issues were last seen before the window (one request when nothing is new);
3. for each issue seen again since its events were last read in full (or whose event count
   changed), its events in the window, page by page. Pages are stored whole, about 1,000
   events per transaction (`SignalBatch`: signals, links, seen customers); the issue's
   bookkeeping row commits with its last page; an error stores every page read before it;
4. the cursor moves to the window's end only once every issue is done. A crash repeats at
   most the pages of the batch being gathered, and loses nothing: events are deduplicated
   by eventID.

The pure half (request plans, wire parsing, sentences) is `sentry_parse`.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from sqlite_utils import Database

from monitor.config.secrets import missing_secret_reason
from monitor.config.settings import SentrySettings, Settings
from monitor.core.classify import Rule, classify, rules_from_settings
from monitor.core.errors import ConfigError, SourceError
from monitor.core.models import NOT_PURCHASE, Signal
from monitor.core.timeutil import to_public
from monitor.poll.sentry_fetch import read_in_order
from monitor.poll.sentry_project import project_id
from monitor.poll.sentry_stats import PollStats
from monitor.runner.jobs import JobResult
from monitor.sources.http import HttpClient, RetryPolicy
from monitor.sources.http_parts import Page
from monitor.sources.sentry_errors import explain_for
from monitor.sources.sentry_parse import (
    CURSOR,
    IssueRef,
    Request,
    before_window,
    event_to_signal,
    events_request,
    issue_ref,
    issues_request,
    needs_events,
    next_request,
    poll_window,
)
from monitor.store import write_tx
from monitor.store.batch import Saved, SignalBatch
from monitor.store.sentry_issues import known_issues, remember_issue
from monitor.store.signals import get_cursor, set_cursor

if TYPE_CHECKING:
    from monitor.config.context import AppContext

__all__ = ["PollStats", "event_to_signal", "poll", "poll_job", "sentry_client"]

log = logging.getLogger(__name__)

MAX_ISSUE_PAGES = 500  # 50,000 issues in one window: far beyond a sane project, so a runaway Link
MAX_EVENT_PAGES = 500  # per issue and poll; past it the newest 50,000 events are kept and it is said
Window = tuple[datetime, datetime]
Progress = Callable[[Sequence[IssueRef], "PollStats"], AbstractContextManager[Iterable[IssueRef]]]


def sentry_client(
    settings: SentrySettings,
    token: str,
    *,
    stop: threading.Event | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
    clock: Callable[[], float] = time.time,
) -> HttpClient:
    """The HTTP client of one poll: Bearer auth, the configured timeout and wait budget.
    `sleep` and `clock` let tests and benchmarks run rate-limit waits on a controlled clock."""
    return HttpClient(
        "Sentry",
        headers={"Authorization": f"Bearer {token}"},
        policy=policy or RetryPolicy(timeout=settings.timeout_seconds, max_wait=settings.max_wait_seconds),
        explain=explain_for(settings, organization_token=token.startswith("sntrys_")),
        stop=stop,
        sleep=sleep,
        clock=clock,
    )


def poll(
    db: Database,
    client: HttpClient,
    settings: Settings,
    now: datetime,
    *,
    rules: Sequence[Rule] = (),
    progress: Progress | None = None,
) -> PollStats:
    """One incremental poll (see the module docstring). Raises SourceError on failure, after
    committing every page read so far; the cursor then stays where it was."""
    sentry = _section(settings)
    cursor = get_cursor(db, CURSOR)
    stats = PollStats(window=poll_window(cursor, now, sentry))
    before = client.requests_made
    try:
        found = project_id(db, client, sentry, now)
        stats.project_id = found.id
        stats.project_found = found.sentence(sentry) if found.asked else ""
        issues = _list_issues(client, sentry, stats)
        known = known_issues(db, [issue.id for issue in issues])
        todo = [issue for issue in issues if needs_events(issue, known.get(issue.id))]
        log.info("Sentry: %d issues in the window, %d with events to read", len(issues), len(todo))
        extra = settings.mailgun.public_domains if settings.mailgun else ()
        # Leaving the block writes the pages read so far, also when the poll stops early.
        with SignalBatch(
            db, now=now, extra_public_domains=extra, on_saved=_counter(stats), label=_label
        ) as batch:
            window = stats.window
            reads = read_in_order(
                todo, lambda i: _fetch_issue(client, sentry, i, window), sentry.max_concurrency
            )
            # closing: a failure while writing ends the readers too, not only a failed read
            with contextlib.closing(reads) as results, (progress or _no_progress)(todo, stats) as shown:
                for number, (_shown, (issue, steps)) in enumerate(zip(shown, results, strict=False), 1):
                    _store_issue(batch, sentry, issue, steps, now, rules, stats)
                    if number % 50 == 0 and progress is None:
                        log.info("Sentry: read %d of %d issues, %d new events", number, len(todo),
                                 stats.new_events)  # fmt: skip
        with write_tx(db) as conn:
            set_cursor(conn, CURSOR, to_public(stats.window[1]), now)
    finally:
        stats.requests = client.requests_made - before
    return stats


def _no_progress(items: Sequence[IssueRef], _stats: PollStats) -> AbstractContextManager[Iterable[IssueRef]]:
    return contextlib.nullcontext(items)


def _section(settings: Settings) -> SentrySettings:
    if settings.sentry is None:
        raise ConfigError(["sentry: not configured; add a [sentry] section with organization and project"])
    return settings.sentry


@dataclass(frozen=True)
class _Step:
    page: Page
    last: bool  # no page follows (or the cap is reached)
    cut: bool  # more would follow, but the cap is reached


def _pages(client: HttpClient, request: Request, base_url: str, cap: int) -> Iterator[_Step]:
    """The pages of one list, following the Link header, at most `cap` of them."""
    for number in range(1, cap + 1):
        page = client.get_json(*request)
        if not isinstance(page.data, list):
            raise SourceError(f"Sentry answered something other than a list at {page.url[:120]}.")
        following = next_request(page, request, len(page.data), base_url)
        if following is not None and following[0] == page.url and following[1] is None:
            raise SourceError(f"Sentry's Link header points back at the same page ({page.url[:120]}).")
        cut = following is not None and number == cap
        yield _Step(page, following is None or cut, cut)
        if following is None:
            return
        request = following


def _list_issues(client: HttpClient, sentry: SentrySettings, stats: PollStats) -> list[IssueRef]:
    """The issues last seen in the window, newest first. Paging stops at the first page whose
    issues were all last seen before the window: the list comes most recently seen first."""
    issues: dict[str, IssueRef] = {}  # by id: an issue seen again on a later page is one issue
    start = stats.window[0]
    request = issues_request(sentry, stats.project_id, *stats.window)
    for step in _pages(client, request, sentry.base_url, MAX_ISSUE_PAGES):
        stats.pages += 1
        page = [issue_ref(item) for item in step.page.data]
        issues.update((issue.id, issue) for issue in page if not before_window(issue, start))
        if page and all(before_window(issue, start) for issue in page):
            break
        if step.cut:
            raise SourceError(
                f"Sentry listed more than {MAX_ISSUE_PAGES * 100} issues for one window; "
                "lower [sentry] lookback_days or set environment."
            )
    stats.issues = len(issues)
    return list(issues.values())


def _fetch_issue(
    client: HttpClient, sentry: SentrySettings, issue: IssueRef, window: Window
) -> list[_Step] | None:
    """Every page of one issue's events in the window (network only: runs in a reader thread);
    None when the issue is gone (deleted or merged since the list was read)."""
    try:
        return list(
            _pages(client, events_request(sentry, issue.id, *window), sentry.base_url, MAX_EVENT_PAGES)
        )
    except SourceError as err:
        if err.status != 404:
            raise
        return None


def _store_issue(
    batch: SignalBatch,
    sentry: SentrySettings,
    issue: IssueRef,
    steps: list[_Step] | None,
    now: datetime,
    rules: Sequence[Rule],
    stats: PollStats,
) -> None:
    if steps is None:
        stats.issues_gone += 1
        log.info("Sentry issue %s is gone (404); skipped", issue.id)
        return
    done = remember_issue(
        issue.id,
        last_seen=issue.last_seen,
        event_count=issue.event_count,
        title=issue.title,
        category=classify(issue.text, rules).category,
        now=now,
    )
    for step in steps:
        stats.pages += 1
        signals = _signals(step.page.data, issue, sentry, rules, stats)
        batch.add(signals, also=[done] if step.last else ())
        if step.cut:
            stats.truncated += 1
            log.warning("Sentry issue %s has more than %d pages of events in the window; "
                        "the newest were stored", issue.id, MAX_EVENT_PAGES)  # fmt: skip
    stats.issues_read += 1


def _signals(
    events: list[Any], issue: IssueRef, sentry: SentrySettings, rules: Sequence[Rule], stats: PollStats
) -> list[Signal]:
    signals = []
    for event in events:
        try:
            signals.append(event_to_signal(event, issue, sentry, rules))
        except ValueError as err:
            stats.skipped += 1
            log.warning("Sentry issue %s: skipped a list item (%s)", issue.id, err)
    return signals


def _label(signal: Signal) -> tuple[str, bool]:
    """What the counts need of an event: its category, and whether it is dated by its issue."""
    return signal.category, signal.detail.get("dated_by") == "issue"


def _counter(stats: PollStats) -> Callable[[Saved], None]:
    """Counts what each write stored: new events by category, purchase errors linked."""

    def count(saved: Saved) -> None:
        for label, new in saved.new.items():
            category, dated_by_issue = cast(tuple[str, bool], label)
            stats.new_events += new
            stats.categories[category] += new
            stats.dated_by_issue += new if dated_by_issue else 0
        for label, linked in saved.linked.items():
            if cast(tuple[str, bool], label)[0] != NOT_PURCHASE:
                stats.linked += linked

    return count


def poll_job(app: AppContext, now: datetime, *, client: HttpClient | None = None) -> JobResult:
    """The `poll-sentry` job: one poll with the app's settings, secrets and database.
    `client` lets tests and benchmarks bring their own (e.g. with a fast retry policy)."""
    settings = app.settings()
    sentry = _section(settings)
    rules = rules_from_settings(settings.classification.rules)
    own = client is None
    if client is None:
        client = sentry_client(sentry, _token(app), stop=app.stop)
    first = get_cursor(app.db(), CURSOR) is None
    try:
        stats = poll(app.db(), client, settings, now, rules=rules, progress=_terminal_progress(first))
    finally:
        if own:
            client.close()
    return JobResult(ok=True, summary=stats.summary(), counts=stats.counts(), window=stats.window)


def _token(app: AppContext) -> str:
    secret = app.secrets(required=False).sentry_token
    if secret is None:
        raise ConfigError([f"secrets.SENTRY_AUTH_TOKEN: {missing_secret_reason('SENTRY_AUTH_TOKEN')}"])
    return secret.reveal()


def _terminal_progress(first_poll: bool) -> Progress | None:
    """A progress bar over the issues of a backfill, only for a person at a terminal."""
    if not first_poll or not sys.stdout.isatty():
        return None
    import click

    def bar(items: Sequence[IssueRef], stats: PollStats) -> AbstractContextManager[Iterable[IssueRef]]:
        # Issues done of all (counted as they are written, in order, whatever the readers do)
        # and the events stored so far.
        return click.progressbar(
            items,
            label="Backfilling Sentry issues",
            file=sys.stdout,
            show_pos=True,
            item_show_func=lambda _issue: f"{stats.new_events:,} events stored",
        )

    return bar

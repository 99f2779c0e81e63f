"""One unit of work per job. The scheduler, the CLI and the tests call the same functions.

A job function takes the app context and `now` and returns a `JobResult`; it raises a
`MonitorError` when the job fails. `run_job` records every run in `job_runs` (what
`monitor status`, catch-up and the digest's source health read) and never lets one job's
failure escape to stop the others."""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from monitor.config.logs import redactor
from monitor.core.errors import MonitorError
from monitor.sources.http import Interrupted
from monitor.store.runs import record_finish, record_start

if TYPE_CHECKING:
    from monitor.config.context import AppContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    ok: bool
    summary: str  # one line for logs and the CLI
    counts: dict[str, object] = field(default_factory=dict)
    window: tuple[datetime, datetime] | None = None
    error: str | None = None
    exit_code: int = 0
    stopped: bool = False  # ended early by a stop request (SIGTERM): neither a success nor a failure


JobFunction = Callable[["AppContext", datetime], JobResult]

# Job name -> "module:function", imported when first run so a job's module loads only if used.
JOB_FUNCTIONS = {
    "poll-sentry": "monitor.poll.sentry:poll_job",
    "poll-mailgun": "monitor.poll.mailgun:poll_job",
    "reconcile-mailgun": "monitor.poll.mailgun:reconcile_job",
    "digest": "monitor.digest.job:digest_job",
}


def job_function(name: str) -> JobFunction:
    module_name, _, attribute = JOB_FUNCTIONS[name].partition(":")
    function: JobFunction = getattr(importlib.import_module(module_name), attribute)
    return function


def run_job(
    app: AppContext, name: str, now: datetime, function: JobFunction | None = None, *, quiet: bool = False
) -> JobResult:
    """Run one job and record it. Expected failures become a failed result, not an exception.
    `quiet`: the caller prints the outcome itself (the CLI), so it is logged at info level only."""
    db = app.db()
    run_id = record_start(db, name, now)
    try:
        result = (function or job_function(name))(app, now)
    except Interrupted as err:
        result = JobResult(ok=False, summary=f"{name} stopped: {err}", exit_code=0, stopped=True)
    except MonitorError as err:
        # Error text may quote a vendor's answer: mask secrets before it is stored or shown.
        text = redactor.mask(str(err))
        result = JobResult(ok=False, summary=f"{name} failed: {text}", error=text, exit_code=err.exit_code)
    except Exception as err:  # a bug in one job must not stop the scheduler
        log.exception("%s crashed", name)
        text = redactor.mask(f"{type(err).__name__}: {err}")
        result = JobResult(ok=False, summary=f"{name} crashed: {text}", error=text, exit_code=1)
    # Under a controlled clock (tests, catch-up) `now` may lie ahead of the wall clock.
    record_finish(
        db,
        run_id,
        max(now, app.now()),
        ok=result.ok,
        counts=result.counts,
        error=result.error,
        window=result.window,
        outcome="stopped" if result.stopped else None,
    )
    (log.info if result.ok or result.stopped or quiet else log.error)("%s", result.summary)
    return result

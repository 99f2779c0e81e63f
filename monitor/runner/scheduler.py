"""`monitor run`: APScheduler 3 from `Settings`, with catch-up, isolation and a clean stop.

- Jobs and schedules come from `schedules.toml` (the single source of truth; APScheduler's
  in-memory job store keeps nothing between runs), with crontab semantics in the configured
  time zone, `coalesce=True`, `max_instances=1` and each job's misfire grace.
- Every run goes through `monitor.runner.jobs.run_job` (recorded in `job_runs`) between the job's
  healthcheck pings, with a database connection of its own: one job's failure or crash
  never touches the others, and SQLite serialises their writes.
- Catch-up: APScheduler forgets runs missed while the process was down or the machine
  slept. At start, and whenever the wall clock jumps ahead of the monotonic clock (a
  suspend), `plan_catch_up` compares each job's schedule with its last success in SQLite.
- Stop: SIGTERM or SIGINT sets `app.stop` (HTTP waits and the sources' page loops watch
  it), lets the running jobs finish, and returns; a second signal exits at once."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import signal
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from types import FrameType
from typing import TYPE_CHECKING

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger

from monitor.config.load import job_schedules, job_settings
from monitor.core.timeutil import yesterday
from monitor.runner.healthcheck import keep_out_of_logs, with_pings
from monitor.runner.jobs import JobFunction, JobResult, run_job
from monitor.runner.schedule import fire_times, job_trigger, missed_since, next_fire
from monitor.runner.status import digest_days_done, in_use_since, last_success_start
from monitor.store import open_db

if TYPE_CHECKING:
    from monitor.config.context import AppContext

log = logging.getLogger(__name__)

SendDay = Callable[["AppContext", date, datetime], JobResult]
CATCH_UP_DAYS = 7  # the oldest missed digest day still sent: a week back
CLOCK_CHECK_SECONDS = 60
CLOCK_JUMP_SECONDS = 120.0  # more than this between wall and monotonic clock: the machine slept


@dataclass(frozen=True)
class CatchUp:
    polls: tuple[str, ...]  # jobs to run once now
    digest_days: tuple[date, ...]  # days whose digest to send, oldest first


def plan_catch_up(
    triggers: Mapping[str, CronTrigger],
    last_success: Mapping[str, datetime | None],
    used_since: datetime | None,
    now: datetime,
    done_days: frozenset[date] = frozenset(),
) -> CatchUp:
    """What to run now to make up for missed fire times (pure).

    A job other than the digest runs once when a fire time passed after its last success
    (or it never succeeded). The digest's fire times T since the database came into use
    (`used_since`, at most CATCH_UP_DAYS back) each cover the day `yesterday(T)`. The days
    after the last done day (`done_days`: sent, or covered by a run that ended well) are the
    missed ones, oldest first, each once; with no done day yet, the fire times after the
    digest's last success count. A fresh database (no runs) starts polling at once but does
    not mail old days."""
    polls = tuple(
        name
        for name, trigger in triggers.items()
        if name != "digest" and missed_since(trigger, last_success.get(name), now) is not None
    )
    days: tuple[date, ...] = ()
    trigger = triggers.get("digest")
    if trigger is not None and used_since is not None:
        oldest = yesterday(now, trigger.timezone) - timedelta(days=CATCH_UP_DAYS - 1)
        start = max(used_since, now - timedelta(days=CATCH_UP_DAYS + 1))
        if not done_days:
            start = max(start, last_success.get("digest") or start)
        due = {yesterday(fire, trigger.timezone) for fire in fire_times(trigger, start, now)}
        last_done = max(done_days, default=date.min)
        days = tuple(sorted(day for day in due if day >= oldest and day > last_done))
    return CatchUp(polls=polls, digest_days=days)


@dataclass
class ClockWatch:
    """Notices a suspend: the wall clock moves on while the monotonic clock stands still."""

    threshold: float = CLOCK_JUMP_SECONDS
    wall: Callable[[], float] = time.time
    monotonic: Callable[[], float] = time.monotonic
    _offset: float = field(init=False)

    def __post_init__(self) -> None:
        self._offset = self.wall() - self.monotonic()

    def jumped(self) -> float:
        """Seconds the wall clock moved ahead since the last call (0.0 below the threshold)."""
        offset = self.wall() - self.monotonic()
        jump, self._offset = offset - self._offset, offset
        return jump if jump >= self.threshold else 0.0


class MonitorScheduler:
    """The jobs of one config on one APScheduler. `functions` replaces job functions by name
    and `send_day` the digest's (tests); `scheduler` defaults to a BlockingScheduler."""

    def __init__(
        self,
        app: AppContext,
        *,
        functions: Mapping[str, JobFunction] | None = None,
        send_day: SendDay | None = None,
        scheduler: BaseScheduler | None = None,
        clock_watch: ClockWatch | None = None,
    ) -> None:
        self.app = app
        settings = app.settings()
        self.schedules = job_schedules(settings)
        self.triggers = {name: job_trigger(expr, settings.zone) for name, expr in self.schedules.items()}
        self.functions = dict(functions or {})
        self._send_day = send_day
        self.clock_watch = clock_watch or ClockWatch()
        self.scheduler = scheduler or BlockingScheduler(timezone=settings.zone)
        self._job_locks = {name: threading.Lock() for name in self.schedules}
        self._catch_up_lock = threading.Lock()
        self._stopper: threading.Thread | None = None
        open_db(settings.monitor.database).conn.close()  # migrate before any job connects
        for name in self.schedules:
            keep_out_of_logs(job_settings(settings, name).healthcheck_url)
        self._add_jobs()

    def _add_jobs(self) -> None:
        settings = self.app.settings()
        for name, trigger in self.triggers.items():
            self.scheduler.add_job(
                self.run_scheduled,
                trigger,
                args=[name],
                id=name,
                name=name,
                coalesce=True,
                max_instances=1,
                misfire_grace_time=job_settings(settings, name).misfire_grace_seconds,
            )
        # No trigger: once, as soon as the scheduler starts.
        self.scheduler.add_job(self._catch_up_now, id="catch-up", name="catch-up", misfire_grace_time=None)
        self.scheduler.add_job(
            self.watch_clock,
            "interval",
            seconds=CLOCK_CHECK_SECONDS,
            id="clock-watch",
            name="clock-watch",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=None,
        )

    def run_scheduled(self, name: str) -> None:
        # A poll still running (e.g. the catch-up's) covers this turn; the digest waits for
        # the one running, since it may cover another day.
        self.run(name, self.app.now(), wait=name == "digest")

    def run(
        self, name: str, now: datetime, function: JobFunction | None = None, *, wait: bool = True
    ) -> JobResult | None:
        """Run one job once, recorded and pinged; None when skipped (already running, or
        stopping). Never raises: a crash is logged and returned as a failed result."""
        lock = self._job_locks[name]
        if not lock.acquire(blocking=wait):
            log.info("%s is already running; not starting it again.", name)
            return None
        try:
            if self.app.stop.is_set():
                return None
            return self._run_recorded(name, now, function or self.functions.get(name))
        finally:
            lock.release()

    def _run_recorded(self, name: str, now: datetime, function: JobFunction | None) -> JobResult:
        job_app = self._job_app()
        url = job_settings(job_app.settings(), name).healthcheck_url
        log.info("%s started", name)
        try:
            return with_pings(url, name, lambda: run_job(job_app, name, now, function))
        except Exception as err:  # e.g. the database unreadable: log it, keep the scheduler going
            log.exception("%s could not run", name)
            return JobResult(ok=False, summary=f"{name} could not run: {err}", error=repr(err), exit_code=1)
        finally:
            if job_app._db is not None:
                job_app._db.conn.close()

    def _job_app(self) -> AppContext:
        """The app with a database connection of its own: one connection is one transaction
        at a time, and jobs run in parallel threads. Migrated once, in `__init__`: two
        connections migrating at the same moment would both add the same column."""
        return dataclasses.replace(self.app, _db=open_db(self.app.settings().monitor.database, migrate=False))

    def plan(self, now: datetime) -> CatchUp:
        job_app = self._job_app()
        try:
            db = job_app.db()
            last = {name: last_success_start(db, name) for name in self.triggers}
            done = digest_days_done(db, self.app.settings().zone)
            return plan_catch_up(self.triggers, last, in_use_since(db), now, done)
        finally:
            if job_app._db is not None:
                job_app._db.conn.close()

    def catch_up(self, now: datetime) -> CatchUp:
        """Run what was missed (see `plan_catch_up`). A poll already running is not started
        again; the digest waits for a running digest, then sends each missed day (a day
        already sent is not sent again)."""
        if not self._catch_up_lock.acquire(blocking=False):
            return CatchUp(polls=(), digest_days=())
        try:
            plan = self.plan(now)
            if plan.polls or plan.digest_days:
                days = ", ".join(str(day) for day in plan.digest_days) or "none"
                log.info("Catching up: %s; digest days: %s", ", ".join(plan.polls) or "no polls", days)
            for name in plan.polls:
                self.run(name, now, wait=False)
            if plan.digest_days:
                self.run("digest", now, self._send_days(plan.digest_days))
            return plan
        finally:
            self._catch_up_lock.release()

    def _send_days(self, days: tuple[date, ...]) -> JobFunction:
        send = self._send_day or _default_send_day()

        def send_days(app: AppContext, now: datetime) -> JobResult:
            done: list[str] = []
            for day in days:
                if app.stop.is_set():
                    return JobResult(
                        ok=False, summary=f"digest catch-up stopped before {day}", error="stopped"
                    )
                result = send(app, day, now)
                if not result.ok:
                    return dataclasses.replace(result, summary=f"digest catch-up, {day}: {result.summary}")
                done.append(f"{day}: {result.summary}")
            counts: dict[str, object] = {"days": [str(day) for day in days]}
            return JobResult(ok=True, summary="digest catch-up: " + " | ".join(done), counts=counts)

        return send_days

    def _catch_up_now(self) -> None:
        self.catch_up(self.app.now())

    def watch_clock(self) -> None:
        jump = self.clock_watch.jumped()
        if jump:
            log.info("The clock jumped %.0f s ahead (a suspend?); checking for missed runs.", jump)
            self.catch_up(self.app.now())

    def run_forever(self) -> None:
        """Block until SIGTERM or SIGINT (main thread only)."""
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        now = self.app.now()
        for name, trigger in self.triggers.items():
            log.info("%s: %s, next at %s", name, self.schedules[name], next_fire(trigger, now))
        try:
            self.scheduler.start()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if self._stopper is not None:
            self._stopper.join()
        log.info("Stopped.")

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if self._stopper is not None:
            log.warning("%s again: exiting now, without waiting for the running jobs.", name)
            os._exit(1)
        log.info("%s: stopping after the running jobs finish their current page.", name)
        self.app.stop.set()
        # Shut down from a thread: the handler runs inside the scheduler's main loop, which
        # may hold the locks that finishing jobs need.
        self._stopper = threading.Thread(target=self._shut_down, name="stopper")
        self._stopper.start()

    def _shut_down(self) -> None:
        # A signal that came just before `start()` finds the scheduler not yet running.
        deadline = time.monotonic() + 5
        while not self.scheduler.running and time.monotonic() < deadline:
            time.sleep(0.05)
        with contextlib.suppress(SchedulerNotRunningError):
            self.scheduler.shutdown(wait=True)


def _default_send_day() -> SendDay:
    from monitor.digest.job import send_day

    return send_day

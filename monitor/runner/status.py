"""What `monitor status` reports, read from the job-run records, the signals and the sent-log.

`collect_status` does the reading; `job_health` (pure) decides whether a job is overdue:

- A job is **overdue** when a scheduled fire time passed more than its misfire grace ago
  without a successful run starting at or after it. The reference is the start of its last
  success; for a job that never succeeded, the first run of any job in this database (when
  it came into use), so a fresh database reports "never run" and nothing overdue, and a job
  that has never run in a database used for longer than one of its periods is overdue.
- A job is **failing** when its last finished run failed.

The status is healthy when no job is overdue or failing; `monitor status` exits 1 otherwise."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlite_utils import Database

from monitor.config.load import job_schedules, job_settings
from monitor.config.settings import Settings
from monitor.core.timeutil import from_db, local_day, to_public
from monitor.runner.schedule import job_trigger, missed_since, next_fire
from monitor.store.digest import SOURCE_JOBS
from monitor.store.runs import RunRecord, failing_since, last_run
from monitor.store.signals import count_signals


@dataclass(frozen=True)
class JobStatus:
    name: str
    schedule: str
    last_run: RunRecord | None  # the last finished run
    last_success: RunRecord | None
    next_due: datetime | None
    missed: datetime | None  # the fire time that passed without a success (beyond the grace: overdue)
    overdue: bool
    failing_since: datetime | None

    @property
    def failing(self) -> bool:
        return self.last_run is not None and self.last_run.outcome == "failed"


@dataclass(frozen=True)
class SourceStatus:
    name: str
    configured: bool
    last_success: datetime | None
    last_error: str | None
    last_error_at: datetime | None
    failing_since: datetime | None
    signals: int
    dated_by_issue: int = 0  # Sentry events with no time of their own, dated by their issue


@dataclass(frozen=True)
class DigestSent:
    day: str
    recipients: tuple[str, ...]
    sent_at: datetime


@dataclass(frozen=True)
class Status:
    now: datetime
    timezone: str
    database: str
    in_use_since: datetime | None
    jobs: tuple[JobStatus, ...]
    sources: tuple[SourceStatus, ...]
    last_digest: DigestSent | None

    @property
    def problems(self) -> list[str]:
        found = [f"{job.name} is failing" for job in self.jobs if job.failing]
        found += [f"{job.name} is overdue" for job in self.jobs if job.overdue]
        return found

    @property
    def healthy(self) -> bool:
        return not self.problems


def job_health(missed: datetime | None, grace: timedelta, now: datetime) -> bool:
    """Overdue: a fire time was missed and its grace has run out."""
    return missed is not None and now - missed > grace


def in_use_since(db: Database) -> datetime | None:
    """The start of the first recorded run of any job: when this database came into use."""
    row = db.execute("SELECT MIN(started_at) FROM job_runs").fetchone()
    return from_db(row[0]) if row and row[0] else None


def digest_days_done(db: Database, zone: ZoneInfo) -> frozenset[date]:
    """The days whose digest is done: in the sent-log, or covered by a digest run that ended
    well (a quiet day that was not sent, a day already sent). A day is a day of `zone`."""
    sent = db.execute("SELECT DISTINCT day FROM digest_sends WHERE status = 'sent'").fetchall()
    covered = db.execute(
        "SELECT DISTINCT window_start FROM job_runs"
        " WHERE job = 'digest' AND outcome = 'ok' AND window_start IS NOT NULL"
    ).fetchall()
    days = {date.fromisoformat(row[0]) for row in sent}
    days |= {local_day(from_db(row[0]), zone) for row in covered}
    return frozenset(days)


def last_success_start(db: Database, job: str) -> datetime | None:
    record = last_run(db, job, "ok")
    return record.started_at if record else None


def collect_status(settings: Settings, db: Database, now: datetime) -> Status:
    since = in_use_since(db)
    jobs = tuple(
        _job_status(settings, db, name, schedule, since, now)
        for name, schedule in sorted(job_schedules(settings).items())
    )
    return Status(
        now=now,
        timezone=settings.monitor.timezone,
        database=str(settings.monitor.database),
        in_use_since=since,
        jobs=jobs,
        sources=tuple(_source_status(settings, db, name) for name in SOURCE_JOBS),
        last_digest=_last_digest(db),
    )


def _job_status(
    settings: Settings, db: Database, name: str, schedule: str, since: datetime | None, now: datetime
) -> JobStatus:
    trigger = job_trigger(schedule, settings.zone)
    success = last_run(db, name, "ok")
    reference = success.started_at if success else since
    missed = missed_since(trigger, reference, now) if reference else None
    grace = timedelta(seconds=job_settings(settings, name).misfire_grace_seconds)
    return JobStatus(
        name=name,
        schedule=schedule,
        last_run=last_run(db, name),
        last_success=success,
        next_due=next_fire(trigger, now),
        missed=missed,
        overdue=job_health(missed, grace, now),
        failing_since=failing_since(db, name, success),
    )


def _source_status(settings: Settings, db: Database, name: str) -> SourceStatus:
    job = SOURCE_JOBS[name]
    success = last_run(db, job, "ok")
    failure = last_run(db, job, "failed")
    return SourceStatus(
        name=name,
        configured=getattr(settings, name) is not None,
        last_success=success.finished_at if success else None,
        last_error=failure.error if failure else None,
        last_error_at=failure.finished_at if failure else None,
        failing_since=failing_since(db, job, success),
        signals=count_signals(db, name),
        dated_by_issue=_dated_by_issue(db) if name == "sentry" else 0,
    )


def _dated_by_issue(db: Database) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM signals"
        " WHERE source = 'sentry' AND json_extract(detail, '$.dated_by') = 'issue'"
    ).fetchone()
    return int(row[0])


def _last_digest(db: Database) -> DigestSent | None:
    row = db.execute(
        "SELECT day, MAX(sent_at) FROM digest_sends WHERE status = 'sent'"
        " GROUP BY day ORDER BY day DESC LIMIT 1"
    ).fetchone()
    if not row:
        return None
    recipients = db.execute(
        "SELECT recipient FROM digest_sends WHERE day = ? AND status = 'sent' ORDER BY recipient", (row[0],)
    ).fetchall()
    return DigestSent(day=row[0], recipients=tuple(r[0] for r in recipients), sent_at=from_db(row[1]))


def _time(moment: datetime | None) -> str | None:
    return to_public(moment) if moment else None


def status_json(status: Status) -> dict[str, Any]:
    """The `monitor status --json` document; times are UTC ISO 8601, null when unknown."""
    return {
        "now": _time(status.now),
        "timezone": status.timezone,
        "database": status.database,
        "in_use_since": _time(status.in_use_since),
        "healthy": status.healthy,
        "problems": status.problems,
        "sources": {
            s.name: {
                "configured": s.configured,
                "last_success": _time(s.last_success),
                "last_error": s.last_error,
                "last_error_at": _time(s.last_error_at),
                "failing_since": _time(s.failing_since),
                "signals": s.signals,
                "dated_by_issue": s.dated_by_issue,
            }
            for s in status.sources
        },
        "last_digest": None
        if status.last_digest is None
        else {
            "day": status.last_digest.day,
            "recipients": list(status.last_digest.recipients),
            "sent_at": _time(status.last_digest.sent_at),
        },
        "jobs": {job.name: _job_json(job) for job in status.jobs},
    }


def _job_json(job: JobStatus) -> dict[str, Any]:
    last = job.last_run
    return {
        "schedule": job.schedule,
        "last_run": _time(last.started_at) if last else None,
        "last_outcome": last.outcome if last else None,
        "last_error": last.error if last and last.outcome == "failed" else None,
        "last_success": _time(job.last_success.started_at) if job.last_success else None,
        "next_due": _time(job.next_due),
        "overdue": job.overdue,
        "missed": _time(job.missed) if job.overdue else None,
        "failing": job.failing,
        "failing_since": _time(job.failing_since),
    }

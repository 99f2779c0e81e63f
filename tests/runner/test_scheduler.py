"""`monitor run`'s scheduler: schedules, catch-up after downtime, isolation and stopping.

Time is a parameter here: catch-up and schedules are computed for a given `now`, and the
runs that need a running scheduler are started "now" instead of waiting for a schedule."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.background import BackgroundScheduler

from monitor.config.context import AppContext
from monitor.runner.jobs import JobResult
from monitor.runner.schedule import fire_times, first_fire_after, job_trigger, missed_since
from monitor.runner.scheduler import ClockWatch, MonitorScheduler, plan_catch_up
from monitor.store.runs import record_finish, record_start

AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Wednesday, 09:00 in Amsterdam. The digest runs at 08:00 every day in these tests.
NOW = datetime(2026, 11, 18, 9, 0, tzinfo=AMSTERDAM)
SOURCES = """
[sentry]
organization = "o"
project = "p"
[mailgun]
domain = "mg.example.com"
[jobs.poll-sentry]
schedule = "*/10 * * * *"
[jobs.poll-mailgun]
schedule = "*/15 * * * *"
[jobs.reconcile-mailgun]
schedule = "7 * * * *"
[jobs.digest]
schedule = "0 8 * * *"
"""


class FakeSendDay:
    """Stands in for `monitor.digest.job.send_day`: sends a day at most once, like it."""

    def __init__(self, after_each: Callable[[AppContext], None] | None = None) -> None:
        self.calls: list[date] = []
        self.sent: list[date] = []
        self.after_each = after_each

    def __call__(self, app: AppContext, day: date, now: datetime) -> JobResult:
        self.calls.append(day)
        if self.after_each:
            self.after_each(app)
        if day in self.sent:
            return JobResult(ok=True, summary=f"already sent: {day}")
        self.sent.append(day)
        return JobResult(ok=True, summary=f"sent {day}")


class Recorder:
    """A job function that records its calls; `fail` makes it raise like a buggy job."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[datetime] = []
        self.fail = fail

    def __call__(self, app: AppContext, now: datetime) -> JobResult:
        self.calls.append(now)
        if self.fail:
            raise RuntimeError("boom")
        return JobResult(ok=True, summary="fine")


@pytest.fixture
def app(write_config: Callable[[str], Path]) -> AppContext:
    return AppContext(config_path=write_config(SOURCES))


def _succeeded(app: AppContext, job: str, at: datetime) -> None:
    run_id = record_start(app.db(), job, at)
    record_finish(app.db(), run_id, at + timedelta(seconds=5), ok=True)


def _scheduler(app: AppContext, **kwargs: object) -> MonitorScheduler:
    # Never started unless a test starts it: the jobs only sit in APScheduler's pending list.
    return MonitorScheduler(app, scheduler=BackgroundScheduler(timezone=AMSTERDAM), **kwargs)  # type: ignore[arg-type]


def _runs(app: AppContext) -> list[tuple[str, str]]:
    rows = app.db().execute("SELECT job, outcome FROM job_runs WHERE finished_at IS NOT NULL ORDER BY id")
    return [(job, outcome) for job, outcome in rows.fetchall()]


def _wait_for(condition: Callable[[], bool], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


# -- schedules


def test_weekday_numbers_in_a_schedule_are_read_as_crontab_reads_them() -> None:
    saturday = datetime(2026, 11, 21, 12, 0, tzinfo=AMSTERDAM)

    monday = first_fire_after(job_trigger("0 8 * * 1", AMSTERDAM), saturday)
    sundays = {first_fire_after(job_trigger(f"0 8 * * {d}", AMSTERDAM), saturday) for d in ("0", "7", "sun")}
    weekdays = list(fire_times(job_trigger("0 8 * * mon-fri", AMSTERDAM), saturday, saturday + timedelta(7)))

    assert monday is not None and monday.strftime("%A %H:%M") == "Monday 08:00"
    assert {fire.strftime("%A") for fire in sundays if fire} == {"Sunday"} and len(sundays) == 1
    assert [fire.strftime("%a") for fire in weekdays] == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize("day", [date(2026, 3, 29), date(2026, 10, 25)], ids=["spring", "autumn"])
def test_a_0230_job_runs_once_on_the_days_the_clocks_change(day: date) -> None:
    trigger = job_trigger("30 2 * * *", AMSTERDAM)
    start = datetime(day.year, day.month, day.day, tzinfo=AMSTERDAM) - timedelta(hours=1)

    fires = list(fire_times(trigger, start, start + timedelta(hours=26)))

    assert len([fire for fire in fires if fire.astimezone(AMSTERDAM).date() == day]) == 1


def test_a_poll_every_ten_minutes_keeps_polling_through_the_repeated_hour() -> None:
    trigger = job_trigger("*/10 * * * *", AMSTERDAM)
    start = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 summer time; an hour later 02:00 again

    fires = list(fire_times(trigger, start, start + timedelta(hours=2)))

    assert len(fires) == 12


# -- the catch-up plan (pure)


def _triggers() -> dict[str, object]:
    return {
        "poll-sentry": job_trigger("*/10 * * * *", AMSTERDAM),
        "digest": job_trigger("0 8 * * *", AMSTERDAM),
    }


def test_a_fresh_database_polls_at_once_but_mails_no_old_digests() -> None:
    plan = plan_catch_up(_triggers(), {}, None, NOW)  # type: ignore[arg-type]

    assert plan.polls == ("poll-sentry",)
    assert plan.digest_days == ()


def test_a_two_day_outage_plans_the_two_missed_digest_days_oldest_first() -> None:
    last = {"poll-sentry": NOW - timedelta(days=2), "digest": NOW - timedelta(days=2, hours=1)}

    plan = plan_catch_up(_triggers(), last, NOW - timedelta(days=30), NOW)  # type: ignore[arg-type]

    assert plan.polls == ("poll-sentry",)
    assert plan.digest_days == (date(2026, 11, 16), date(2026, 11, 17))


def test_nothing_is_planned_when_every_job_ran_on_time() -> None:
    last = {"poll-sentry": NOW, "digest": NOW - timedelta(minutes=59)}  # both started on time

    plan = plan_catch_up(_triggers(), last, NOW - timedelta(days=30), NOW)  # type: ignore[arg-type]

    assert plan.polls == () and plan.digest_days == ()


def test_digest_catch_up_reaches_back_one_week_at_most() -> None:
    last = {"digest": NOW - timedelta(days=40)}

    plan = plan_catch_up(_triggers(), last, NOW - timedelta(days=60), NOW)  # type: ignore[arg-type]

    assert plan.digest_days == tuple(date(2026, 11, 11) + timedelta(days=n) for n in range(7))


def test_digest_days_before_the_database_was_first_used_are_not_sent() -> None:
    in_use_since = NOW - timedelta(days=1)  # Tuesday 09:00, after Tuesday's digest time

    plan = plan_catch_up(_triggers(), {}, in_use_since, NOW)  # type: ignore[arg-type]

    assert plan.digest_days == (date(2026, 11, 17),)


def test_a_job_that_never_succeeded_is_missed_at_once() -> None:
    assert missed_since(job_trigger("0 8 * * *", AMSTERDAM), None, NOW) == NOW


# -- catch-up against a real database


def test_catch_up_after_a_two_day_outage_sends_each_missed_digest_once(app: AppContext) -> None:
    _succeeded(app, "digest", NOW - timedelta(days=2, minutes=59))  # Monday 08:01
    _succeeded(app, "poll-sentry", NOW - timedelta(days=2, minutes=50))
    send_day = FakeSendDay()
    polls = {name: Recorder() for name in ("poll-sentry", "poll-mailgun", "reconcile-mailgun")}
    scheduler = _scheduler(app, functions=polls, send_day=send_day)

    first = scheduler.catch_up(NOW)
    second = scheduler.catch_up(NOW + timedelta(minutes=5))

    assert send_day.calls == [date(2026, 11, 16), date(2026, 11, 17)]
    assert first.digest_days == (date(2026, 11, 16), date(2026, 11, 17))
    assert second.digest_days == ()
    assert [len(job.calls) for job in polls.values()] == [1, 1, 1]
    assert ("digest", "ok") in _runs(app)[-4:]


def test_missed_digests_are_delivered_once_each_by_the_real_digest_job(app: AppContext) -> None:
    _succeeded(app, "digest", NOW - timedelta(days=2, minutes=59))
    polls = {name: Recorder() for name in ("poll-sentry", "poll-mailgun", "reconcile-mailgun")}
    scheduler = _scheduler(app, functions=polls)  # the digest job's own send_day, file transport

    scheduler.catch_up(NOW)
    scheduler.catch_up(NOW + timedelta(hours=1))

    out = app.settings().digest.out_dir
    assert sorted(path.name for path in out.glob("*.eml")) == [
        "digest-2026-11-16.eml",
        "digest-2026-11-17.eml",
    ]
    sends = app.db().execute("SELECT day, COUNT(*) FROM digest_sends WHERE status = 'sent' GROUP BY day")
    assert sends.fetchall() == [("2026-11-16", 1), ("2026-11-17", 1)]


def test_a_digest_catch_up_cut_short_by_a_stop_finishes_at_the_next_start(app: AppContext) -> None:
    _succeeded(app, "digest", NOW - timedelta(days=2, minutes=59))
    send_day = FakeSendDay(after_each=lambda job_app: job_app.stop.set())
    polls = {name: Recorder() for name in ("poll-sentry", "poll-mailgun", "reconcile-mailgun")}

    _scheduler(app, functions=polls, send_day=send_day).catch_up(NOW)
    assert send_day.sent == [date(2026, 11, 16)]
    assert _runs(app)[-1] == ("digest", "failed")  # its last success did not move

    app.stop.clear()
    send_day.after_each = None
    _scheduler(app, functions=polls, send_day=send_day).catch_up(NOW + timedelta(minutes=1))

    assert send_day.sent == [date(2026, 11, 16), date(2026, 11, 17)]
    assert send_day.calls == [date(2026, 11, 16), date(2026, 11, 16), date(2026, 11, 17)]


def test_a_database_whose_last_digest_is_two_days_old_gets_the_missed_digests_at_start(
    app: AppContext,
) -> None:
    now = datetime.now(UTC)
    for job in ("digest", "poll-sentry", "poll-mailgun", "reconcile-mailgun"):
        _succeeded(app, job, now - timedelta(days=2, hours=1))
    send_day = FakeSendDay()
    polls = {name: Recorder() for name in ("poll-sentry", "poll-mailgun", "reconcile-mailgun")}
    scheduler = _scheduler(app, functions=polls, send_day=send_day)

    scheduler.scheduler.start()
    try:
        _wait_for(lambda: len(send_day.calls) >= 2 and ("digest", "ok") in _runs(app)[4:])
    finally:
        scheduler.scheduler.shutdown(wait=True)

    # This test runs a real BackgroundScheduler, so it reads the real clock: the newest day
    # due is yesterday after the 08:00 digest time, the day before yesterday until then.
    local = now.astimezone(AMSTERDAM)
    latest_due = local.date() - timedelta(days=1 if local.hour >= 8 else 2)
    assert send_day.calls[-1] == latest_due
    assert send_day.calls[0] < latest_due
    assert len(send_day.calls) == len(set(send_day.calls))


# -- isolation and stopping


def test_a_crashing_job_is_recorded_and_the_others_keep_running(app: AppContext) -> None:
    jobs = {
        "poll-sentry": Recorder(fail=True),
        "poll-mailgun": Recorder(),
        "reconcile-mailgun": Recorder(),
        "digest": Recorder(),
    }
    scheduler = _scheduler(app, functions=jobs, send_day=FakeSendDay())
    aps = scheduler.scheduler

    aps.start()
    try:
        _wait_for(lambda: len(_runs(app)) >= 3)  # the start-up catch-up polls every source
        for name in jobs:  # then a scheduled run of each, as if their times had come
            aps.modify_job(name, next_run_time=datetime.now(UTC))
        _wait_for(lambda: len(_runs(app)) >= 7)
        still_scheduled = [job.id for job in aps.get_jobs() if job.next_run_time is not None]
    finally:
        aps.shutdown(wait=True)

    runs = _runs(app)
    assert runs.count(("poll-sentry", "failed")) == 2
    assert runs.count(("poll-mailgun", "ok")) == 2 and runs.count(("reconcile-mailgun", "ok")) == 2
    assert ("digest", "ok") in runs
    assert set(jobs) <= set(still_scheduled)


def test_no_job_starts_once_a_stop_was_requested(app: AppContext) -> None:
    job = Recorder()
    scheduler = _scheduler(app, functions={"poll-sentry": job})
    app.stop.set()

    result = scheduler.run("poll-sentry", NOW)

    assert result is None and job.calls == [] and _runs(app) == []


def test_a_scheduled_poll_is_skipped_while_the_same_poll_is_still_running(app: AppContext) -> None:
    job = Recorder()
    scheduler = _scheduler(app, functions={"poll-sentry": job})

    with scheduler._job_locks["poll-sentry"]:  # e.g. the start-up catch-up's run
        scheduler.run_scheduled("poll-sentry")

    assert job.calls == []


def test_a_suspend_is_noticed_by_the_wall_clock_running_ahead() -> None:
    wall, mono = [1_000_000.0], [500.0]
    watch = ClockWatch(threshold=120, wall=lambda: wall[0], monotonic=lambda: mono[0])

    wall[0] += 60
    mono[0] += 60
    quiet = watch.jumped()
    wall[0] += 3 * 3600 + 60  # three hours asleep: the monotonic clock stood still
    mono[0] += 60
    after_sleep = watch.jumped()

    assert quiet == 0.0
    assert after_sleep == pytest.approx(3 * 3600)
    assert watch.jumped() == 0.0


def test_after_a_suspend_a_missed_poll_runs_once(app: AppContext) -> None:
    now = datetime.now(UTC)
    # The other jobs succeeded just now, so no fire of theirs (e.g. at hh:00) lies in between.
    for job in ("poll-sentry", "poll-mailgun", "reconcile-mailgun"):
        _succeeded(app, job, now - timedelta(hours=3) if job == "poll-sentry" else now)
    _succeeded(app, "digest", now)
    wall, mono = [1_000_000.0], [500.0]
    watch = ClockWatch(wall=lambda: wall[0], monotonic=lambda: mono[0])
    polls = {name: Recorder() for name in ("poll-sentry", "poll-mailgun", "reconcile-mailgun")}
    scheduler = _scheduler(app, functions=polls, send_day=FakeSendDay(), clock_watch=watch)

    scheduler.watch_clock()  # no jump yet: nothing runs
    before = len(polls["poll-sentry"].calls)
    wall[0] += 3 * 3600
    scheduler.watch_clock()

    assert before == 0
    assert len(polls["poll-sentry"].calls) == 1
    assert polls["poll-mailgun"].calls == [] and polls["reconcile-mailgun"].calls == []

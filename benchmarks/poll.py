"""A full poll from empty (Sentry, then Mailgun) against the floor client on the same data.

Each side runs on a fresh database; the monitor's side starts with the customer directory
(not timed) so linking has real work. Runs alternate (floor, monitor, floor, monitor ...) and
the fastest of each side counts. Reported besides the ratios: the simulators' share of the
monitor's poll time (time inside the simulator apps), so they are never the bottleneck."""

from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from benchmarks import Scale, cpu_timed, figure, progress, ratio
from benchmarks.floors import mailgun_floor, sentry_floor
from benchmarks.plain_floor import mailgun_plain, open_plain, sentry_plain
from benchmarks.simulators import ORGANIZATION, PROJECT_ID, SENTRY_TOKEN, Simulators
from monitor.config.context import AppContext
from monitor.poll.mailgun import reconcile_due
from monitor.runner.jobs import run_job
from monitor.simulators.mailgun import DEFAULT_API_KEY, DEFAULT_DOMAIN
from monitor.store import open_db

TARGET = 1.2  # against the floor that stores the same rows
PLAIN_TARGET = 1.5  # against the plain client (goal 1.2)
JOBS = {"sentry": "poll-sentry", "mailgun": "poll-mailgun"}


def monitor_poll(
    sims: Simulators, source: str, folder: Path, now: datetime
) -> tuple[dict[str, Any], AppContext]:
    app = sims.app(folder / f"monitor-{source}.db")
    sims.reset()
    before = sims.requests(source)
    seconds, cpu, result = cpu_timed(lambda: run_job(app, JOBS[source], now))
    if not result.ok:
        raise RuntimeError(f"the {source} poll failed: {result.error}")
    stored = app.db().execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    run = {
        "seconds": seconds,
        "cpu": cpu,
        "requests": sims.requests(source) - before,
        "stored": stored,
        "simulator_seconds": sims.timers[source].seconds,
    }
    return run, app


def floor_poll(sims: Simulators, source: str, folder: Path, now: datetime) -> dict[str, Any]:
    path = folder / f"floor-{source}.db"
    for stale in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        stale.unlink(missing_ok=True)
    db = open_db(path)  # the same schema and pragmas; the floor itself uses plain sqlite3 on it
    sims.reset()
    before = sims.requests(source)
    if source == "sentry":
        seconds, cpu, _ = cpu_timed(
            lambda: sentry_floor(sims.sentry.base_url, SENTRY_TOKEN, ORGANIZATION, PROJECT_ID, now, db.conn)
        )
    else:
        seconds, cpu, _ = cpu_timed(
            lambda: mailgun_floor(sims.mailgun.base_url, DEFAULT_API_KEY, DEFAULT_DOMAIN, now, db.conn)
        )
    stored = db.execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    db.conn.close()
    return {
        "seconds": seconds,
        "cpu": cpu,
        "requests": sims.requests(source) - before,
        "stored": stored,
        "simulator_seconds": sims.timers[source].seconds,
    }


def plain_poll(sims: Simulators, source: str, folder: Path, now: datetime) -> dict[str, Any]:
    conn = open_plain(folder / f"plain-{source}.db")
    sims.reset()
    if source == "sentry":
        url = sims.sentry.base_url
        seconds, cpu, stored = cpu_timed(
            lambda: sentry_plain(url, SENTRY_TOKEN, ORGANIZATION, PROJECT_ID, now, conn)
        )
    else:
        url = sims.mailgun.base_url
        seconds, cpu, stored = cpu_timed(
            lambda: mailgun_plain(url, DEFAULT_API_KEY, DEFAULT_DOMAIN, now, conn)
        )
    conn.close()
    simulator = sims.timers[source].seconds
    return {"seconds": seconds, "cpu": cpu, "stored": stored, "simulator_seconds": simulator}


def run(scale: Scale, sims: Simulators, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, details). Also measures the requests of a second poll with nothing new."""
    details: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="bench-poll-") as name:
        folder = Path(name)
        for source in JOBS:
            floors, monitors, plains = [], [], []
            app: AppContext | None = None
            for attempt in range(1, scale.repeats + 1):
                plains.append(plain_poll(sims, source, folder, now))
                floors.append(floor_poll(sims, source, folder, now))
                if app is not None:
                    app.db().conn.close()
                run_, app = monitor_poll(sims, source, folder, now)
                monitors.append(run_)
                progress(
                    f"poll {source} #{attempt}: monitor {run_['seconds']:.2f} s, "
                    f"floor {floors[-1]['seconds']:.2f} s, plain floor {plains[-1]['seconds']:.2f} s"
                )
            assert app is not None
            details[source] = _summary(floors, monitors)
            plain = min(plains, key=_seconds)
            details[source]["plain_seconds"] = round(plain["seconds"], 3)
            details[source]["plain_cpu_seconds"] = round(min(p["cpu"] for p in plains), 3)
            details[source]["plain_simulator_seconds"] = round(plain["simulator_seconds"], 3)
            details[source]["plain_records"] = plains[0]["stored"]
            details[source]["nothing_new_requests"] = nothing_new_requests(sims, app, source, now)
            app.db().conn.close()
    return _figures(details), details


def nothing_new_requests(sims: Simulators, app: AppContext, source: str, now: datetime) -> int:
    """Requests of the next poll, minutes later, when nothing new has arrived (counted in the
    simulator's request log). Mailgun's suppression lists are reconciled on their own hourly
    schedule (one request per list, not per poll); the moment is chosen so that it is not due."""
    later = next(
        (
            now + timedelta(minutes=m)
            for m in (10, 5, 2, 1)
            if source != "mailgun" or not reconcile_due(app.db(), app.settings(), now + timedelta(minutes=m))
        ),
        now + timedelta(minutes=10),
    )
    before = sims.requests(source)
    result = run_job(app, JOBS[source], later)
    if not result.ok:
        raise RuntimeError(f"the second {source} poll failed: {result.error}")
    return sims.requests(source) - before


def _seconds(entry: dict[str, Any]) -> float:
    return float(entry["seconds"])


def _summary(floors: list[dict[str, Any]], monitors: list[dict[str, Any]]) -> dict[str, Any]:
    """The fastest run of each side, and the CPU seconds of each side's least busy run."""
    floor, monitor = min(floors, key=_seconds), min(monitors, key=_seconds)
    cpu, floor_cpu = min(m["cpu"] for m in monitors), min(f["cpu"] for f in floors)
    return {
        "records": monitor["stored"],
        "floor_records": floor["stored"],
        "seconds": round(monitor["seconds"], 3),
        "floor_seconds": round(floor["seconds"], 3),
        "cpu_seconds": round(cpu, 3),
        "floor_cpu_seconds": round(floor_cpu, 3),
        "cpu_ratio": round(ratio(cpu, floor_cpu), 3),
        "requests": monitor["requests"],
        "floor_requests": floor["requests"],
        "simulator_seconds": round(monitor["simulator_seconds"], 3),
        "floor_simulator_seconds": round(floor["simulator_seconds"], 3),
    }


def _figures(details: dict[str, Any]) -> dict[str, Any]:
    monitor = sum(d["seconds"] for d in details.values())
    floor = sum(d["floor_seconds"] for d in details.values())
    simulators = sum(d["simulator_seconds"] for d in details.values())
    # The target is the whole poll's; each source's share is reported, to show where time goes.
    plain = sum(d["plain_seconds"] for d in details.values())
    plain_cpu = sum(d["plain_cpu_seconds"] for d in details.values())
    figures = {
        "poll_vs_plain_floor": figure(ratio(monitor, plain), PLAIN_TARGET),
        "poll_vs_floor": figure(ratio(monitor, floor), TARGET),
    }
    figures.update(
        (f"poll_{source}_vs_floor", figure(ratio(d["seconds"], d["floor_seconds"]), None))
        for source, d in details.items()
    )
    cpu = sum(d["cpu_seconds"] for d in details.values())
    figures["poll_vs_floor"]["cpu_ratio"] = round(
        ratio(cpu, sum(d["floor_cpu_seconds"] for d in details.values())), 3
    )
    figures["poll_vs_plain_floor"]["cpu_ratio"] = round(ratio(cpu, plain_cpu), 3)
    # What the monitor's schema costs on its own: the same-rows floor is the plain client writing
    # the monitor's rows into the monitor's tables and indexes, and doing nothing else.
    figures["same_rows_floor_vs_plain_floor"] = figure(ratio(floor, plain), None)
    # The servers' own time, on each side: a fast floor must not be mostly the simulators' work.
    figures["simulator_share_of_poll"] = figure(simulators / monitor, None)
    plain_simulators = sum(d["plain_simulator_seconds"] for d in details.values())
    figures["simulator_share_of_plain_floor"] = figure(plain_simulators / plain, None)
    for source, d in details.items():
        figures[f"requests_nothing_new_{source}"] = figure(d["nothing_new_requests"], 2, digits=0)
    return figures

"""A first poll where the servers answer in 100 ms, as real Sentry and Mailgun do (50-200 ms),
against the plain sequential client under the same latency, in one run.

The data is a tenth of the full poll's issues and a hundredth of its Mailgun records (the
requests, not the rows, are what latency makes slow): 100 issues x 20 events at full scale.
The monitor reads several issues' events at once (`[sentry] max_concurrency`, default 4);
Mailgun's token and `paging.next` paging is one page after another on both sides."""

from __future__ import annotations

import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import Scale, figure, progress, ratio, timed
from benchmarks.plain_floor import mailgun_plain, open_plain, sentry_plain
from benchmarks.simulators import ORGANIZATION, PROJECT_ID, SENTRY_TOKEN, DataSize, Simulators
from monitor.runner.jobs import run_job
from monitor.simulators.mailgun import DEFAULT_API_KEY, DEFAULT_DOMAIN

LATENCY = 0.1  # seconds added to every answer
TARGET = 0.5


def run(scale: Scale, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    size = DataSize(
        sentry_issues=max(scale.sentry_issues // 10, 5),
        sentry_events_per_issue=20,
        mailgun_events=max(scale.mailgun_events // 100, 300),
        mailgun_bounces=max(scale.mailgun_bounces // 100, 100),
        customers=2_000,
    )
    with Simulators(size, now) as sims, tempfile.TemporaryDirectory(prefix="bench-latency-") as name:
        folder = Path(name)
        for server in (sims.sentry, sims.mailgun):
            server.delay = LATENCY
        conn = open_plain(folder / "plain.db")
        floor, _ = timed(
            lambda: (
                sentry_plain(sims.sentry.base_url, SENTRY_TOKEN, ORGANIZATION, PROJECT_ID, now, conn),
                mailgun_plain(sims.mailgun.base_url, DEFAULT_API_KEY, DEFAULT_DOMAIN, now, conn),
            )
        )
        conn.close()
        app = sims.app(folder / "monitor.db")
        monitor, results = timed(lambda: [run_job(app, job, now) for job in ("poll-sentry", "poll-mailgun")])
        if not all(result.ok for result in results):
            raise RuntimeError(f"the latency poll failed: {[r.error for r in results]}")
        app.db().conn.close()
    progress(
        f"latency {LATENCY * 1000:.0f} ms: monitor {monitor:.1f} s, plain sequential floor {floor:.1f} s"
    )
    details = {
        "latency_ms": LATENCY * 1000,
        "issues": size.sentry_issues,
        "events_per_issue": size.sentry_events_per_issue,
        "mailgun_events": size.mailgun_events,
        "mailgun_bounces": size.mailgun_bounces,
        "seconds": round(monitor, 2),
        "floor_seconds": round(floor, 2),
    }
    return {"latency_poll_vs_sequential_floor": figure(ratio(monitor, floor), TARGET)}, details

"""The first Sentry poll's cost: a 10,000-event backfill (100 issues x 100 events) against the
local simulator, then a second poll with nothing new. Prints one JSON object.

    python -m benchmarks.sentry_backfill [--issues N] [--events-per-issue M]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.config.settings import SentrySettings, Settings
from monitor.poll.sentry import poll, sentry_client
from monitor.simulators.sentry import SentryScenario, start_sentry
from monitor.store import open_db

TOKEN = "sntryu_benchmark"
TITLES = (
    "Zuora::Error: Postal code is invalid",
    "Your card was declined.",
    "Cannot purchase add-on: the subscription has expired",
    "NoMethodError: undefined method `plan_id' for nil in checkout",
    "Redis::TimeoutError: Connection timed out",
)


def build(issues: int, per_issue: int, now: datetime) -> SentryScenario:
    scenario = SentryScenario()
    for i in range(issues):
        scenario.add_issue(str(10_000 + i), f"{TITLES[i % len(TITLES)]} ({i})")
        for j in range(per_issue):
            user = {"id": str(40_000 + (i * per_issue + j) % 5_000), "email": f"c{j}@acme{i}.example"}
            at = now - timedelta(hours=1, seconds=i * per_issue + j)
            scenario.add_event(str(10_000 + i), f"{i:016x}{j:016x}", at, user=user)
    return scenario


def run(issues: int = 100, per_issue: int = 100) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    scenario = build(issues, per_issue, now)
    with start_sentry(scenario, token=TOKEN, organization="gitlab", project="cdot") as server:
        sentry = SentrySettings(base_url=server.base_url, organization="gitlab", project="cdot")
        settings = Settings(sentry=sentry)
        with tempfile.TemporaryDirectory() as folder:
            db = open_db(Path(folder) / "monitor.db")
            client = sentry_client(sentry, TOKEN)
            started = time.perf_counter()
            first = poll(db, client, settings, now)
            backfill_seconds = time.perf_counter() - started
            started = time.perf_counter()
            second = poll(db, client, settings, now + timedelta(minutes=10))
            second_seconds = time.perf_counter() - started
            db.close()
            client.close()
    return {
        "benchmark": "sentry_backfill",
        "issues": issues,
        "events": first.new_events,
        "backfill_requests": first.requests,
        "backfill_seconds": round(backfill_seconds, 3),
        "events_per_second": round(first.new_events / backfill_seconds),
        "second_poll_requests": second.requests,
        "second_poll_seconds": round(second_seconds, 4),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--issues", type=int, default=100)
    parser.add_argument("--events-per-issue", type=int, default=100)
    args = parser.parse_args()
    print(json.dumps(run(args.issues, args.events_per_issue)))


if __name__ == "__main__":
    main()

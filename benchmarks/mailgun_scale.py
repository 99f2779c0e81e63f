"""The Mailgun source at scale: a first reconcile of a 50,000-address bounce list and a first
events poll of 50,000 permanent failures against the local simulator, then a second round
with nothing new. Prints one JSON object.

    python -m benchmarks.mailgun_scale [--events N] [--bounces M]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from monitor.config.settings import MailgunSettings, Settings
from monitor.poll.mailgun import mailgun_client, poll_events, reconcile_lists
from monitor.simulators.mailgun import MailgunScenario, start_mailgun
from monitor.store import open_db

KEY = "key-benchmark"
DOMAIN = "mg.bench.example"


def build(events: int, bounces: int, now: datetime) -> MailgunScenario:
    scenario = MailgunScenario(sender_domain=DOMAIN)
    start = (now - timedelta(days=6)).timestamp()
    for n in range(events):
        # Spread over six days; every fifth failure is to an address also on the bounce list.
        recipient = f"user{n % bounces if n % 5 == 0 else n:06d}@acme{n % 500}.example"
        scenario.add_event(
            "failed", recipient, start + n * 10, severity="permanent", reason="bounce" if n % 2 else "generic"
        )
    for n in range(bounces):
        created = now - timedelta(days=30, seconds=n)
        scenario.add_bounce(f"user{n:06d}@acme{n % 500}.example", created_at=created)
    return scenario


def timed(function: Any, *args: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function(*args)
    return result, round(time.perf_counter() - started, 3)


def run(events: int = 50_000, bounces: int = 50_000) -> dict[str, Any]:
    now = datetime.now(UTC).replace(microsecond=0)
    scenario = build(events, bounces, now)
    with start_mailgun(scenario, api_key=KEY, domain=DOMAIN) as server:
        mailgun = MailgunSettings(base_url=server.base_url, domain=DOMAIN)
        settings = Settings(mailgun=mailgun)
        with tempfile.TemporaryDirectory() as folder:
            db = open_db(Path(folder) / "monitor.db")
            client = mailgun_client(mailgun, KEY)
            lists, lists_seconds = timed(reconcile_lists, db, client, settings, now)
            first, events_seconds = timed(poll_events, db, client, settings, now)
            again, again_lists_seconds = timed(
                reconcile_lists, db, client, settings, now + timedelta(hours=1)
            )
            second, second_seconds = timed(poll_events, db, client, settings, now + timedelta(minutes=15))
            signals = db.execute("SELECT COUNT(*) FROM signals").fetchone()[0]
            db.close()
            client.close()
    return {
        "benchmark": "mailgun_scale",
        "bounces": lists.entries["bounces"],
        "reconcile_requests": lists.requests,
        "reconcile_seconds": lists_seconds,
        "events": first.events,
        "events_requests": first.requests,
        "events_seconds": events_seconds,
        "total_requests": lists.requests + first.requests,
        "total_seconds": round(lists_seconds + events_seconds, 3),
        "signals_stored": signals,
        "second_reconcile_requests": again.requests,
        "second_reconcile_seconds": again_lists_seconds,
        "second_poll_requests": second.requests,
        "second_poll_seconds": second_seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=50_000)
    parser.add_argument("--bounces", type=int, default=50_000)
    args = parser.parse_args()
    print(json.dumps(run(args.events, args.bounces)))


if __name__ == "__main__":
    main()

"""The poll against answers recorded from sentry.io, replayed over loopback: an issue list
whose ids are JSON numbers, without `lifetime` and without a Link header, and an issue's
event list with microsecond-free timestamps and a user whose every key is null."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

from monitor.config.settings import SentrySettings, Settings
from monitor.poll.sentry import poll, sentry_client
from monitor.simulators.base import Reply, Request, SimulatorServer
from monitor.store import open_db
from tests.paths import TESTS
from tests.poll.sentry_helpers import FAST

RECORDED = TESTS / "fixtures" / "recorded" / "sentry"
ISSUES = json.loads((RECORDED / "sentryio-issues-captured.body").read_text())
EVENTS = json.loads((RECORDED / "sentryio-issue-events-captured.body").read_text())
NOW = datetime(2020, 1, 10, tzinfo=UTC)  # the captures were made around then
PROJECT_ID = "1851390"  # the projectID the recorded events carry


def replay(request: Request) -> Reply:
    """The recorded bodies as sentry.io sent them: the first issue has the six recorded events."""
    if request.path == "/api/0/organizations/gitlab/issues/":
        return Reply(200, json.dumps(ISSUES).encode())
    found = re.fullmatch(r"/api/0/issues/(\d+)/events/", request.path)
    if found:
        events = EVENTS if found.group(1) == str(ISSUES[0]["id"]) else []
        return Reply(200, json.dumps(events).encode())
    return Reply(404, b'{"detail": "The requested resource does not exist"}')


def test_a_poll_of_recorded_sentry_io_answers_stores_every_event_at_its_own_time(tmp_path: Path) -> None:
    db = open_db(tmp_path / "monitor.db")
    with SimulatorServer(replay).start() as server:
        sentry = SentrySettings(base_url=server.base_url, organization="gitlab", project=PROJECT_ID,
                                lookback_days=14)  # fmt: skip
        settings = Settings(sentry=sentry)
        client = sentry_client(sentry, "sntryu_replay", policy=FAST)
        stats = poll(db, client, settings, NOW)
        client.close()
        issue_lists = [r for r in server.requests if r.path.endswith("/issues/")]

    rows = {row["key"]: row for row in db.query("SELECT key, occurred_at, customer_ref FROM signals")}
    assert stats.issues == len(ISSUES) and stats.new_events == len(EVENTS) == 6
    assert {key: rows[key]["occurred_at"][:19] for key in rows} == {
        event["eventID"]: event["dateCreated"][:19] for event in EVENTS
    }
    assert all(row["customer_ref"] is None for row in rows.values())  # user with every key null
    assert stats.dated_by_issue == 0
    assert all(f"project={PROJECT_ID}" in r.raw_path for r in issue_lists)

"""Mailgun's Logs API, the default source of failures, complaints and unsubscribes: its query,
its token paging, what real answers carry, and a digest identical to the Events API's."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

import pytest
import time_machine

from monitor.config.settings import MailgunSettings
from monitor.digest.job import build_day
from monitor.digest.render import render
from monitor.simulators.mailgun import MailgunScenario, start_mailgun
from monitor.sources.http import HttpClient, RetryPolicy
from monitor.sources.mailgun_logs import logs_query, walk_logs
from monitor.sources.mailgun_parse import parse_events
from tests.conftest import BASE_CONFIG
from tests.paths import TESTS
from tests.poll.mailgun_helpers import DOMAIN, KEY, NOW, Clock, ago, app_for, import_customers, mailgun_config
from tests.poll.test_order_independence import lists_then_events, scenario

RECORDED = TESTS / "fixtures" / "recorded" / "mailgun"
MAILGUN = MailgunSettings(domain=DOMAIN, customer_id_variable="customer_id")


def digest_with(api: str, folder: Path) -> bytes:
    with start_mailgun(scenario(), api_key=KEY, domain=DOMAIN, clock=Clock(NOW)) as server:
        folder.mkdir()
        config = folder / "schedules.toml"
        config.write_text(BASE_CONFIG + mailgun_config(server.base_url, extra=f'events_api = "{api}"\n'))
        import_customers(folder / "monitor.db")
        app = app_for(config)
        with time_machine.travel(NOW, tick=False):
            lists_then_events(app, server)
            later = NOW + timedelta(hours=14)
            return render(build_day(app, NOW.date(), later), app.settings(), "json", later)


def test_the_logs_api_and_the_events_api_give_byte_identical_digests(tmp_path: Path) -> None:
    logs = digest_with("logs", tmp_path / "logs")
    events = digest_with("events", tmp_path / "events")
    assert logs == events
    assert json.loads(logs)["customers"], "the scenario reaches the digest"


def test_the_query_asks_for_one_domains_three_kinds_oldest_first_100_a_page() -> None:
    begin, end = datetime(2026, 11, 23, 7, 0, tzinfo=UTC), datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    body = logs_query(MAILGUN, begin, end, token="abc")
    assert parsedate_to_datetime(body["start"]) == begin and parsedate_to_datetime(body["end"]) == end
    assert sorted(body["events"]) == ["complained", "failed", "unsubscribed"]
    condition = body["filter"]["AND"][0]
    assert condition["attribute"] == "domain" and condition["values"][0]["value"] == DOMAIN
    assert body["pagination"] == {"sort": "timestamp:asc", "limit": 100, "token": "abc"}


def test_token_paging_reads_every_page_and_a_missing_next_is_the_end() -> None:
    built = MailgunScenario(sender_domain=DOMAIN)
    for number in range(250):
        built.add_event("complained", f"user{number}@acme.example", ago(hours=3) + number)
    with start_mailgun(built, api_key=KEY, domain=DOMAIN, clock=Clock(NOW)) as server:
        settings = MailgunSettings(base_url=server.base_url, domain=DOMAIN)
        client = HttpClient("Mailgun", auth=("api", KEY), policy=RetryPolicy(timeout=5.0))
        steps = list(walk_logs(client, settings, NOW - timedelta(days=1), NOW, cap=10))
        client.close()
    assert [len(step.items) for step in steps] == [100, 100, 50]
    assert [step.last for step in steps] == [False, False, True]
    recipients = [item["recipient"] for step in steps for item in step.items]
    assert len(set(recipients)) == 250
    assert all(
        "@timestamp" in item and isinstance(item["user-variables"], str) for s in steps for item in s.items
    )


def test_a_used_up_request_budget_makes_the_next_request_wait_for_its_reset() -> None:
    built = MailgunScenario(sender_domain=DOMAIN)
    for number in range(150):
        built.add_event("complained", f"user{number}@acme.example", ago(hours=3) + number)
    waits: list[float] = []
    with start_mailgun(built, api_key=KEY, domain=DOMAIN, clock=Clock(NOW), request_limit=1) as server:
        settings = MailgunSettings(base_url=server.base_url, domain=DOMAIN)
        client = HttpClient(
            "Mailgun", auth=("api", KEY), policy=RetryPolicy(timeout=5.0), sleep=waits.append,
            clock=lambda: NOW.timestamp(),
        )  # fmt: skip
        list(walk_logs(client, settings, NOW - timedelta(days=1), NOW, cap=10))
        client.close()
    # The first answer says X-Request-Remaining: 0 and a reset 10 s on (epoch milliseconds).
    assert waits and 9.0 <= waits[0] <= 10.01


def test_the_recorded_logs_answer_parses_and_its_accepted_event_is_not_reported() -> None:
    page = json.loads((RECORDED / "mg-logs-2025.body").read_text())
    parsed = parse_events(page["items"], MAILGUN, "https://logs/{email}", set())
    assert parsed.signals == [] and parsed.ignored == 1 and parsed.skipped == []


@pytest.mark.parametrize("variables", ['{"customer_id": "48213"}', {"customer_id": 48213}])
def test_a_customer_id_in_user_variables_is_an_exact_customer_match(variables: Any) -> None:
    item = {
        "event": "failed",
        "severity": "permanent",
        "reason": "bounce",
        "@timestamp": "2026-11-23T09:12:05.166Z",
        "recipient": "someone.else@gmail.com",
        "user-variables": variables,
        "delivery-status": {
            "code": 550,
            "message": "No such user",
            "enhanced-code": "5.1.1",
            "mx-host": "mx.example",
        },
        "message": {"headers": {"subject": "Reset password instructions"}},
    }
    (signal,) = parse_events([item], MAILGUN, "https://logs/{email}", set()).signals
    assert signal.customer_ref == "48213"
    assert "Reset password instructions" in signal.title
    assert signal.detail["enhanced_code"] == "5.1.1" and signal.detail["mx_host"] == "mx.example"


def test_user_variables_that_are_not_json_are_ignored_not_fatal() -> None:
    item = {"event": "complained", "@timestamp": "2026-11-23T09:12:05Z", "recipient": "a@b.example",
            "user-variables": "{not json"}  # fmt: skip
    (signal,) = parse_events([item], MAILGUN, "https://logs/{email}", set()).signals
    assert signal.customer_ref is None

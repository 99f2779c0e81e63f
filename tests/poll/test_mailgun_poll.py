"""`poll-mailgun` against the simulator over loopback: each suppression and permanent failure
stored once, with the right category and match, and nothing lost when it arrives late."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.core.errors import SourceError
from monitor.poll.mailgun import poll_events, poll_job
from monitor.runner.jobs import JobResult, run_job
from monitor.simulators.mailgun import MailgunScenario, MailgunServer
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_parse import CURSOR
from monitor.store.runs import last_run
from monitor.store.signals import get_cursor
from tests.poll.mailgun_helpers import (
    DAY,
    DOMAIN,
    EXPECTED,
    NOW,
    Clock,
    ago,
    app_for,
    clock_fixture,  # noqa: F401  (fixtures)
    config_fixture,  # noqa: F401
    fast_client,
    import_customers,
    mailgun_config,
    mailgun_fixture,  # noqa: F401
    paths,
    scenario_fixture,  # noqa: F401
    stored,
)

EVENTS_PATH = f"/v3/{DOMAIN}/events"


def poll(config: Path, now: datetime = NOW, client: HttpClient | None = None) -> JobResult:
    app = app_for(config)
    own = client or fast_client(app)
    return run_job(app, "poll-mailgun", now, lambda a, n: poll_job(a, n, client=own))


def test_a_first_poll_stores_each_suppression_and_failure_once_with_its_category_and_match(
    config: Path,
) -> None:
    result = poll(config)
    assert result.ok, result.error
    signals = stored(config.parent / "monitor.db")
    assert {key: (row["customer_id"], row["match"]) for key, row in signals.items()} == EXPECTED
    assert {row["category"] for row in signals.values()} == {"bounce", "complaint", "unsubscribe"}
    # The lists are read first; of the events only two are news, the rest match list entries.
    assert result.counts["new"] == 2
    assert result.counts["lists_new"] == 4


@pytest.mark.events_api
def test_the_first_poll_brings_the_suppression_lists_in_as_its_own_recorded_run(
    config: Path, mailgun: MailgunServer
) -> None:
    poll(config)
    app = app_for(config)
    run = last_run(app.db(), "reconcile-mailgun")
    assert run is not None and run.outcome == "ok"
    assert run.counts["bounces"] == 2
    lists = [p for p in paths(mailgun) if not p.startswith(EVENTS_PATH)]
    assert lists == [f"/v3/{DOMAIN}/bounces", f"/v3/{DOMAIN}/complaints", f"/v3/{DOMAIN}/unsubscribes"]


def test_the_same_bounce_from_the_events_and_the_list_is_counted_once(config: Path) -> None:
    poll(config)
    jane = stored(config.parent / "monitor.db", "s.email_norm = 'jane@acme.example'")
    assert list(jane) == [f"bounce:jane@acme.example:{DAY}"]
    # The earliest record's evidence stands, whichever poll came first: the permanent failure,
    # a second before the address was listed.
    assert jane[f"bounce:jane@acme.example:{DAY}"]["email"] == "Jane@ACME.example"


def test_a_wrong_case_recipient_matches_the_customer_by_email(
    config: Path, scenario: MailgunScenario
) -> None:
    scenario.add_event("complained", "BOB@Globex.EXAMPLE", ago(hours=9))
    poll(config)
    row = stored(config.parent / "monitor.db")[f"complaint:bob@globex.example:{DAY}"]
    assert (row["customer_id"], row["match"], row["email"]) == ("48214", "email", "BOB@Globex.EXAMPLE")


def test_gmail_is_never_a_domain_match_even_with_one_gmail_customer(config: Path) -> None:
    poll(config)
    row = stored(config.parent / "monitor.db")[f"unsubscribe:stranger@gmail.com:{DAY}"]
    assert row["customer_id"] is None


def test_a_company_domain_two_customers_share_links_nobody(config: Path) -> None:
    poll(config)
    row = stored(config.parent / "monitor.db")[f"bounce:someone@initech.example:{DAY}"]
    assert row["customer_id"] is None


def test_a_configured_public_domain_is_never_a_domain_match(
    write_config: Callable[[str], Path], mailgun: MailgunServer
) -> None:
    config = write_config(mailgun_config(mailgun.base_url, extra='public_domains = ["acme.example"]\n'))
    import_customers(config.parent / "monitor.db")
    poll(config)
    assert stored(config.parent / "monitor.db")[f"complaint:carl@acme.example:{DAY}"]["customer_id"] is None


@pytest.mark.events_api
def test_a_poll_with_nothing_in_its_window_costs_one_request(config: Path, mailgun: MailgunServer) -> None:
    poll(config)
    before = stored(config.parent / "monitor.db")
    mailgun.clear_log()
    result = poll(config, NOW + timedelta(minutes=15))
    assert result.ok
    assert paths(mailgun) == [EVENTS_PATH]
    assert result.counts["requests"] == 1
    assert stored(config.parent / "monitor.db").keys() == before.keys()


@pytest.mark.events_api
def test_events_are_read_page_by_page_to_the_empty_page_following_next_as_given(
    config: Path, mailgun: MailgunServer, scenario: MailgunScenario
) -> None:
    for n in range(650):
        scenario.add_event("complained", f"user{n:04d}@example.org", ago(days=1, seconds=n))
    result = poll(config)
    assert result.ok
    events = [r for r in mailgun.requests if r.path.startswith(EVENTS_PATH)]
    # 656 events: 300 + 300 + 56, then the empty page that ends the walk.
    assert len(events) == 4
    assert all(r.path.startswith(EVENTS_PATH + "/") for r in events[1:])  # the opaque token
    assert "begin=" in events[0].raw_path and "begin=" not in events[1].raw_path
    assert result.counts["pages"] == 4
    assert len(stored(config.parent / "monitor.db", "s.category = 'complaint'")) == 651


@pytest.mark.events_api
def test_a_next_url_that_repeats_stops_the_poll_and_keeps_the_cursor(
    config: Path, scenario: MailgunScenario
) -> None:
    app = app_for(config)
    scenario.repeat_next = True
    with pytest.raises(SourceError, match="repeats a page already read"):
        poll_events(app.db(), fast_client(app), app.settings(), NOW)
    assert get_cursor(app.db(), CURSOR) is None


def test_an_event_stored_late_is_picked_up_by_a_later_poll(
    config: Path, scenario: MailgunScenario, clock: Clock
) -> None:
    # Mailgun lists it only 50 minutes after it happened: past the first poll's trust threshold.
    happened = NOW - timedelta(minutes=40)
    scenario.add_event("complained", "late@globex.example", happened.timestamp(),
                       visible_at=(happened + timedelta(minutes=50)).timestamp())  # fmt: skip
    poll(config)
    key = f"complaint:late@globex.example:{DAY}"
    assert key not in stored(config.parent / "monitor.db")
    clock.now = NOW + timedelta(minutes=15)
    poll(config, clock.now)
    assert key in stored(config.parent / "monitor.db")  # the overlap re-read it
    clock.now = NOW + timedelta(minutes=30)
    poll(config, clock.now)
    assert len(stored(config.parent / "monitor.db", f"s.key = '{key}'")) == 1


def test_an_event_younger_than_the_trust_threshold_waits_for_the_next_poll(
    config: Path, scenario: MailgunScenario, clock: Clock
) -> None:
    scenario.add_event("unsubscribed", "fresh@globex.example", (NOW - timedelta(minutes=10)).timestamp())
    poll(config)
    key = f"unsubscribe:fresh@globex.example:{DAY}"
    assert key not in stored(config.parent / "monitor.db")
    clock.now = NOW + timedelta(minutes=25)
    poll(config, clock.now)
    assert stored(config.parent / "monitor.db")[key]["customer_id"] == "48214"


def test_unreadable_records_are_skipped_and_counted_never_a_traceback(
    config: Path, scenario: MailgunScenario
) -> None:
    broken = scenario.add_event("failed", "x@globex.example", ago(hours=8), severity="permanent")
    del broken["recipient"]
    result = poll(config)
    assert result.ok
    assert result.counts["skipped"] == 1
    assert len(stored(config.parent / "monitor.db")) == len(EXPECTED)


def test_the_cursor_moves_to_the_windows_end_with_the_last_page(config: Path) -> None:
    poll(config)
    app = app_for(config)
    cursor = get_cursor(app.db(), CURSOR)
    assert cursor is not None
    assert datetime.fromisoformat(cursor) == NOW - timedelta(minutes=30)


def test_a_failed_delivery_becomes_the_bounce_when_the_list_reports_it(
    config: Path, scenario: MailgunScenario
) -> None:
    app = app_for(config)
    scenario.add_event("failed", "li@initech.example", ago(hours=8), severity="permanent", reason="generic")
    poll_events(app.db(), fast_client(app), app.settings(), NOW)
    key = f"failed_delivery:li@initech.example:{DAY}"
    assert stored(config.parent / "monitor.db")[key]["customer_id"] == "48215"
    scenario.add_bounce("li@initech.example", created_at=datetime.fromtimestamp(ago(hours=7), UTC))
    result = poll(config, NOW + timedelta(minutes=15))  # the first poll: the lists are due
    assert result.ok
    li = stored(config.parent / "monitor.db", "s.email_norm = 'li@initech.example'")
    assert list(li) == [f"bounce:li@initech.example:{DAY}"]
    row = li[f"bounce:li@initech.example:{DAY}"]
    assert (row["category"], row["customer_id"], row["title"]) == (
        "bounce",
        "48215",
        # the permanent failure's evidence: it came before the listing
        "550 5.1.1 The email account that you tried to reach does not exist. (mail: Your purchase)",
    )
    assert result.counts["lists_promoted"] == 2  # and bob's generic failure of the seed
    assert not stored(config.parent / "monitor.db", "s.category = 'failed_delivery'")

"""`monitor poll sentry` and the poll-sentry job against the Sentry simulator over loopback."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from functools import partial
from pathlib import Path
from urllib.parse import unquote
from zoneinfo import ZoneInfo

from click.testing import CliRunner

from monitor.cli import main
from monitor.poll.sentry import poll_job
from monitor.runner.jobs import run_job
from monitor.simulators.base import Fault, SimulatorServer
from monitor.simulators.sentry import SentryScenario, start_sentry
from monitor.store import open_db
from monitor.store.signals import get_cursor
from tests.poll.sentry_helpers import (
    EVENTS,
    NOW,
    ORG,
    PROJECT,
    PROJECT_ID,
    TOKEN,
    app_for,
    config_fixture,  # noqa: F401  (fixtures)
    event_id,
    fast_client,
    poll_cli,
    scenario_fixture,  # noqa: F401
    sentry_config,
    sentry_fixture,  # noqa: F401
    stored,
)


def _db(config_path: Path) -> Path:
    return config_path.parent / "monitor.db"


def _cursor(config_path: Path) -> str | None:
    db = open_db(_db(config_path))
    try:
        return get_cursor(db, "sentry")
    finally:
        db.close()


def test_a_poll_stores_every_event_once_classified_and_linked_as_the_scenario_says(config: Path) -> None:
    result = poll_cli(config)
    assert result.exit_code == 0, result.output
    rows = stored(_db(config))
    assert set(rows) == {event_id(n) for n in EVENTS}
    for number, (_issue, _user, _minutes, expect) in EVENTS.items():
        row = rows[event_id(number)]
        assert (row["category"], row["customer_id"], row["match"]) == (
            expect.category,
            expect.customer,
            expect.match,
        ), number


def test_the_poll_prints_pages_new_events_categories_and_link_counts(config: Path) -> None:
    result = poll_cli(config)
    assert result.exit_code == 0, result.output
    lines = dict(line.strip().rsplit(maxsplit=1) for line in result.stdout.splitlines()[1:])
    lines = {key.strip(): value for key, value in lines.items()}
    assert result.stdout.startswith("sentry: ok")
    assert lines["pages"] == "6"  # the issue list + one events page per issue
    assert lines["new events"] == "7"
    assert lines["purchase errors"] == "6"
    assert (lines["address or card"], lines["expired subscription"], lines["other purchase error"]) == (
        "3",
        "1",
        "2",
    )
    assert (lines["linked"], lines["unlinked"]) == ("4", "2")


def test_a_second_poll_with_nothing_new_makes_at_most_two_requests(
    config: Path, sentry: SimulatorServer
) -> None:
    assert poll_cli(config).exit_code == 0
    sentry.clear_log()
    result = poll_cli(config)
    assert result.exit_code == 0, result.output
    assert len(sentry.requests) <= 2
    assert [r.path for r in sentry.requests] == [f"/api/0/organizations/{ORG}/issues/"]
    assert "new events" in result.stdout and len(stored(_db(config))) == len(EVENTS)


def test_overlapping_windows_store_new_and_late_events_once(
    config: Path, scenario: SentryScenario, sentry: SimulatorServer
) -> None:
    app = app_for(config)
    client = fast_client(app)
    assert run_job(app, "poll-sentry", NOW, function=partial(poll_job, client=client)).ok
    # A new event, and a late one: older than its issue's lastSeen, inside the overlap window.
    scenario.add_event("101", event_id(100), NOW + timedelta(minutes=5), user={"id": "48213"})
    scenario.add_event("105", event_id(101), NOW - timedelta(minutes=40), user={"id": "48214"})
    later = NOW + timedelta(minutes=10)
    result = run_job(app, "poll-sentry", later, function=partial(poll_job, client=client))
    assert result.ok, result.summary
    assert result.counts["new_events"] == 2
    assert result.counts["issues_read"] == 2  # the others did not change: not read again
    rows = stored(_db(config))
    assert len(rows) == len(EVENTS) + 2
    assert {event_id(100), event_id(101)} <= set(rows)


def test_pagination_covers_more_than_100_issues_and_an_issue_with_250_events(
    write_config, monkeypatch
) -> None:
    scenario = SentryScenario()
    for n in range(130):
        scenario.add_issue(str(5000 + n), f"Zuora::Error: Postal code is invalid ({n})")
        scenario.add_event(str(5000 + n), event_id(10_000 + n), NOW - timedelta(minutes=n + 1))
    scenario.add_issue("7000", "Your card was declined.")
    for n in range(250):
        scenario.add_event(
            "7000", event_id(20_000 + n), NOW - timedelta(hours=3, seconds=n), user={"id": "1"}
        )
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    with start_sentry(scenario, token=TOKEN, organization=ORG, project=PROJECT) as server:
        config_path = write_config(sentry_config(server.base_url))
        result = poll_cli(config_path)
        assert result.exit_code == 0, result.output
        issue_pages = [r for r in server.requests if r.path.endswith("/issues/")]
        big_pages = [r for r in server.requests if "/issues/7000/events/" in r.path]
    assert len(issue_pages) == 2 and len(big_pages) == 3
    assert "cursor=" in big_pages[-1].raw_path
    assert len(stored(config_path.parent / "monitor.db")) == 130 + 250


def test_a_link_header_whose_url_holds_commas_is_followed(config: Path, sentry: SimulatorServer) -> None:
    # The first issue page answers with a Link whose URL has commas (e.g. a release:[a,b] query).
    next_url = (
        f"{sentry.base_url}/api/0/organizations/{ORG}/issues/?project={PROJECT_ID}&query=&sort=date"
        "&limit=100&release=[1.0,2.0]&cursor=0:0:0"
    )
    link = (
        f"<{sentry.base_url}/api/0/organizations/{ORG}/issues/?release=[1.0,2.0]&cursor=0:0:1>; "
        'rel="previous"; results="false"; cursor="0:0:1", '
        f'<{next_url}>; rel="next"; results="true"; cursor="0:0:0"'
    )
    sentry.inject(Fault(status=200, body=b"[]", headers={"Link": link}, path_contains="/issues/"))
    result = poll_cli(config)
    assert result.exit_code == 0, result.output
    issue_requests = [r.raw_path for r in sentry.requests if r.path.endswith(f"{ORG}/issues/")]
    assert len(issue_requests) == 2 and "release=[1.0,2.0]" in unquote(issue_requests[1])
    assert len(stored(_db(config))) == len(EVENTS)


def test_a_429_without_retry_after_waits_for_the_reset_then_succeeds(
    config: Path, sentry: SimulatorServer
) -> None:
    waits: list[float] = []
    reset = int(time.time()) + 2
    sentry.inject(
        Fault(
            status=429,
            body=json.dumps("You are attempting to use this endpoint too frequently. Limit is 40").encode(),
            headers={"X-Sentry-Rate-Limit-Remaining": "0", "X-Sentry-Rate-Limit-Reset": str(reset)},
            path_contains="/issues/",
        )
    )
    app = app_for(config)
    result = run_job(
        app, "poll-sentry", NOW, function=partial(poll_job, client=fast_client(app, sleep=waits.append))
    )
    assert result.ok, result.summary
    assert len(waits) == 1 and 0 < waits[0] <= 3.01  # until the reset (plus jitter), not a blind back-off
    issue_lists = [r for r in sentry.requests if r.path.endswith("/issues/")]
    assert [r.status for r in issue_lists[:2]] == [429, 200]
    assert len(stored(_db(config))) == len(EVENTS)


def test_a_used_up_rate_limit_window_is_waited_out_instead_of_earning_429s(
    write_config, monkeypatch, scenario: SentryScenario
) -> None:
    clock = [time.time()]
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    with start_sentry(
        scenario, token=TOKEN, organization=ORG, project=PROJECT, rate_limit=(3, 60.0), clock=lambda: clock[0]
    ) as server:
        # One reader: Sentry counts each endpoint apart, while the readers share one budget.
        app = app_for(write_config(sentry_config(server.base_url, extra="max_concurrency = 1\n")))
        client = fast_client(app, sleep=lambda s: clock.__setitem__(0, clock[0] + s), clock=lambda: clock[0])
        result = run_job(app, "poll-sentry", NOW, function=partial(poll_job, client=client))
        statuses = [r.status for r in server.requests]
    assert result.ok, result.summary
    assert 429 not in statuses and client.waited > 0
    assert result.counts["new_events"] == len(EVENTS)


def test_a_burst_of_503s_and_a_cut_off_body_are_retried(config: Path, sentry: SimulatorServer) -> None:
    sentry.inject(
        Fault(status=503, body=b"<html>Service Unavailable</html>", times=4, path_contains="/events/")
    )
    sentry.inject(Fault(truncate=20, path_contains="/issues/103/events/"))
    app = app_for(config)
    result = run_job(app, "poll-sentry", NOW, function=partial(poll_job, client=fast_client(app)))
    assert result.ok, result.summary
    assert [r.status for r in sentry.requests].count(503) == 4
    assert len(stored(_db(config))) == len(EVENTS)


def test_a_failed_poll_keeps_its_committed_pages_and_leaves_the_cursor(
    config: Path, sentry: SimulatorServer
) -> None:
    # Issues are read most recently seen first; 101 is the last one.
    sentry.inject(Fault(status=503, times=6, path_contains="/issues/101/events/"))
    app = app_for(config)
    result = run_job(app, "poll-sentry", NOW, function=partial(poll_job, client=fast_client(app)))
    assert not result.ok and "503" in (result.error or "")
    assert _cursor(config) is None
    kept = stored(_db(config))
    assert 0 < len(kept) < len(EVENTS)  # the issues read before the failure stay stored
    assert result.exit_code == 1
    assert poll_cli(config).exit_code == 0
    assert len(stored(_db(config))) == len(EVENTS) and _cursor(config) is not None


def test_a_malformed_json_page_fails_the_poll_commits_nothing_of_it_and_the_next_poll_completes(
    config: Path, sentry: SimulatorServer
) -> None:
    sentry.inject(Fault(status=200, body=b'[{"eventID": "' + event_id(4).encode() + b'", "title": ',
                        path_contains="/issues/103/events/"))  # fmt: skip
    result = poll_cli(config)
    assert result.exit_code == 1
    assert "malformed JSON" in result.stderr and "Traceback" not in result.output
    rows = stored(_db(config))
    assert not [key for key, row in rows.items() if row["grp"] == "103"]
    assert _cursor(config) is None
    again = poll_cli(config)
    assert again.exit_code == 0, again.output
    assert len(stored(_db(config))) == len(EVENTS)
    assert _cursor(config) is not None


def test_a_null_user_is_stored_unlinked_and_xss_titles_verbatim(config: Path) -> None:
    assert poll_cli(config).exit_code == 0
    rows = stored(_db(config))
    anonymous = rows[event_id(4)]
    assert (
        anonymous["customer_ref"] is None and anonymous["email"] is None and anonymous["customer_id"] is None
    )
    assert rows[event_id(6)]["title"] == "<script>alert('x')</script> Your card was declined."
    assert rows[event_id(6)]["url"].endswith(f"/issues/105/events/{event_id(6)}/")


def test_details_seen_in_events_fill_gaps_but_never_overwrite_the_import(config: Path) -> None:
    assert poll_cli(config).exit_code == 0
    db = open_db(_db(config))
    customers = {row["id"]: row for row in db.query("SELECT * FROM customers")}
    db.close()
    assert customers["48213"]["email"] == "jane@acme.example"  # the event said other@acme.example
    assert customers["48213"]["first_name"] == "Jane"
    assert (customers["99001"]["email"], customers["99001"]["origin"]) == ("new@newco.example", "seen")
    assert (customers["99001"]["first_name"], customers["99001"]["last_name"]) == ("New", "Buyer")


def test_every_run_is_recorded_for_status(config: Path) -> None:
    assert poll_cli(config).exit_code == 0
    db = open_db(_db(config))
    runs = list(db.query("SELECT job, outcome, counts FROM job_runs"))
    db.close()
    assert [(run["job"], run["outcome"]) for run in runs] == [("poll-sentry", "ok")]
    assert json.loads(runs[0]["counts"])["new_events"] == len(EVENTS)


def test_a_sentry_username_is_never_shown_as_the_persons_name(config: Path) -> None:
    """Event 6 names its user only by the handle 'li' (and an address of customer 48215, who
    has no name on file): the digest shows no name rather than the handle."""
    assert poll_cli(config).exit_code == 0
    assert stored(_db(config))[event_id(6)]["name"] is None
    today = NOW.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    result = CliRunner().invoke(
        main, ["--config", str(config), "digest", "--date", today, "--format", "json"]
    )
    customers = {c["customer_id"]: c for c in json.loads(result.output)["customers"]}
    assert customers["48215"]["name"] == ""
    assert "li" not in {line.get("name") for line in json.loads(result.output)["unlinked"]}

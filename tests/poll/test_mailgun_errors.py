"""What goes wrong with Mailgun, against the simulator: wrong key or region, rate limits, 5xx,
malformed pages. Each ends in a sentence and the documented exit status, and loses nothing."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.config.settings import MailgunSettings
from monitor.poll.mailgun import poll_job
from monitor.runner.jobs import run_job
from monitor.simulators.mailgun import (
    MailgunScenario,
    MailgunServer,
    malformed_json,
    server_error,
    start_mailgun,
    too_many_requests,
)
from monitor.sources.mailgun_client import events_url, list_url
from monitor.sources.mailgun_parse import CURSOR
from monitor.store import open_db
from monitor.store.signals import get_cursor
from tests.poll.mailgun_helpers import (
    DOMAIN,
    KEY,
    NOW,
    app_for,
    clock_fixture,  # noqa: F401  (fixtures)
    config_fixture,  # noqa: F401
    fast_client,
    import_customers,
    mailgun_config,
    mailgun_fixture,  # noqa: F401
    scenario_fixture,  # noqa: F401
    stored,
)

LOGS = "/v1/analytics/logs"
EVENTS = f"/v3/{DOMAIN}/events"


def poll_cli(config: Path) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "poll", "mailgun"])


@pytest.fixture(name="live")
def live_fixture() -> Iterator[MailgunServer]:
    """A simulator on the wall clock, for the CLI (which polls at the real now)."""
    scenario = MailgunScenario(sender_domain=DOMAIN)
    now = time.time()
    for n in range(400):
        scenario.add_event("complained", f"user{n:03d}@example.org", now - 7200 + n)
    scenario.add_bounce("jane@acme.example", created_at=datetime.now(UTC) - timedelta(hours=3))
    with start_mailgun(scenario, api_key=KEY, domain=DOMAIN) as server:
        yield server


@pytest.fixture(name="live_config")
def live_config_fixture(
    write_config: Callable[[str], Path], live: MailgunServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    path = write_config(mailgun_config(live.base_url))
    import_customers(path.parent / "monitor.db")
    return path


def test_a_wrong_key_fails_with_the_key_and_region_sentence_and_exit_1(
    live_config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "key-wrong")
    result = poll_cli(live_config)
    assert result.exit_code == 1
    assert "401 Forbidden: check MAILGUN_API_KEY" in result.stderr
    assert "https://api.eu.mailgun.net" in result.stderr
    assert "Traceback" not in result.output + result.stderr


def test_an_unknown_domain_names_the_domain_and_the_region(
    write_config: Callable[[str], Path], live: MailgunServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    config = write_config(mailgun_config(live.base_url, domain="mg.other.example"))
    result = poll_cli(config)
    assert result.exit_code == 1
    assert f"Mailgun does not know the domain mg.other.example at {live.base_url}" in result.stderr
    assert "EU api.eu.mailgun.net" in result.stderr


def test_a_malformed_page_fails_the_poll_commits_nothing_of_it_and_the_next_poll_completes(
    live_config: Path, live: MailgunServer
) -> None:
    live.inject(malformed_json(path_contains=LOGS, skip=1))  # the second page of the Logs API
    first = poll_cli(live_config)
    assert first.exit_code == 1
    assert "malformed JSON" in first.stderr
    db_path = live_config.parent / "monitor.db"
    assert len(stored(db_path, "s.category = 'complaint'")) == 100  # page one only
    assert get_cursor(open_db(db_path), CURSOR) is None
    second = poll_cli(live_config)
    assert second.exit_code == 0, second.stderr
    assert len(stored(db_path, "s.category = 'complaint'")) == 400
    assert get_cursor(open_db(db_path), CURSOR) is not None


def test_the_cli_prints_the_counts_of_the_lists_and_the_events(live_config: Path) -> None:
    result = poll_cli(live_config)
    assert result.exit_code == 0, result.stderr
    assert "mailgun: ok" in result.output
    assert "lists bounces" in result.output
    assert "complaint" in result.output


@pytest.mark.events_api
def test_paging_urls_are_followed_as_given_host_included(
    config: Path, mailgun: MailgunServer, scenario: MailgunScenario
) -> None:
    # The server names itself `localhost` in its paging URLs while the config says 127.0.0.1:
    # the poll must go where `next` says, as it must to reach an EU host in `next`.
    port = mailgun.base_url.rsplit(":", 1)[1]
    mailgun.app.public_base_url = f"http://localhost:{port}"
    for n in range(350):
        scenario.add_event(
            "complained", f"user{n:03d}@example.org", (NOW - timedelta(days=1)).timestamp() + n
        )
    app = app_for(config)
    client = fast_client(app)
    result = run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
    assert result.ok, result.error
    hosts = [(r.path, r.headers["host"]) for r in mailgun.requests if r.path.startswith(EVENTS)]
    assert hosts[0] == (EVENTS, f"127.0.0.1:{port}")  # base_url picks the host of the first request
    assert all(host == f"localhost:{port}" for _, host in hosts[1:])
    assert len(hosts) == 3


def test_base_url_picks_the_region() -> None:
    eu = MailgunSettings(base_url="https://api.eu.mailgun.net", domain="mg.customers.example")
    assert events_url(eu) == "https://api.eu.mailgun.net/v3/mg.customers.example/events"
    assert (
        list_url(eu, "bounces", "a+b@x.example")
        == "https://api.eu.mailgun.net/v3/mg.customers.example/bounces/a%2Bb@x.example"
    )


@pytest.mark.parametrize(
    "fault, low, high",
    [
        (lambda: too_many_requests(retry_after=2), 2.0, 2.0),
        (lambda: too_many_requests(reset_at=time.time() + 5), 3.5, 6.5),
    ],
    ids=["Retry-After", "X-RateLimit-Reset"],
)
def test_a_429_waits_as_told_then_the_poll_completes(
    config: Path, mailgun: MailgunServer, fault: Callable[[], object], low: float, high: float
) -> None:
    waits: list[float] = []
    mailgun.inject(fault())  # type: ignore[arg-type]
    app = app_for(config)
    client = fast_client(app, sleep=waits.append)
    result = run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
    assert result.ok, result.error
    assert len(waits) == 1 and low <= waits[0] <= high
    assert len(stored(config.parent / "monitor.db")) == 6


@pytest.mark.events_api
def test_a_passing_5xx_is_retried_and_the_poll_completes(config: Path, mailgun: MailgunServer) -> None:
    waits: list[float] = []
    mailgun.inject(server_error(503, times=2, path_contains=EVENTS))
    app = app_for(config)
    client = fast_client(app, sleep=waits.append)
    result = run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
    assert result.ok, result.error
    assert len(waits) == 2
    assert len(stored(config.parent / "monitor.db")) == 6


@pytest.mark.events_api
def test_a_lasting_5xx_fails_the_poll_with_a_sentence_and_keeps_the_cursor(
    config: Path, mailgun: MailgunServer
) -> None:
    mailgun.inject(server_error(502, times=50, path_contains=EVENTS))
    app = app_for(config)
    client = fast_client(app, sleep=lambda _: None)
    result = run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
    assert not result.ok
    assert (result.error or "").startswith("Mailgun answered 502 after 6 tries")
    assert get_cursor(app.db(), CURSOR) is None

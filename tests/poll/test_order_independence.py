"""Same facts, same digest: the day's digest is a function of what is stored, not of the order
the polls came in. Events before lists, lists before events, a failing list in the middle and
a list snapshot cut off half-way, and a poll that dies part-way and is run again all end in
byte-identical JSON."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from monitor.config.context import AppContext
from monitor.digest.job import build_day
from monitor.digest.render import render
from monitor.poll.mailgun import RECONCILE_JOB, poll_job, reconcile_job
from monitor.poll.mailgun_events import poll_events
from monitor.runner.jobs import run_job
from monitor.simulators.base import Fault
from monitor.simulators.mailgun import MailgunScenario, MailgunServer, start_mailgun
from monitor.sources.http import HttpClient
from monitor.sources.http_parts import Page
from tests.poll.mailgun_helpers import (
    DOMAIN,
    KEY,
    NOW,
    Clock,
    ago,
    app_for,
    fast_client,
    import_customers,
    mailgun_config,
    seed,
)

Order = Callable[[AppContext, MailgunServer], None]


def scenario() -> MailgunScenario:
    """The source tests' records, plus the same trouble seen both ways round: a permanent
    failure before its address was listed (Jane, Bob), and an address listed before a later
    failure (Dave); and a bounce list long enough for two pages."""
    built = MailgunScenario(sender_domain=DOMAIN)
    seed(built)
    built.add_bounce(
        "dave@globex.example",
        error="550 mailbox unavailable",
        created_at=datetime.fromtimestamp(ago(hours=6), UTC),
    )
    built.add_event("failed", "dave@globex.example", ago(hours=5), severity="permanent", reason="bounce")
    listed = datetime.fromtimestamp(ago(hours=8), UTC)
    for number in range(1100):
        built.add_bounce(f"listed{number:04d}@example-isp.net", created_at=listed)
    return built


def reconcile(app: AppContext) -> None:
    client = fast_client(app)
    result = run_job(app, RECONCILE_JOB, NOW, lambda a, n: reconcile_job(a, n, client=client))
    client.close()
    assert result.ok, result.summary


def poll(app: AppContext, *, ok: bool = True) -> None:
    client = fast_client(app)
    result = run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
    client.close()
    assert result.ok is ok, result.summary


def events_only(app: AppContext) -> None:
    client = fast_client(app)
    poll_events(app.db(), client, app.settings(), NOW)
    client.close()


def lists_then_events(app: AppContext, _server: MailgunServer) -> None:
    reconcile(app)
    poll(app)


def events_then_lists(app: AppContext, _server: MailgunServer) -> None:
    events_only(app)
    reconcile(app)
    poll(app)


def a_failing_list_in_the_middle(app: AppContext, server: MailgunServer) -> None:
    server.inject(Fault(status=503, times=1000, path_contains="/bounces"))
    poll(app, ok=False)  # the events are stored, the bounce list is not
    server.faults.clear()
    reconcile(app)
    poll(app)


def a_list_answer_cut_short(app: AppContext, server: MailgunServer) -> None:
    server.inject(Fault(truncate=200, path_contains="/bounces", times=1000))
    with pytest.raises(AssertionError):
        reconcile(app)  # every bounce-list answer is cut short: that snapshot does not complete
    server.faults.clear()
    events_only(app)
    reconcile(app)
    poll(app)


class Crash(BaseException):
    """The process dying: no `except Exception` of the product catches it, so nothing after the
    last committed page is written, as after a kill (SQLite rolls the open page back)."""


def dying_client(app: AppContext, after: int) -> HttpClient:
    """A client whose process dies as it sends its `after`+1st request."""
    client = fast_client(app)
    real = client.request
    sent = [0]

    def request(method: str, url: str, **kwargs: Any) -> Page:
        sent[0] += 1
        if sent[0] > after:
            raise Crash
        return real(method, url, **kwargs)

    setattr(client, "request", request)  # noqa: B010 - an instance's method, replaced
    return client


def a_crash_and_a_resume(after: int, *, events_first: bool = False) -> Order:
    def order(app: AppContext, _server: MailgunServer) -> None:
        if events_first:
            events_only(app)
        client = dying_client(app, after)
        with pytest.raises(Crash):
            run_job(app, "poll-mailgun", NOW, lambda a, n: poll_job(a, n, client=client))
        client.close()
        poll(app)  # the restarted monitor's next poll

    return order


ORDERS: dict[str, Order] = {
    "lists, then events": lists_then_events,
    "events, then lists": events_then_lists,
    "a failing list in the middle": a_failing_list_in_the_middle,
    "a list answer cut short": a_list_answer_cut_short,
    "a crash after the first bounce-list page": a_crash_and_a_resume(after=1),
    "events, then a crash in the bounce list": a_crash_and_a_resume(after=1, events_first=True),
    "a crash as the events are read": a_crash_and_a_resume(after=4),  # the lists took 4 requests
}


@pytest.fixture(name="digests", scope="module")
def digests_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = {}
    for name, order in ORDERS.items():
        out[name] = run_order(order, tmp_path_factory.mktemp("order"))
    return out


def run_order(order: Order, folder: Path) -> bytes:
    config = folder / "schedules.toml"
    with start_mailgun(scenario(), api_key=KEY, domain=DOMAIN, clock=Clock(NOW)) as server:
        config.write_text(_base_config() + mailgun_config(server.base_url))
        import_customers(folder / "monitor.db")
        app = app_for(config)
        with time_machine.travel(NOW, tick=False):
            order(app, server)
            later = NOW + timedelta(hours=14)
            digest = build_day(app, NOW.date(), later)
            return render(digest, app.settings(), "json", later)


def _base_config() -> str:
    from tests.conftest import BASE_CONFIG

    return BASE_CONFIG


@pytest.mark.parametrize("name", [n for n in ORDERS if n != "lists, then events"])
def test_the_digest_is_byte_identical_whatever_the_order_of_the_polls(
    digests: dict[str, bytes], name: str
) -> None:
    assert digests[name] == digests["lists, then events"]


def test_the_scenario_reaches_the_digest(digests: dict[str, bytes]) -> None:
    """Guards the comparison above: the digest compared holds the troubles seen both ways."""
    text = digests["lists, then events"].decode()
    for address in ("jane@acme.example", "bob@globex.example", "dave@globex.example"):
        assert address.split("@")[0] in text.lower()

"""Fixtures for the Mailgun source tests: a seeded simulator over loopback with a clock the
test moves, a config pointing at it, customers in the database, and a fast retry policy."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.config.context import AppContext
from monitor.config.load import Secrets
from monitor.config.secrets import Secret
from monitor.core.models import Customer
from monitor.poll.mailgun import mailgun_client
from monitor.simulators.mailgun import DEFAULT_DOMAIN, MailgunScenario, MailgunServer, start_mailgun
from monitor.sources.http import HttpClient, RetryPolicy
from monitor.store import open_db
from tests.store_helpers import save_customers_at

KEY = "key-test-0123456789abcdef"
DOMAIN = DEFAULT_DOMAIN
# A fixed past moment: job runs record max(now, wall clock) as their finish, so with a past
# NOW the hourly reconcile never falls due again by itself and request counts stay exact.
NOW = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
DAY = NOW.date().isoformat()
FAST = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=600.0, timeout=5.0)

CUSTOMERS = [
    Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme"),
    Customer("48214", "bob@globex.example", "Bob", "Smith", "Globex"),
    Customer("48215", "li@initech.example", "Li", "", "Initech"),
    Customer("48216", "ann@initech.example", "Ann", "", "Initech"),  # initech.example is shared
    Customer("48217", "zoe@gmail.com", "Zoe", "", ""),  # the only gmail.com customer
]


class Clock:
    """The simulator's clock (what is visible when), moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now.timestamp()


def ago(**delta: float) -> float:
    return (NOW - timedelta(**delta)).timestamp()


def seed(scenario: MailgunScenario) -> None:
    """One of each: what the first poll must store, as key -> (customer, match) in EXPECTED."""
    scenario.add_event("failed", "Jane@ACME.example", ago(hours=2), severity="permanent", reason="bounce")
    scenario.add_event("failed", "bob@globex.example", ago(hours=3), severity="permanent", reason="generic")
    scenario.add_event("complained", "carl@acme.example", ago(hours=4))
    scenario.add_event("unsubscribed", "stranger@gmail.com", ago(hours=5))
    scenario.add_event("failed", "someone@initech.example", ago(hours=6), severity="permanent")
    scenario.add_event(
        "failed", "old@globex.example", ago(hours=7), severity="permanent", reason="suppress-bounce"
    )
    scenario.add_event("failed", "jane@acme.example", ago(hours=3), severity="temporary")
    scenario.add_event("delivered", "jane@acme.example", ago(hours=3))
    created = datetime.fromtimestamp(ago(hours=2) + 1, UTC)
    scenario.add_bounce("jane@acme.example", created_at=created)
    scenario.add_bounce("bob@globex.example", error="5.1.1 No such user", created_at=created)
    scenario.add_complaint("carl@acme.example", created_at=created)
    scenario.add_unsubscribe("stranger@gmail.com", created_at=created)


EXPECTED = {
    f"bounce:jane@acme.example:{DAY}": ("48213", "email"),  # events + list, wrong case: once
    f"bounce:bob@globex.example:{DAY}": ("48214", "email"),  # generic failure, but on the list
    f"complaint:carl@acme.example:{DAY}": ("48213", "domain"),  # acme.example: one customer
    f"unsubscribe:stranger@gmail.com:{DAY}": (None, None),  # gmail.com: never a domain match
    f"bounce:someone@initech.example:{DAY}": (None, None),  # initech.example: two customers
    f"bounce:old@globex.example:{DAY}": ("48214", "domain"),  # suppress-bounce
}


def mailgun_config(base_url: str, domain: str = DOMAIN, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [mailgun]
        base_url = "{base_url}"
        domain = "{domain}"
        """
    ) + textwrap.dedent(extra)


def import_customers(db_path: Path, customers: list[Customer] = CUSTOMERS) -> None:
    save_customers_at(db_path, customers, NOW)


@pytest.fixture(name="scenario")
def scenario_fixture() -> MailgunScenario:
    scenario = MailgunScenario(sender_domain=DOMAIN)
    seed(scenario)
    return scenario


@pytest.fixture(name="clock")
def clock_fixture() -> Clock:
    return Clock(NOW)


@pytest.fixture(name="mailgun")
def mailgun_fixture(scenario: MailgunScenario, clock: Clock) -> Iterator[MailgunServer]:
    with start_mailgun(scenario, api_key=KEY, domain=DOMAIN, clock=clock) as server:
        yield server


@pytest.fixture(name="config")
def config_fixture(write_config: Any, mailgun: MailgunServer, request: pytest.FixtureRequest) -> Path:
    """A test marked `events_api` reads the deprecated Events API; the rest the Logs API."""
    extra = 'events_api = "events"\n' if request.node.get_closest_marker("events_api") else ""
    path: Path = write_config(mailgun_config(mailgun.base_url, extra=extra))
    import_customers(path.parent / "monitor.db")
    return path


def app_for(config_path: Path, key: str = KEY) -> AppContext:
    return AppContext(config_path=config_path, _secrets=Secrets(mailgun_key=Secret(key)))


def fast_client(app: AppContext, key: str = KEY, **kwargs: Any) -> HttpClient:
    settings = app.settings().mailgun
    assert settings is not None
    return mailgun_client(settings, key, policy=kwargs.pop("policy", FAST), **kwargs)


def stored(db_path: Path, where: str = "1") -> dict[str, dict[str, Any]]:
    """Stored Mailgun signals by key, with their link (customer_id, match) if any."""
    db = open_db(db_path)
    rows = db.query(
        "SELECT s.*, l.customer_id, l.match FROM signals s LEFT JOIN links l ON l.signal_id = s.id"
        f" WHERE s.source = 'mailgun' AND {where}"
    )
    out = {row["key"]: row for row in rows}
    db.close()
    return out


def suppressions(db_path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    db = open_db(db_path)
    out = {(row["list"], row["address_norm"]): row for row in db.query("SELECT * FROM suppressions")}
    db.close()
    return out


def paths(server: MailgunServer) -> list[str]:
    return [request.path for request in server.requests]

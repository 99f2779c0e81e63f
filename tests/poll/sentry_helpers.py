"""Fixtures for the Sentry source tests: a seeded simulator over loopback, a config pointing
at it, and a fast retry policy. Imported by the test_sentry_* modules."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.config.context import AppContext
from monitor.core.models import Customer
from monitor.poll.sentry import sentry_client
from monitor.simulators.base import SimulatorServer
from monitor.simulators.sentry import SentryScenario, start_sentry
from monitor.sources.http import HttpClient, RetryPolicy
from monitor.store import open_db
from tests.store_helpers import save_customers_at

TOKEN = "sntryu_test_token_0123456789"
FORBIDDEN = "sntryu_forbidden_token_9876543"
ORG, PROJECT = "gitlab", "customersgitlabcom"
PROJECT_ID = "4502071"  # what Sentry knows the project by; the config names it by slug
NOW = datetime.now(UTC).replace(microsecond=0)
FAST = RetryPolicy(backoff_base=0.01, backoff_cap=0.05, max_wait=600.0, timeout=5.0)

CUSTOMERS = [
    Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme"),
    Customer("48214", "bob@globex.example", "Bob", "Smith", "Globex"),
    Customer("48215", "li@initech.example", "", "", "Initech"),
]


def event_id(n: int) -> str:
    return f"{n:032x}"


@dataclass(frozen=True)
class Expect:
    """What the scenario says one event must become."""

    category: str
    customer: str | None  # linked customer id, None: unlinked
    match: str | None


# The seeded scenario: issue id -> (title, culprit, exception type, transaction tag).
ISSUES = {
    "101": ("Zuora::Error: Postal code is invalid", "SubscriptionsController#create", "Zuora::Error",
            "SubscriptionsController#create"),
    "102": ("Cannot create subscription: the subscription has expired", "Subscriptions::CreateService",
            "Subscriptions::ExpiredError", "SubscriptionsController#create"),
    "103": ("NoMethodError: undefined method `plan_id' for nil", "CheckoutController#show", "NoMethodError",
            "CheckoutController#show"),
    "104": ('ActionController::RoutingError: No route matches [GET] "/subscriptions/wp-login.php"', None,
            "ActionController::RoutingError", None),
    "105": ("<script>alert('x')</script> Your card was declined.", "PaymentsController#create",
            "Stripe::CardError", "PaymentsController#create"),
}  # fmt: skip

# event number -> (issue, user, minutes before NOW, what it must become)
EVENTS: dict[int, tuple[str, dict[str, Any] | None, int, Expect]] = {
    1: ("101", {"id": "48213", "email": "other@acme.example", "name": "J"}, 50,
        Expect("address_or_card", "48213", "customer_id")),
    2: ("101", {"id": 99001, "email": "new@newco.example", "name": "New Buyer"}, 45,
        Expect("address_or_card", "99001", "customer_id")),
    3: ("102", {"email": "BOB@Globex.example", "id": None}, 40,
        Expect("expired_subscription", "48214", "email")),
    4: ("103", None, 35, Expect("other_purchase_error", None, None)),
    5: ("104", {"id": "48213"}, 30, Expect("not_purchase", "48213", "customer_id")),
    6: ("105", {"username": "li", "email": "li@initech.example"}, 25,
        Expect("address_or_card", "48215", "email")),
    7: ("103", {"email": "stranger@gmail.com"}, 20, Expect("other_purchase_error", None, None)),
}  # fmt: skip


def seed(scenario: SentryScenario) -> None:
    for issue_id, (title, culprit, exc_type, _transaction) in ISSUES.items():
        scenario.add_issue(issue_id, title, culprit, exc_type, title.partition(": ")[2] or title)
    for number, (issue_id, user, minutes, _expect) in EVENTS.items():
        transaction = ISSUES[issue_id][3]
        scenario.add_event(
            issue_id,
            event_id(number),
            NOW - timedelta(minutes=minutes),
            user=user,
            tags={"transaction": transaction} if transaction else None,
        )


def sentry_config(base_url: str, organization: str = ORG, extra: str = "") -> str:
    return textwrap.dedent(
        f"""
        [sentry]
        base_url = "{base_url}"
        organization = "{organization}"
        project = "{PROJECT}"
        """
    ) + textwrap.dedent(extra)


def import_customers(db_path: Path, customers: list[Customer] = CUSTOMERS) -> None:
    save_customers_at(db_path, customers, NOW)


@pytest.fixture(name="scenario")
def scenario_fixture() -> SentryScenario:
    scenario = SentryScenario()
    seed(scenario)
    return scenario


@pytest.fixture(name="sentry")
def sentry_fixture(scenario: SentryScenario) -> Iterator[SimulatorServer]:
    with start_sentry(
        scenario,
        token=TOKEN,
        forbidden_token=FORBIDDEN,
        organization=ORG,
        project=PROJECT,
        project_id=PROJECT_ID,
    ) as server:
        yield server


@pytest.fixture(name="config")
def config_fixture(write_config: Any, sentry: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    path: Path = write_config(sentry_config(sentry.base_url))
    import_customers(path.parent / "monitor.db")
    return path


def app_for(config_path: Path) -> AppContext:
    return AppContext(config_path=config_path)


def fast_client(app: AppContext, **kwargs: Any) -> HttpClient:
    settings = app.settings().sentry
    assert settings is not None
    return sentry_client(settings, TOKEN, policy=kwargs.pop("policy", FAST), **kwargs)


def poll_cli(config_path: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config_path), "poll", "sentry", *args])


def stored(db_path: Path) -> dict[str, dict[str, Any]]:
    """Stored Sentry signals by key, with their link (customer_id, match) if any."""
    db = open_db(db_path)
    rows = db.query(
        "SELECT s.*, l.customer_id, l.match FROM signals s LEFT JOIN links l ON l.signal_id = s.id"
        " WHERE s.source = 'sentry'"
    )
    out = {row["key"]: row for row in rows}
    db.close()
    return out

"""`monitor lookup QUERY`: found the way the portal's admin search finds customers."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.signals import save_signals
from tests.store_helpers import save_customers

NOW = datetime.now(UTC).replace(microsecond=0)
EXTRA = """
[sentry]
base_url = "https://sentry.io"
organization = "gitlab"
project = "customersgitlabcom"

[mailgun]
domain = "mg.customers.example"
"""
CUSTOMERS = [
    Customer("48213", "Jane@Acme.example", "Jane", "Doe", "Acme"),
    Customer("48214", "bob@acme.example", "Bob", "Smith", "Acme"),
    Customer("48215", "lena@globex.example", "Lena", "Müller", "Globex"),
]


def _sentry(key: str, hours: float, **fields: object) -> Signal:
    values: dict[str, object] = {
        "source": "sentry",
        "key": key,
        "category": "address_or_card",
        "occurred_at": NOW - timedelta(hours=hours),
        "title": "Zuora::Error: Postal code is invalid",
        "group": "4101",
        "url": f"https://sentry.io/organizations/gitlab/issues/4101/events/{key}/",
        "action": "Check the address",
    }
    values.update(fields)
    return Signal(**values)  # type: ignore[arg-type]


def _bounce(key: str, email: str, hours: float) -> Signal:
    return Signal(source="mailgun", key=key, category="bounce", occurred_at=NOW - timedelta(hours=hours),
                  title="550 5.1.1 mailbox unavailable", group=f"{email}:bounce", email=email)  # fmt: skip


@pytest.fixture
def config(write_config) -> Path:  # type: ignore[no-untyped-def]
    path: Path = write_config(EXTRA)
    db = open_db(path.parent / "monitor.db")
    save_customers(db, CUSTOMERS, NOW)
    signals = [
        _sentry("e1", 30, customer_ref="48213"),
        _sentry("e2", 2, customer_ref="48213", title="<b>Card</b> declined", category="address_or_card"),
        _sentry("e3", 24 * 40, customer_ref="48213"),  # older than 30 days
        _bounce("m1", "jane@acme.example", 5),
        _bounce("m2", "former.colleague@acme.example", 6),  # acme.example is two customers': unlinked
        _sentry("e4", 3, email="LENA@globex.example", category="expired_subscription"),
    ]
    save_signals(db, signals, now=NOW)
    db.close()
    return path


def _lookup(config: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "lookup", *args])


def _found(config: Path, query: str, *args: str) -> dict[str, object]:
    result = _lookup(config, query, "--json", *args)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.stdout)
    return document


def _ids(document: dict[str, object]) -> list[str]:
    return [c["customer_id"] for c in document["customers"]]  # type: ignore[attr-defined,index]


def test_a_customer_id_finds_the_customer_with_signals_newest_first_and_links(config: Path) -> None:
    result = _lookup(config, "48213")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "Customer 48213: Jane Doe <Jane@Acme.example>, Acme (found by customer_id)" in text
    assert "https://customers.gitlab.com/admin/customer/48213" in text
    assert "https://sentry.io/organizations/gitlab/issues/?query=user.id%3A48213" in text
    assert text.index("<b>Card</b> declined") < text.index("Postal code is invalid")
    assert "https://sentry.io/organizations/gitlab/issues/4101/events/e2/" in text
    assert "[customer_id]" in text and "[email]" in text  # how each signal was linked


def test_a_mailgun_signal_links_to_the_recipients_mailgun_logs(config: Path) -> None:
    text = _lookup(config, "48213").stdout
    assert "mailgun  bounce" in text
    assert (
        "https://app.mailgun.com/app/sending/domains/mg.customers.example/logs?search=jane%40acme.example"
        in text
    )


def test_an_email_matches_in_any_case(config: Path) -> None:
    assert _ids(_found(config, "JANE@acme.EXAMPLE")) == ["48213"]


@pytest.mark.parametrize("query", ["acme.example", "@acme.example", "ACME.example"])
def test_a_domain_finds_every_customer_there_and_unlinked_signals_from_it(config: Path, query: str) -> None:
    document = _found(config, query)
    assert _ids(document) == ["48213", "48214"]
    unlinked = document["unlinked"]
    assert [s["email"] for s in unlinked] == ["former.colleague@acme.example"]  # type: ignore[attr-defined,index]


NAMES = [("doe", ["48213"]), ("Jane Doe", ["48213"]), ("MÜLLER", ["48215"]), ("e", ["48213", "48215"])]


@pytest.mark.parametrize(("query", "expected"), NAMES)
def test_a_name_matches_part_of_the_first_last_or_full_name_in_any_case(
    config: Path, query: str, expected: list[str]
) -> None:
    assert _ids(_found(config, query)) == expected


def test_a_signal_linked_by_email_shows_under_its_customer(config: Path) -> None:
    document = _found(config, "lena")
    customer = document["customers"][0]  # type: ignore[index]
    assert [(s["category"], s["match"]) for s in customer["signals"]] == [("expired_subscription", "email")]


def test_days_limits_the_signals_shown(config: Path) -> None:
    recent = _found(config, "48213", "--days", "1")["customers"][0]  # type: ignore[index]
    assert [s["key"] for s in recent["signals"]] == ["e2", "m1"]
    wide = _found(config, "48213", "--days", "60")["customers"][0]  # type: ignore[index]
    assert [s["key"] for s in wide["signals"]] == ["e2", "m1", "e1", "e3"]


def test_an_address_known_only_from_an_unlinked_signal_is_found(config: Path) -> None:
    result = _lookup(config, "Former.Colleague@acme.example")
    assert result.exit_code == 0
    assert "Linked to no customer" in result.stdout and "550 5.1.1 mailbox unavailable" in result.stdout


def test_json_output_is_one_stable_document(config: Path) -> None:
    document = _found(config, "48213")
    assert set(document) == {"query", "days", "since", "customers", "more_customers", "unlinked"}
    customer = document["customers"][0]  # type: ignore[index]
    assert customer["admin_url"] == "https://customers.gitlab.com/admin/customer/48213"
    assert customer["sentry_search_url"].endswith("query=user.id%3A48213")
    signal = customer["signals"][0]
    assert signal["title"] == "<b>Card</b> declined"  # JSON carries it verbatim
    assert signal["occurred_at"].endswith("+00:00") and signal["confidence"] == 1.0
    assert set(signal) >= {"source", "category", "occurred_at", "title", "url", "match", "action"}


def test_no_match_is_said_and_exits_0(config: Path) -> None:
    result = _lookup(config, "nobody-here")
    assert result.exit_code == 0
    assert result.stdout.strip() == "No customer or signal matches nobody-here."


def test_an_empty_query_is_bad_usage(config: Path) -> None:
    result = _lookup(config, "  ")
    assert result.exit_code == 2
    assert "customer ID" in result.stderr

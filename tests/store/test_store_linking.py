"""Linking in SQL: customer ID first, then the exact address, then (weakly) a company domain
that exactly one customer has; never a public mail provider's domain."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlite_utils import Database

from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.customer_import import import_customers
from monitor.store.customers import get_customer
from monitor.store.signals import save_signals
from tests.store_helpers import save_customers

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


@pytest.fixture
def db(tmp_path: Path) -> Database:
    return open_db(tmp_path / "monitor.db")


def _import(db: Database, *customers: Customer) -> None:
    save_customers(db, customers, NOW)


def _signal(key: str, *, ref: str | None = None, email: str | None = None, name: str | None = None) -> Signal:
    return Signal(
        source="mailgun" if ref is None else "sentry",
        key=key,
        category="bounce" if ref is None else "address_or_card",
        occurred_at=NOW,
        title="550 5.1.1 mailbox unavailable",
        group=key,
        customer_ref=ref,
        email=email,
        name=name,
    )


def _links(db: Database) -> dict[str, tuple[str, str, float]]:
    """signal key -> (customer id, match, confidence)."""
    rows = db.execute(
        "SELECT s.key, l.customer_id, l.match, l.confidence FROM links l JOIN signals s ON s.id = l.signal_id"
    )
    return {key: (customer, match, confidence) for key, customer, match, confidence in rows}


def test_a_customer_id_links_even_when_the_customer_was_never_imported(db: Database) -> None:
    save_signals(db, [_signal("e1", ref="48213", email="Jane@Acme.example", name="Jane Doe")], now=NOW)

    assert _links(db) == {"e1": ("48213", "customer_id", 1.0)}
    customer = get_customer(db, "48213")
    assert customer is not None
    assert customer["origin"] == "seen"
    assert (customer["email"], customer["email_norm"]) == ("Jane@Acme.example", "jane@acme.example")
    assert (customer["first_name"], customer["last_name"]) == ("Jane", "Doe")


def test_what_a_signal_says_never_overwrites_an_imported_customer(db: Database) -> None:
    _import(db, Customer("7", "jane@acme.example", "Jane", "Doe", "Acme"))

    save_signals(db, [_signal("e1", ref="7", email="someone@else.example", name="Some One")], now=NOW)

    customer = get_customer(db, "7")
    assert customer is not None
    assert (customer["origin"], customer["email"], customer["first_name"], customer["company"]) == (
        "import",
        "jane@acme.example",
        "Jane",
        "Acme",
    )
    assert _links(db)["e1"][:2] == ("7", "customer_id")


def test_an_email_matches_case_insensitively(db: Database) -> None:
    _import(db, Customer("7", "Jane.Doe@Acme.example", "Jane", "Doe"))

    save_signals(db, [_signal("b1", email="  JANE.DOE@acme.EXAMPLE ")], now=NOW)

    assert _links(db) == {"b1": ("7", "email", 0.9)}


def test_a_company_domain_links_weakly_to_its_only_customer(db: Database) -> None:
    _import(db, Customer("7", "jane@initech.example", "Jane", "Doe"))

    save_signals(db, [_signal("b1", email="bob@initech.example")], now=NOW)

    assert _links(db) == {"b1": ("7", "domain", 0.4)}


def test_a_domain_two_customers_share_links_nobody(db: Database) -> None:
    _import(db, Customer("7", "jane@initech.example"), Customer("8", "milton@initech.example"))

    save_signals(db, [_signal("b1", email="bob@initech.example")], now=NOW)

    assert _links(db) == {}


@pytest.mark.parametrize("domain", ["gmail.com", "GMAIL.com", "outlook.com"])
def test_a_public_mail_domain_never_links(db: Database, domain: str) -> None:
    _import(db, Customer("7", f"jane@{domain}"))

    save_signals(db, [_signal("b1", email=f"bob@{domain}")], now=NOW)

    assert _links(db) == {}


def test_a_configured_public_domain_never_links(db: Database) -> None:
    _import(db, Customer("7", "jane@mail.example"))

    save_signals(
        db, [_signal("b1", email="bob@mail.example")], now=NOW, extra_public_domains=["Mail.example"]
    )

    assert _links(db) == {}


def test_importing_a_second_customer_of_the_domain_removes_the_weak_link(
    db: Database, tmp_path: Path
) -> None:
    _import(db, Customer("7", "jane@initech.example"))
    save_signals(
        db, [_signal("b1", email="bob@initech.example"), _signal("b2", email="jane@initech.example")], now=NOW
    )
    assert _links(db)["b1"] == ("7", "domain", 0.4)
    second = tmp_path / "more.csv"
    second.write_text("id,email,first_name,last_name\n8,milton@initech.example,Milton,Waddams\n")

    import_customers(db, second, NOW)

    assert _links(db) == {"b2": ("7", "email", 0.9)}  # the exact address still links


def test_importing_the_exact_address_upgrades_a_weak_link(db: Database, tmp_path: Path) -> None:
    _import(db, Customer("7", "jane@initech.example"))
    save_signals(db, [_signal("b1", email="bob@initech.example")], now=NOW)
    more = tmp_path / "more.csv"
    more.write_text("id,email,first_name,last_name\n9,Bob@Initech.example,Bob,Slydell\n")

    import_customers(db, more, NOW)

    assert _links(db) == {"b1": ("9", "email", 0.9)}


def test_a_repeated_signal_is_stored_and_linked_once(db: Database) -> None:
    _import(db, Customer("7", "jane@acme.example"))
    page = [_signal("b1", email="jane@acme.example")]

    first = save_signals(db, page, now=NOW)
    again = save_signals(db, page, now=NOW)

    assert (first.new, first.linked) == (1, 1)
    assert (again.new, again.linked) == (0, 0)
    assert db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] == 1

"""`monitor suppressions remove` against the Mailgun simulator: shows, asks, removes, records."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.simulators.mailgun import MailgunScenario, MailgunServer, start_mailgun
from monitor.store import open_db
from tests.poll.mailgun_helpers import DOMAIN, KEY, import_customers, mailgun_config

SINCE = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)


@pytest.fixture(name="scenario")
def scenario_fixture() -> MailgunScenario:
    scenario = MailgunScenario(sender_domain=DOMAIN)
    scenario.add_bounce("jane@acme.example", error="5.1.1 mailbox unavailable", created_at=SINCE)
    scenario.add_complaint("jane@acme.example", created_at=SINCE)
    scenario.add_bounce("jane+billing@acme.example", created_at=SINCE)
    scenario.add_unsubscribe("bob@globex.example", tags=["*"], created_at=SINCE)
    return scenario


@pytest.fixture(name="server")
def server_fixture(scenario: MailgunScenario) -> Iterator[MailgunServer]:
    with start_mailgun(scenario, api_key=KEY, domain=DOMAIN) as server:
        yield server


@pytest.fixture(name="config")
def config_fixture(
    write_config: Callable[[str], Path], server: MailgunServer, monkeypatch: pytest.MonkeyPatch
) -> Path:
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    path = write_config(mailgun_config(server.base_url))
    import_customers(path.parent / "monitor.db")
    return path


def remove(config: Path, *args: str, answer: str | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "suppressions", "remove", *args], input=answer)


def deletes(server: MailgunServer) -> list[str]:
    return [r.path for r in server.requests if r.method == "DELETE"]


def removals(config: Path) -> list[dict[str, object]]:
    return list(open_db(config.parent / "monitor.db").query("SELECT * FROM suppression_removals ORDER BY id"))


def test_the_dry_run_shows_each_list_with_its_date_and_reason_and_removes_nothing(
    config: Path, server: MailgunServer, scenario: MailgunScenario
) -> None:
    result = remove(config, "jane@acme.example", "--dry-run")
    assert result.exit_code == 0, result.output
    assert f"jane@acme.example is on these suppression lists of {DOMAIN}:" in result.output
    assert "bounces: since 2026-11-02 09:30 UTC: 550 5.1.1 mailbox unavailable" in result.output
    assert (
        "complaints: since 2026-11-02 09:30 UTC: Spam complaint; remove it only with the customer's consent"
        in result.output
    )
    assert "nothing was removed" in result.output
    assert deletes(server) == []
    assert scenario.addresses("bounces") == ["jane+billing@acme.example", "jane@acme.example"]


def test_answering_no_removes_nothing(config: Path, server: MailgunServer) -> None:
    result = remove(config, "jane@acme.example", answer="n\n")
    assert result.exit_code == 0
    assert "Remove jane@acme.example from the bounces and complaints list(s)? [y/N]" in result.output
    assert "Nothing was removed." in result.output
    assert deletes(server) == []
    assert removals(config) == []


def test_answering_yes_removes_from_every_list_and_records_each_removal(
    config: Path, server: MailgunServer, scenario: MailgunScenario
) -> None:
    poll = CliRunner().invoke(main, ["--config", str(config), "poll", "mailgun"])  # lists on record
    assert poll.exit_code == 0, poll.stderr
    result = remove(config, "Jane@Acme.example", answer="y\n")
    assert result.exit_code == 0, result.output
    removed = f"Removed Jane@Acme.example from the bounces list of {DOMAIN}"
    assert f"{removed} (Mailgun: Bounced address has been removed)." in result.output
    assert "from the complaints list" in result.output
    assert "jane@acme.example" not in scenario.addresses("bounces") + scenario.addresses("complaints")
    recorded = removals(config)
    assert [(r["list"], r["address"]) for r in recorded] == [
        ("bounces", "Jane@Acme.example"),
        ("complaints", "Jane@Acme.example"),
    ]
    assert all(str(r["removed_by"]).startswith("monitor suppressions remove, run by ") for r in recorded)
    rows = open_db(config.parent / "monitor.db").query(
        "SELECT list, removed_at FROM suppressions WHERE address_norm = 'jane@acme.example'"
    )
    assert all(row["removed_at"] for row in rows)


def test_yes_removes_without_asking_and_list_limits_it_to_one_list(
    config: Path, scenario: MailgunScenario
) -> None:
    result = remove(config, "jane@acme.example", "--list", "bounces", "--yes")
    assert result.exit_code == 0, result.output
    assert "[y/N]" not in result.output
    assert "jane@acme.example" not in scenario.addresses("bounces")
    assert scenario.addresses("complaints") == ["jane@acme.example"]


def test_an_address_with_a_plus_is_escaped_in_the_path(config: Path, scenario: MailgunScenario) -> None:
    result = remove(config, "jane+billing@acme.example", "--yes")
    assert result.exit_code == 0, result.output
    assert scenario.addresses("bounces") == ["jane@acme.example"]


def test_an_unsubscribe_shows_it_was_the_customers_choice(config: Path) -> None:
    result = remove(config, "bob@globex.example", "--dry-run")
    assert (
        "unsubscribes: since 2026-11-02 09:30 UTC: Unsubscribed (all mail); the customer's own choice"
        in result.output
    )


def test_an_address_on_no_list_has_nothing_to_remove(config: Path, server: MailgunServer) -> None:
    result = remove(config, "nobody@acme.example")
    assert result.exit_code == 0
    assert "nobody@acme.example is on none of the lists (bounces, complaints, unsubscribes)" in result.output
    assert deletes(server) == []


def test_mailgun_refusing_exits_1_with_a_sentence(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MAILGUN_API_KEY", "key-wrong")
    result = remove(config, "jane@acme.example", "--yes")
    assert result.exit_code == 1
    assert "check MAILGUN_API_KEY" in result.stderr
    assert removals(config) == []


def test_something_that_is_not_an_address_is_bad_usage(config: Path) -> None:
    assert remove(config, "jane").exit_code == 2

"""`monitor classify`: one error through the rules, stored signals re-read and re-filed, and
operator rules that cannot work refused by check-config."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import time_machine
from click.testing import CliRunner

from monitor.cli import main
from monitor.config.settings import SentrySettings
from monitor.core.classify import ErrorText, classify
from monitor.core.models import Signal
from monitor.sources.sentry_parse import IssueRef, event_to_signal
from monitor.store import open_db
from monitor.store.signals import save_signals

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)


def invoke(config: Path, *args: str) -> tuple[int, str]:
    with time_machine.travel(NOW, tick=False):
        result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def test_one_error_prints_its_category_rule_and_next_step(write_config: Callable[..., Path]) -> None:
    config = write_config()
    code, output = invoke(
        config, "classify", "--title", "Zuora::APIError: Your card was declined.",
        "--culprit", "SubscriptionsController#create",
    )  # fmt: skip
    assert code == 0, output
    assert "address_or_card" in output and "what: card declined or invalid" in output
    assert "payment method" in output  # the runbook's step

    code, output = invoke(
        config, "classify", "--title", "Zuora::APIError: Your card was declined.",
        "--transaction", "Sidekiq/Zuora::SyncAccountWorker", "--json",
    )  # fmt: skip
    verdict = json.loads(output)
    assert verdict["category"] == "not_purchase" and verdict["reported"] is False
    assert verdict["rule"] == "where: background job, although card declined or invalid"


def test_an_operator_rule_comes_first_and_is_named(write_config: Callable[..., Path]) -> None:
    config = write_config(
        '[[classification.rules]]\nname = "vat"\npattern = "VAT ID"\ncategory = "address_or_card"\n'
    )
    code, output = invoke(config, "classify", "--title", "VAT ID rejected", "--json")
    assert code == 0 and json.loads(output)["rule"] == "vat"


def test_classify_without_a_title_or_stored_is_a_usage_error(write_config: Callable[..., Path]) -> None:
    code, output = invoke(write_config(), "classify")
    assert code == 2 and "--title" in output


def stored_signal(config: Path, category: str) -> None:
    """A signal filed under an older rule set: the card decline as `category`."""
    db = open_db(config.parent / "monitor.db")
    signal = Signal(
        source="sentry",
        key="e" * 32,
        category=category,
        occurred_at=datetime(2026, 11, 23, 10, 0, tzinfo=UTC),
        title="Zuora::APIError: Your card was declined.",
        group="4101",
        customer_ref="48213",
        detail={"culprit": "SubscriptionsController#create", "rule": "an old rule"},
    )
    save_signals(db, [signal], now=NOW - timedelta(hours=20))
    db.close()


def categories_of_the_day(config: Path) -> list[str]:
    code, output = invoke(config, "digest", "--date", DAY.isoformat(), "--format", "json")
    assert code == 0, output
    digest = json.loads(output)
    return [s["category"] for c in digest["customers"] for s in c["signals"]] + [
        s["category"] for s in digest["unlinked"]
    ]


def test_stored_shows_what_would_change_and_apply_refiles_a_regenerated_past_digest(
    write_config: Callable[..., Path],
) -> None:
    config = write_config()
    stored_signal(config, "other_purchase_error")
    assert categories_of_the_day(config) == ["other_purchase_error"]

    code, output = invoke(config, "classify", "--stored", "--days", "7")
    assert code == 0, output
    assert "1 would change" in output and "other_purchase_error -> address_or_card: 1" in output
    assert categories_of_the_day(config) == ["other_purchase_error"]  # nothing written

    code, output = invoke(config, "classify", "--stored", "--days", "7", "--apply", "--json")
    assert json.loads(output)["changed"] == 1
    assert categories_of_the_day(config) == ["address_or_card"]
    code, output = invoke(config, "digest", "--date", DAY.isoformat(), "--format", "json")
    (line,) = [s for c in json.loads(output)["customers"] for s in c["signals"]]
    assert line["rule"] == "what: card declined or invalid"


def test_check_config_names_a_broken_rule_and_its_line(write_config: Callable[..., Path]) -> None:
    config = write_config(
        '[[classification.rules]]\nname = "broken"\npattern = "(unclosed"\ncategory = "address_or_card"\n'
        '[[classification.rules]]\npattern = "x"\ncategory = "bogus"\nfields = ["stacktrace"]\n'
    )
    code, output = invoke(config, "check-config")
    assert code == 2
    lines = config.read_text().splitlines()
    first = lines.index("[[classification.rules]]") + 1
    assert f"rule 'broken', line {first}" in output and "not a regular expression" in output
    assert "'bogus'" in output and "stacktrace" in output and "rule 2, line" in output


def test_a_pathological_pattern_on_a_huge_message_does_not_hang_the_classification() -> None:
    """The built-in patterns see at most MAX_TEXT characters of each text."""
    huge = "a" * 200_000 + "!"
    started = time.process_time()
    verdict = classify(ErrorText(title=huge, message="address " * 20_000, culprit="CheckoutController#show"))
    assert verdict.category == "other_purchase_error"
    assert time.process_time() - started < 60  # a hang guard, not a speed target


def test_a_rule_that_repeats_a_repeating_group_is_refused(write_config: Callable[..., Path]) -> None:
    config = write_config('[[classification.rules]]\npattern = "(a+)+$"\ncategory = "not_purchase"\n')
    code, output = invoke(config, "check-config")
    assert code == 2 and "repeats a group that repeats itself" in output


def test_a_rule_naming_an_unknown_field_with_a_line_break_is_reported_on_one_line(
    write_config: Callable[..., Path],
) -> None:
    config = write_config(
        '[[classification.rules]]\npattern = "x"\ncategory = "not_purchase"\n'
        'fields = ["a@b\\nBcc: x@y.example"]\n'
    )
    code, output = invoke(config, "check-config")
    assert code == 2
    problem = [line for line in output.splitlines() if "fields" in line]
    assert len(problem) == 1 and "\\nBcc" in problem[0]  # the line break shown, not made
    assert not any(line.startswith("Bcc:") for line in output.splitlines())


def test_stored_decides_on_the_texts_the_poll_decided_on(write_config: Callable[..., Path]) -> None:
    """An event whose title says little: the message and the exception value carry the
    decline. Re-read from the store, it gets the poll's verdict, not another."""
    config = write_config()
    sentry = SentrySettings(base_url="https://sentry.io", organization="gitlab", project="customersgitlabcom")
    event = {
        "eventID": "f" * 32,
        "title": "Zuora::APIError",
        "message": "Payment declined: do not honor",
        "dateCreated": "2026-11-23T10:00:00Z",
        "culprit": "SubscriptionsController#create",
        "metadata": {"type": "Zuora::APIError", "value": "Your card was declined."},
        "user": {"id": "48213"},
    }
    signal = event_to_signal(event, IssueRef(id="4102", title="Zuora::APIError"), sentry)
    assert signal.category == "address_or_card"
    db = open_db(config.parent / "monitor.db")
    save_signals(db, [signal], now=NOW - timedelta(hours=20))
    db.close()

    code, output = invoke(config, "classify", "--stored", "--days", "7", "--json")
    assert code == 0, output
    assert json.loads(output)["changed"] == 0

"""The pure half of the Mailgun source: wire records in, signals out."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.config.settings import LinksSettings, MailgunSettings
from monitor.core.timeutil import to_db
from monitor.sources.mailgun_client import events_params, explain_for
from monitor.sources.mailgun_entries import entry_to_signal, parse_entry
from monitor.sources.mailgun_parse import event_to_signal, parse_events, poll_window

MAILGUN = MailgunSettings(domain="customers.example.com")
LOGS = LinksSettings().mailgun_logs
WHEN = datetime(2026, 11, 23, 9, 12, 5, tzinfo=UTC)


def failed(recipient: str = "jane@acme.example", reason: str = "bounce", **extra: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event": "failed",
        "id": "pl271FzxTTmGRW8Uj3dUWw",
        "timestamp": WHEN.timestamp() + 0.818328,
        "severity": "permanent",
        "reason": reason,
        "recipient": recipient,
        "delivery-status": {"code": 550, "message": "5.1.1 mailbox unavailable", "description": ""},
        "tags": ["password-reset"],
    }
    event.update(extra)
    return event


def signal_of(event: dict[str, Any], bounced: set[str] | None = None) -> Any:
    return event_to_signal(event, MAILGUN, LOGS, bounced or set())


@pytest.mark.parametrize(
    ("event", "category"),
    [
        (failed(reason="bounce"), "bounce"),
        (failed(reason="suppress-bounce"), "bounce"),
        (failed(reason="suppress-complaint"), "complaint"),
        (failed(reason="suppress-unsubscribe"), "unsubscribe"),
        (failed(reason="generic"), "failed_delivery"),
        (failed(reason="greylisted-something-new"), "failed_delivery"),
        ({"event": "complained", "timestamp": 1377214260.04, "recipient": "a@b.example"}, "complaint"),
        ({"event": "unsubscribed", "timestamp": 1377213791.42, "recipient": "a@b.example"}, "unsubscribe"),
    ],
)
def test_each_reported_event_gets_its_category(event: dict[str, Any], category: str) -> None:
    assert signal_of(event).category == category


def test_a_permanent_failure_to_an_address_on_the_bounce_list_is_a_bounce() -> None:
    signal = signal_of(failed("Jane@ACME.example", reason="generic"), bounced={"jane@acme.example"})
    assert signal.category == "bounce"


@pytest.mark.parametrize(
    "event",
    [
        failed(severity="temporary"),
        {"event": "delivered", "timestamp": 1529692199.6, "recipient": "a@b.example"},
        {"event": "opened", "timestamp": 1529692199.6, "recipient": "a@b.example"},
    ],
)
def test_temporary_failures_and_other_events_are_not_reported(event: dict[str, Any]) -> None:
    assert signal_of(event) is None


def test_one_signal_per_address_category_and_utc_day_whatever_the_case() -> None:
    morning = signal_of(failed("Jane@Acme.Example", id="a"))
    evening = signal_of(failed("jane@acme.example", id="b", timestamp=WHEN.timestamp() + 3600 * 10))
    next_day = signal_of(failed("jane@acme.example", timestamp=WHEN.timestamp() + 86400))
    assert morning.key == evening.key == "bounce:jane@acme.example:2026-11-23"
    assert next_day.key != morning.key
    assert morning.group == "bounce:jane@acme.example"
    assert morning.email == "Jane@Acme.Example"  # as given; matching lower-cases it


def test_the_event_and_the_list_entry_of_one_bounce_share_a_key() -> None:
    event = signal_of(failed("jane@acme.example"))
    entry = parse_entry(
        "bounces",
        {"address": "Jane@acme.example", "code": "550", "error": "5.1.1 mailbox unavailable",
         "created_at": "Mon, 23 Nov 2026 09:12:06 UTC"},
    )  # fmt: skip
    assert entry_to_signal(entry, MAILGUN, LOGS).key == event.key


def test_a_failure_title_is_the_code_and_the_servers_message() -> None:
    assert signal_of(failed()).title == "550 5.1.1 mailbox unavailable"
    as_text = failed(**{"delivery-status": {"code": "550", "message": "", "description": "No such user"}})
    assert signal_of(as_text).title == "550 No such user"
    assert (
        signal_of(failed(reason="generic", **{"delivery-status": None})).title
        == "Permanent failure (generic)"
    )


def test_a_signal_carries_the_logs_link_the_action_and_small_raw_facts() -> None:
    signal = signal_of(failed("jane+billing@acme.example"))
    assert signal.url == (
        "https://app.mailgun.com/app/sending/domains/customers.example.com/logs?search=jane%2Bbilling%40acme.example"
    )
    assert "monitor suppressions remove jane+billing@acme.example" in signal.action
    assert signal.detail["event_id"] == "pl271FzxTTmGRW8Uj3dUWw"
    assert signal.detail["code"] == "550"
    assert signal.detail["reason"] == "bounce"
    assert signal.detail["tags"] == ["password-reset"]


def test_an_epoch_sent_as_text_is_read_too() -> None:
    assert signal_of(failed(timestamp=str(WHEN.timestamp()))).occurred_at == WHEN


def test_unreadable_records_are_skipped_with_a_reason_never_raised() -> None:
    items: list[Any] = [
        failed(),
        failed(recipient=""),
        failed(timestamp=None),
        failed(timestamp="yesterday"),
        "not an object",
        failed(severity="temporary"),
    ]
    parsed = parse_events(items, MAILGUN, LOGS, set())
    assert len(parsed.signals) == 1
    assert parsed.ignored == 1
    assert len(parsed.skipped) == 4
    assert any("no recipient" in reason for reason in parsed.skipped)


@pytest.mark.parametrize(
    "created_at",
    [
        "Mon, 23 Nov 2026 09:12:05 UTC",
        "Mon, 23 Nov 2026 09:12:05 GMT",
        "Mon, 23 Nov 2026 09:12:05 +0000",
        "Mon, 23 Nov 2026 09:12:05 -0000",
        "Mon, 23 Nov 2026 10:12:05 +0100",
    ],
)
def test_list_dates_in_every_rfc_2822_flavour_mean_the_same_moment(created_at: str) -> None:
    entry = parse_entry("complaints", {"address": "a@b.example", "created_at": created_at})
    assert entry.created_at == WHEN
    assert entry.created_at.tzinfo is not None


@pytest.mark.parametrize(
    ("item", "title"),
    [
        ({"tags": ["*"]}, "Unsubscribed (all mail)"),
        ({"tags": "*"}, "Unsubscribed (all mail)"),
        ({"tag": "*"}, "Unsubscribed (all mail)"),
        ({}, "Unsubscribed (all mail)"),
        ({"tags": ["newsletter", "promo"]}, "Unsubscribed from newsletter, promo"),
    ],
)
def test_unsubscribe_tags_are_read_as_a_list_a_string_or_the_legacy_tag(
    item: dict[str, Any], title: str
) -> None:
    entry = parse_entry(
        "unsubscribes", {"address": "a@b.example", "created_at": "Mon, 23 Nov 2026 09:12:05 UTC", **item}
    )
    assert entry_to_signal(entry, MAILGUN, LOGS).title == title


def test_a_bounce_code_may_be_a_number_or_text() -> None:
    for code in (550, "550"):
        entry = parse_entry(
            "bounces",
            {
                "address": "a@b.example",
                "code": code,
                "error": "No such user",
                "created_at": "Mon, 23 Nov 2026 09:12:05 UTC",
            },
        )
        assert entry_to_signal(entry, MAILGUN, LOGS).title == "550 No such user"


@pytest.mark.parametrize(
    "item",
    [
        {"created_at": "Mon, 23 Nov 2026 09:12:05 UTC"},
        {"address": "a@b.example"},
        {"address": "a@b.example", "created_at": "soon"},
        [],
    ],
)
def test_a_list_entry_without_address_or_date_cannot_be_read(item: Any) -> None:
    with pytest.raises(ValueError):
        parse_entry("bounces", item)


def test_the_first_window_reaches_back_the_lookback_and_stops_short_of_the_trust_threshold() -> None:
    now = datetime(2026, 11, 23, 12, 0, 30, 123456, tzinfo=UTC)
    begin, end = poll_window(None, now, MAILGUN)
    assert begin == datetime(2026, 11, 16, 12, 0, 30, tzinfo=UTC)
    assert end == datetime(2026, 11, 23, 11, 30, 30, tzinfo=UTC)


def test_a_later_window_starts_an_overlap_before_the_cursor() -> None:
    now = datetime(2026, 11, 23, 12, 15, tzinfo=UTC)
    cursor = to_db(datetime(2026, 11, 23, 11, 30, tzinfo=UTC))
    begin, end = poll_window(cursor, now, MAILGUN)
    assert begin == datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
    assert end == now - timedelta(minutes=30)
    params = events_params(begin, end)
    assert params["event"] == "failed OR complained OR unsubscribed"
    assert params["ascending"] == "yes"
    assert params["limit"] == "300"
    assert params["begin"] == str(int(begin.timestamp()))


def test_a_401_names_the_key_and_the_region() -> None:
    sentence = explain_for(MAILGUN)(401, "Forbidden")
    assert "MAILGUN_API_KEY" in sentence
    assert "https://api.eu.mailgun.net" in sentence


def test_a_domain_not_found_names_the_domain_and_the_region() -> None:
    sentence = explain_for(MAILGUN)(404, '{"message": "Domain not found: customers.example.com"}')
    assert "customers.example.com" in sentence
    assert "https://api.mailgun.net" in sentence
    assert "region" in sentence


def test_other_errors_quote_mailguns_message() -> None:
    assert "Invalid private key" in explain_for(MAILGUN)(403, '{"message": "Invalid private key"}')

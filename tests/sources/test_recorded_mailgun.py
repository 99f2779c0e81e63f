"""The Mailgun parsers on answers recorded from the real API (the SDKs' VCR cassettes, 2016 to
2026) and on event payloads of real webhooks (Events API items): every body parses, and those
that are troubles give the right signal. Bodies and provenance: tests/fixtures/recorded/mailgun/."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.config.settings import MailgunSettings
from monitor.sources.mailgun_client import error_message
from monitor.sources.mailgun_entries import entry_title, entry_to_signal, parse_entry
from monitor.sources.mailgun_parse import event_to_signal, parse_events
from tests.paths import TESTS

RECORDED = TESTS / "fixtures" / "recorded" / "mailgun"
MAILGUN = MailgunSettings(domain="DOMAIN.TEST")
LOGS = "https://app.mailgun.com/app/logs?search={email}"
LIST_PAGES = {
    "mg-bounces-2016-page": "bounces",
    "mg-bounces-2016b-page": "bounces",
    "mg-bounces-2025-page": "bounces",
    "mg-bounces-2026-empty": "bounces",
    "mg-complaints-2025-page": "complaints",
    "mg-complaints-2026-page": "complaints",
    "mg-unsubscribes-2016-page": "unsubscribes",
    "mg-unsubscribes-2026-page": "unsubscribes",
}
SINGLE_ENTRIES = {
    "mg-bounce-2025-single-nodomain": "bounces",
    "mg-bounce-2026-single": "bounces",
    "mg-complaint-2025-single-nodomain": "complaints",
}
EVENT_PAGES = [
    "mg-events-2016-limit1-accepted",
    "mg-events-2025-empty",
    "mg-events-2025-limit1-rejected",
    "mg-events-2025-page1",
    "mg-events-2025-page2-empty",
    "mg-logs-2025",
]
WEBHOOKS = {  # event payload -> the category it must become (None: not reported)
    "mg-webhook-anymail-complained": "complaint",
    "mg-webhook-anymail-delivered": None,
    "mg-webhook-anymail-failed-greylisted": None,
    "mg-webhook-anymail-failed-permanent": "bounce",
    "mg-webhook-anymail-failed-temporary": None,
    "mg-webhook-anymail-rejected": None,
    "mg-webhook-anymail-unsubscribed": "unsubscribe",
    "mg-webhook-gitlab-suppress-bounce": "bounce",
}


def body(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.body").read_text())


def test_every_recorded_mailgun_body_is_one_of_the_kinds_tested_here() -> None:
    names = {path.name.removesuffix(".body") for path in RECORDED.glob("*.body")}
    assert names == {*LIST_PAGES, *SINGLE_ENTRIES, *EVENT_PAGES, *WEBHOOKS, "mg-401-forbidden"}


@pytest.mark.parametrize("name", sorted(LIST_PAGES))
def test_every_recorded_list_entry_parses_into_a_signal_of_its_list(name: str) -> None:
    page = body(name)
    for item in page["items"]:
        entry = parse_entry(LIST_PAGES[name], item)
        signal = entry_to_signal(entry, MAILGUN, LOGS)
        assert signal.category == {"bounces": "bounce", "complaints": "complaint"}.get(
            LIST_PAGES[name], "unsubscribe"
        )
        assert signal.email == item["address"]


@pytest.mark.parametrize("name", sorted(SINGLE_ENTRIES))
def test_a_recorded_single_entry_parses_and_an_address_without_a_domain_is_kept_as_invalid(name: str) -> None:
    item = body(name)
    entry = parse_entry(SINGLE_ENTRIES[name], item)
    signal = entry_to_signal(entry, MAILGUN, LOGS)
    assert signal.email == item["address"]
    if item["address"].endswith("@"):
        assert entry.detail["invalid_address"] is True
        assert "Invalid address" in entry_title(entry)


@pytest.mark.parametrize("name", EVENT_PAGES)
def test_every_recorded_events_page_parses_and_reports_no_delivery_or_rejection(name: str) -> None:
    parsed = parse_events(body(name)["items"], MAILGUN, LOGS, set())
    assert parsed.signals == [] and parsed.skipped == []


@pytest.mark.parametrize("name", sorted(WEBHOOKS))
def test_every_recorded_event_payload_gives_its_category(name: str) -> None:
    payload = body(name)
    event = payload.get("event-data", payload)
    signal = event_to_signal(event, MAILGUN, LOGS, set())
    assert (signal.category if signal else None) == WEBHOOKS[name]
    if signal is not None:
        assert signal.email == event["recipient"] and signal.occurred_at.timestamp() == pytest.approx(
            event["timestamp"]
        )


def test_the_recorded_plain_text_401_reads_as_its_text() -> None:
    assert error_message((RECORDED / "mg-401-forbidden.body").read_text()) == "Forbidden"

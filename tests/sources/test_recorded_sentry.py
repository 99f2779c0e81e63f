"""The Sentry parsers on answers recorded from real servers (sentry.io, Sentry's docs generator,
sentry-cli's fixtures, GlitchTip): every body parses, and every event becomes a signal with a
time of its own. The bodies and their provenance are in tests/fixtures/recorded/sentry/."""

from __future__ import annotations

import json
from typing import Any

import pytest

from monitor.config.settings import SentrySettings
from monitor.sources.sentry_parse import IssueRef, event_to_signal, issue_ref
from tests.paths import TESTS

RECORDED = TESTS / "fixtures" / "recorded" / "sentry"
SETTINGS = SentrySettings(organization="gitlab", project="customersgitlabcom")
ISSUE_LISTS = ["sentry-docs-issues-index", "sentrycli-get-issues", "sentryio-issues-captured"]
EVENT_LISTS = [
    "sentry-docs-issue1-events",
    "sentry-docs-project-events",
    "sentrycli-list-events",
    "sentryio-issue-events-captured",
]
SINGLE_EVENTS = ["glitchtip-event-no-entries", "sentrycli-latest-event"]


def body(name: str) -> Any:
    return json.loads((RECORDED / f"{name}.body").read_text())


def test_every_recorded_sentry_body_is_one_of_the_kinds_tested_here() -> None:
    names = {path.name.removesuffix(".body") for path in RECORDED.glob("*.body")}
    assert names == {*ISSUE_LISTS, *EVENT_LISTS, *SINGLE_EVENTS, "sentrycli-get-issue"}
    for name in names:
        assert json.loads((RECORDED / f"{name}.meta.json").read_text())  # provenance kept


@pytest.mark.parametrize("name", ISSUE_LISTS)
def test_every_recorded_issue_parses_with_its_id_last_seen_and_count(name: str) -> None:
    items = body(name)
    assert items
    for item in items:
        issue = issue_ref(item)
        assert issue.id == str(item["id"]) and issue.title == item["title"]
        assert issue.last_seen is not None and issue.last_seen.tzinfo is not None
        lifetime = item.get("lifetime") or {}
        count = lifetime.get("count", item.get("count"))
        assert issue.event_count == (int(count) if count is not None else None)


def test_a_single_recorded_issue_parses() -> None:
    issue = issue_ref(body("sentrycli-get-issue"))
    assert issue.id and issue.last_seen is not None


@pytest.mark.parametrize("name", EVENT_LISTS)
def test_every_recorded_event_becomes_a_signal_dated_by_itself(name: str) -> None:
    events = body(name)
    assert events
    for event in events:
        signal = event_to_signal(event, IssueRef(id=str(event.get("groupID") or "1")), SETTINGS)
        assert signal.key == event["eventID"]
        assert signal.detail.get("dated_by") is None  # each carries its own time
        assert signal.occurred_at.isoformat()[:19] == event["dateCreated"][:19]
        user_id = (event.get("user") or {}).get("id")
        assert signal.customer_ref == (str(user_id) if user_id not in (None, "") else None)


@pytest.mark.parametrize("name", SINGLE_EVENTS)
def test_a_recorded_single_event_is_dated_by_its_creation_or_reception(name: str) -> None:
    event = body(name)
    signal = event_to_signal(event, IssueRef(id="396"), SETTINGS)
    expected = event.get("dateCreated") or event["dateReceived"]
    assert signal.occurred_at.isoformat()[:19] == expected[:19]
    assert signal.detail.get("dated_by") is None


def test_the_recorded_bodies_are_the_vendors_not_ours() -> None:
    """Guards against a fixture being regenerated from the simulator: provenance names an
    upstream repository or service for every body."""
    for meta in RECORDED.glob("*.meta.json"):
        provenance = json.loads(meta.read_text())["provenance"]
        assert provenance.get("repo") or provenance.get("url"), meta.name

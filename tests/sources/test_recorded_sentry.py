"""The Sentry parsers on answers recorded from real servers (sentry.io, Sentry's docs generator,
sentry-cli's fixtures, GlitchTip): every body parses, and every event becomes a signal with a
time of its own. The bodies and their provenance are in tests/fixtures/recorded/sentry/."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from monitor.config.settings import SentrySettings
from monitor.core.timeutil import parse_iso
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
# Sentry's names and the snake_case ones compatible servers send (GlitchTip's serializers).
SNAKE = {
    "eventID": "event_id",
    "dateCreated": "date_created",
    "dateReceived": "date_received",
    "groupID": "group_id",
    "projectID": "project_id",
    "crashFile": "crash_file",
    "lastSeen": "last_seen",
    "firstSeen": "first_seen",
    "shortId": "short_id",
    "userCount": "user_count",
}


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
        assert signal.occurred_at == parse_iso(event["dateCreated"])  # to the microsecond
        user = event.get("user") or {}
        assert signal.customer_ref == (str(user["id"]) if user.get("id") not in (None, "") else None)
        assert signal.email == (user.get("email") or None)
        assert signal.name == (user.get("name") or None)  # never the username


@pytest.mark.parametrize("name", EVENT_LISTS)
def test_a_recorded_event_list_in_snake_case_gives_the_same_signals(name: str) -> None:
    """Compatible servers send `event_id`, `date_created`, `group_id`...: the same events."""
    for event in body(name):
        issue = IssueRef(id=str(event.get("groupID") or "1"))
        snake = {SNAKE.get(key, key): value for key, value in event.items()}
        assert event_to_signal(snake, issue, SETTINGS) == event_to_signal(event, issue, SETTINGS)


@pytest.mark.parametrize("name", ISSUE_LISTS)
def test_a_recorded_issue_list_in_snake_case_gives_the_same_issues(name: str) -> None:
    for item in body(name):
        snake = {SNAKE.get(key, key): value for key, value in item.items()}
        assert issue_ref(snake) == issue_ref(item)


def test_a_username_is_never_taken_for_the_name_in_recorded_events() -> None:
    """Sentry's docs generator: one user has only `username: "user"`, one has a name too."""
    events = {
        e["eventID"]: event_to_signal(e, IssueRef(id="1"), SETTINGS)
        for e in body("sentry-docs-project-events")
    }
    assert events["05def49953dc42c18ac1e93e5bf6b9f0"].name is None  # username 'user', name null
    assert events["8e8379fcff434080b488b56cc4832ced"].name == "Sentry"  # username 'sentry'


def test_recorded_timestamps_with_and_without_fractions_keep_their_exact_instant() -> None:
    with_fraction = issue_ref(body("sentryio-issues-captured")[0])
    without = issue_ref(body("sentry-docs-issues-index")[0])
    assert with_fraction.last_seen == datetime(2019, 12, 31, 19, 34, 22, 397462, tzinfo=UTC)
    assert without.last_seen == datetime(2018, 11, 6, 21, 19, 56, tzinfo=UTC)


def test_recorded_numeric_issue_ids_become_the_same_strings_sentry_io_sends() -> None:
    ids = [issue_ref(item).id for item in body("sentryio-issues-captured")]
    assert ids == ["1412895512", "1412895399", "1412894944", "1412894240"]


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

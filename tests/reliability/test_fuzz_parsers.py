"""Both sources' parsers, fuzzed with arbitrary JSON shapes and values: each record becomes a
Signal that can be stored, or a skip that is counted; the only exception that may leave them is
SourceError, which ends a poll with a sentence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlite_utils import Database

from monitor.config.settings import MailgunSettings, SentrySettings
from monitor.core.errors import SourceError
from monitor.core.models import REPORTED_CATEGORIES, Signal
from monitor.poll.sentry import PollStats, _signals
from monitor.sources import mailgun_client, mailgun_entries, mailgun_parse, sentry_errors, sentry_parse
from monitor.sources.http_parts import Page, parse_link_header
from monitor.store import open_db
from monitor.store.signals import save_signals

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
SENTRY = SentrySettings(base_url="https://sentry.io", organization="gitlab", project="customersgitlabcom")
MAILGUN = MailgunSettings(domain="mg.example.com")
LOGS = "https://app.mailgun.com/app/sending/domains/{domain}/logs?search={email}"
CATEGORIES = {*REPORTED_CATEGORIES, "not_purchase"}

ANY_JSON = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(max_size=30),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=15,
)
TIMES = st.one_of(
    st.sampled_from(
        [
            "2026-11-23T09:12:00Z",
            "2026-11-23T09:12:00.123456Z",
            "2026-11-23T09:12:00",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2026-02-30T00:00:00Z",
            "yesterday",
            "",
            "2026-11-23T09:12:00+14:00",
        ]
    ),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
    ANY_JSON,
)
TEXTS = st.one_of(
    st.text(max_size=60),
    st.sampled_from(
        [
            "<script>alert(1)</script>",
            '"><img src=x onerror=alert(1)>',
            "a\r\nBcc: x@evil.example",
            "x" * 10_000,
            "javascript:alert(1)",
            "\x00",
            "Zuora::Error: Postal code is invalid",
        ]
    ),
    ANY_JSON,
)
SENTRY_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "eventID": st.one_of(st.text(min_size=1, max_size=32), ANY_JSON),
        "id": ANY_JSON,
        "title": TEXTS,
        "message": TEXTS,
        "culprit": TEXTS,
        "dateCreated": TIMES,
        "dateReceived": TIMES,
        "metadata": st.one_of(st.fixed_dictionaries({}, optional={"type": TEXTS, "value": TEXTS}), ANY_JSON),
        "user": st.one_of(
            st.fixed_dictionaries(
                {}, optional={"id": ANY_JSON, "email": TEXTS, "name": TEXTS, "username": TEXTS}
            ),
            ANY_JSON,
        ),
        "tags": st.one_of(
            st.lists(st.one_of(st.fixed_dictionaries({"key": TEXTS, "value": TEXTS}), ANY_JSON), max_size=4),
            st.dictionaries(st.text(max_size=10), TEXTS, max_size=3),
            ANY_JSON,
        ),
    },
)
SENTRY_ISSUE = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(min_size=1, max_size=12), st.integers(), ANY_JSON),
        "shortId": TEXTS,
        "title": TEXTS,
        "culprit": TEXTS,
        "permalink": st.one_of(st.just("https://sentry.io/organizations/gitlab/issues/1/"), TEXTS),
        "level": TEXTS,
        "lastSeen": TIMES,
        "lifetime": st.one_of(
            st.fixed_dictionaries({"count": st.one_of(st.text(max_size=5), ANY_JSON)}), ANY_JSON
        ),
        "metadata": st.one_of(st.fixed_dictionaries({}, optional={"type": TEXTS, "value": TEXTS}), ANY_JSON),
    },
)
EPOCHS = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(),
    st.sampled_from([1795400000.123, "1795400000.5", "now", -1, 1e20, 253402300800]),
    ANY_JSON,
)
MAILGUN_EVENT = st.fixed_dictionaries(
    {},
    optional={
        "event": st.one_of(
            st.sampled_from(["failed", "complained", "unsubscribed", "delivered", "FAILED"]), ANY_JSON
        ),
        "severity": st.one_of(st.sampled_from(["permanent", "temporary", "Permanent"]), ANY_JSON),
        "reason": st.one_of(
            st.sampled_from(["bounce", "suppress-bounce", "suppress-complaint", "generic", "old", ""]),
            ANY_JSON,
        ),
        "recipient": st.one_of(st.emails(), TEXTS),
        "timestamp": EPOCHS,
        "id": ANY_JSON,
        "delivery-status": st.one_of(
            st.fixed_dictionaries({}, optional={"code": ANY_JSON, "message": TEXTS, "description": TEXTS}),
            ANY_JSON,
        ),
        "tags": ANY_JSON,
        "tag": ANY_JSON,
    },
)
LIST_ENTRY = st.fixed_dictionaries(
    {},
    optional={
        "address": st.one_of(st.emails(), TEXTS),
        "created_at": st.one_of(
            st.sampled_from(["Tue, 24 Nov 2026 07:00:00 UTC", "Mon, 31 Feb 2026 07:00:00 UTC", "", "0"]),
            TEXTS,
        ),
        "code": ANY_JSON,
        "error": TEXTS,
        "tags": ANY_JSON,
    },
)


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Database]:
    database = open_db(tmp_path_factory.mktemp("parsers") / "monitor.db")
    yield database
    database.close()


def _storable(db: Database, signals: list[Signal]) -> None:
    """A parsed signal is fit to store: a known category, an aware time, SQLite takes it, and
    storing the same records again adds nothing."""
    for signal in signals:
        assert signal.category in CATEGORIES and signal.key and signal.occurred_at.tzinfo is not None
    save_signals(db, signals, now=NOW)
    assert save_signals(db, signals, now=NOW).new == 0


def _issue(item: Any) -> sentry_parse.IssueRef:
    try:
        return sentry_parse.issue_ref(item)
    except SourceError:
        return sentry_parse.IssueRef(id="1")


@FUZZ
@given(item=st.one_of(SENTRY_ISSUE, ANY_JSON))
def test_a_sentry_issue_of_any_shape_is_read_or_refused_with_a_source_error(item: Any) -> None:
    try:
        issue = sentry_parse.issue_ref(item)
    except SourceError as err:
        assert str(err).endswith(".")
        return
    assert issue.id
    sentry_parse.needs_events(issue, None)
    sentry_parse.needs_events(issue, (NOW, 3))


@FUZZ
@given(
    issue=st.one_of(SENTRY_ISSUE, ANY_JSON), events=st.lists(st.one_of(SENTRY_EVENT, ANY_JSON), max_size=6)
)
@example(
    issue={"id": "1"}, events=[{"eventID": "a", "dateCreated": "0001-01-01T00:00:00Z", "user": {"id": 1e308}}]
)
@example(
    issue={"id": "1", "lastSeen": "9999-12-31T23:59:59Z"}, events=[{"eventID": "b", "dateCreated": None}]
)
def test_every_sentry_event_of_any_shape_becomes_a_storable_signal_or_a_counted_skip(
    db: Database, issue: Any, events: list[Any]
) -> None:
    stats = PollStats(window=(NOW, NOW))
    signals = _signals(events, _issue(issue), SENTRY, (), stats)
    assert len(signals) + stats.skipped == len(events)
    _storable(db, signals)


@FUZZ
@given(
    link=st.one_of(st.text(max_size=80), st.none()),
    rows=st.integers(min_value=0, max_value=150),
)
@example(
    link='<https://sentry.io/api/0/x/?cursor=1:100:0>; rel="next"; results="true"; cursor="1:100:0"', rows=100
)
@example(link='<, >; rel="next"; results="true"; cursor=""', rows=100)
def test_any_link_header_gives_the_next_request_none_or_a_source_error(link: str | None, rows: int) -> None:
    links = parse_link_header(link)
    page = Page(
        url="https://sentry.io/api/0/organizations/gitlab/issues/",
        status=200,
        headers={},
        data=[],
        links=links,
    )
    try:
        sentry_parse.next_request(page, (page.url, {"limit": 100}), rows, SENTRY.base_url)
    except SourceError as err:
        assert "Link header" in str(err)


@FUZZ
@given(
    items=st.lists(st.one_of(MAILGUN_EVENT, ANY_JSON), max_size=8), bounced=st.sets(st.emails(), max_size=2)
)
@example(
    items=[{"event": "failed", "severity": "permanent", "recipient": "a@b.example", "timestamp": 1e20}],
    bounced=set(),
)
@example(items=[{"event": "complained", "recipient": "a@b.example", "timestamp": "nan"}], bounced=set())
def test_every_mailgun_event_of_any_shape_becomes_a_storable_signal_an_ignore_or_a_counted_skip(
    db: Database, items: list[Any], bounced: set[str]
) -> None:
    parsed = mailgun_parse.parse_events(items, MAILGUN, LOGS, bounced)
    assert len(parsed.signals) + parsed.ignored + len(parsed.skipped) == len(items)
    assert all(isinstance(reason, str) and reason for reason in parsed.skipped)
    _storable(db, parsed.signals)


@FUZZ
@given(name=st.sampled_from(mailgun_parse.LISTS), items=st.lists(st.one_of(LIST_ENTRY, ANY_JSON), max_size=6))
def test_every_suppression_entry_of_any_shape_becomes_a_storable_signal_or_a_counted_skip(
    db: Database, name: str, items: list[Any]
) -> None:
    signals, skipped = [], 0
    for item in items:
        try:
            entry = mailgun_entries.parse_entry(name, item)
        except ValueError:
            skipped += 1
            continue
        signals.append(mailgun_entries.entry_to_signal(entry, MAILGUN, LOGS))
    assert len(signals) + skipped == len(items)
    _storable(db, signals)


@FUZZ
@given(data=ANY_JSON)
@example(data={"items": [], "paging": {"next": 5}})
@example(data={"items": [{}], "paging": None})
def test_a_mailgun_page_of_any_shape_is_read_or_refused_with_a_source_error(data: Any) -> None:
    page = Page(url="https://api.mailgun.net/v3/mg.example.com/events", status=200, headers={}, data=data)
    try:
        items, following = mailgun_client._items_and_next(page)
    except SourceError as err:
        assert "items list" in str(err)
        return
    assert isinstance(items, list) and (following is None or isinstance(following, str))


@FUZZ
@given(
    body=st.one_of(st.text(max_size=200), ANY_JSON.map(str)),
    status=st.sampled_from([400, 401, 403, 404, 413, 500]),
)
def test_every_refusal_body_becomes_one_sentence_for_either_source(body: str, status: int) -> None:
    for explain in (mailgun_client.explain_for(MAILGUN), sentry_errors.explain_for(SENTRY)):
        sentence = explain(status, body)
        assert isinstance(sentence, str) and sentence and len(sentence) < 600

"""The Sentry source's pure half: wire objects to Signals, windows, paging decisions, sentences."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.config.settings import SentrySettings
from monitor.core.errors import SourceError
from monitor.sources.http_parts import Page, parse_link_header
from monitor.sources.sentry_errors import explain_for
from monitor.sources.sentry_parse import (
    IssueRef,
    event_to_signal,
    events_request,
    issue_ref,
    issues_request,
    needs_events,
    next_request,
    poll_window,
    tags_of,
)

SETTINGS = SentrySettings(base_url="https://sentry.io", organization="gitlab", project="customersgitlabcom")
NOW = datetime(2026, 11, 24, 8, 0, 0, 123456, tzinfo=UTC)
ISSUE = IssueRef(
    id="4101",
    short_id="CUSTOMERSGITLABCOM-1",
    title="Zuora::Error: Postal code is invalid",
    culprit="SubscriptionsController#create",
    exception_type="Zuora::Error",
    permalink="https://sentry.io/organizations/gitlab/issues/4101/",
    level="error",
    last_seen=NOW,
)


def _event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "id": "a" * 32,
        "eventID": "a" * 32,
        "groupID": "4101",
        "title": "Zuora::Error: Postal code is invalid",
        "message": "",
        "culprit": "SubscriptionsController#create",
        "dateCreated": "2026-11-23T09:12:00Z",
        "user": {"id": "48213", "email": "Jane@Acme.example", "username": None, "name": "Jane Doe"},
        "tags": [{"key": "environment", "value": "production"}, {"key": "transaction", "value": "X#y"}],
        "metadata": {"type": "Zuora::Error", "value": "Postal code is invalid"},
    }
    event.update(overrides)
    return event


def test_an_event_becomes_a_classified_signal_naming_its_customer() -> None:
    signal = event_to_signal(_event(), ISSUE, SETTINGS)
    assert (signal.source, signal.key, signal.group) == ("sentry", "a" * 32, "4101")
    assert signal.category == "address_or_card"
    assert (signal.customer_ref, signal.email, signal.name) == ("48213", "Jane@Acme.example", "Jane Doe")
    assert signal.occurred_at == datetime(2026, 11, 23, 9, 12, tzinfo=UTC)
    assert signal.url == f"https://sentry.io/organizations/gitlab/issues/4101/events/{'a' * 32}/"
    assert "postal code" in signal.action
    assert signal.detail["transaction"] == "X#y" and signal.detail["environment"] == "production"


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (None, (None, None, None)),
        ({}, (None, None, None)),
        ({"id": None, "email": "x@y.example"}, (None, "x@y.example", None)),
        ({"id": 17, "username": "jdoe"}, ("17", None, None)),  # a handle is not a name
        ({"id": "  ", "email": "", "name": "N"}, (None, None, "N")),
    ],
)
def test_a_null_or_partial_user_gives_what_it_has(user: Any, expected: tuple[Any, ...]) -> None:
    signal = event_to_signal(_event(user=user), ISSUE, SETTINGS)
    assert (signal.customer_ref, signal.email, signal.name) == expected


def test_old_servers_dict_tags_are_read_like_the_list_form() -> None:
    assert tags_of({"tags": {"transaction": "OrdersController#create", "level": "error"}}) == {
        "transaction": "OrdersController#create",
        "level": "error",
    }
    assert tags_of({"tags": [["level", "fatal"]]}) == {"level": "fatal"}
    assert tags_of({"tags": None}) == {}


def test_the_transaction_tag_alone_can_place_an_error_in_the_purchase_flow() -> None:
    event = _event(
        title="NoMethodError: undefined method `id' for nil",
        metadata={"type": "NoMethodError"},
        culprit="app/models/thing.rb",
        tags=[{"key": "transaction", "value": "OrdersController#create"}],
    )
    issue = IssueRef(id="9", title="NoMethodError")
    assert event_to_signal(event, issue, SETTINGS).category == "other_purchase_error"


def test_html_in_titles_is_stored_verbatim() -> None:
    title = '<img src=x onerror="alert(1)">Your card was declined.'
    assert event_to_signal(_event(title=title), ISSUE, SETTINGS).title == title


def test_timestamps_parse_with_and_without_fractions() -> None:
    with_fraction = event_to_signal(_event(dateCreated="2020-06-17T22:26:56.098086Z"), ISSUE, SETTINGS)
    assert with_fraction.occurred_at == datetime(2020, 6, 17, 22, 26, 56, 98086, tzinfo=UTC)


def test_the_permalink_is_built_from_base_url_when_the_issue_has_none() -> None:
    issue = IssueRef(id="77")
    signal = event_to_signal(_event(), issue, SETTINGS)
    assert signal.url == f"https://sentry.io/organizations/gitlab/issues/77/events/{'a' * 32}/"


def test_the_other_purchase_error_action_names_the_customer_search() -> None:
    event = _event(title="Checkout failed", metadata={}, user={"id": "555"})
    signal = event_to_signal(event, IssueRef(id="1", title="Checkout failed"), SETTINGS)
    assert signal.category == "other_purchase_error"
    assert "user.id:555" in signal.action


def test_an_issue_list_item_keeps_ids_as_strings_and_reads_the_lifetime_count() -> None:
    item = {"id": "1", "shortId": "P-1", "title": "t", "lastSeen": "2018-12-06T21:19:55Z",
            "lifetime": {"count": "150"}, "metadata": {"type": "E", "value": "v"}}  # fmt: skip
    ref = issue_ref(item)
    assert (ref.id, ref.event_count, ref.exception_type) == ("1", 150, "E")
    with pytest.raises(SourceError):
        issue_ref({"title": "no id"})


def test_an_issue_is_read_when_new_seen_again_or_its_count_changed() -> None:
    seen = IssueRef(id="1", last_seen=NOW, event_count=5)
    assert needs_events(seen, None)
    assert needs_events(seen, (NOW - timedelta(seconds=1), 5))
    assert needs_events(seen, (NOW, 4))  # a late event: same lastSeen, one more event
    assert not needs_events(seen, (NOW, 5))
    assert not needs_events(IssueRef(id="1", last_seen=NOW), (NOW, 5))


def test_the_first_window_reaches_back_lookback_days_and_later_ones_overlap() -> None:
    start, end = poll_window(None, NOW, SETTINGS)
    assert end == NOW.replace(microsecond=0)
    assert end - start == timedelta(days=7)
    start, end = poll_window("2026-11-24T07:50:00+00:00", NOW, SETTINGS)
    assert start == datetime(2026, 11, 24, 6, 50, tzinfo=UTC)


def test_a_cursor_ahead_of_the_clock_still_reads_the_overlap() -> None:
    start, end = poll_window("2026-11-25T00:00:00+00:00", NOW, SETTINGS)
    assert start < end and end - start == timedelta(minutes=60)


def test_an_old_cursor_is_clamped_to_sentrys_retention() -> None:
    start, end = poll_window("2025-01-01T00:00:00+00:00", NOW, SETTINGS)
    assert end - start == timedelta(days=90)


def test_requests_ask_for_every_status_of_one_project_in_the_window() -> None:
    start, end = poll_window(None, NOW, SETTINGS)
    url, params = issues_request(SETTINGS, "4502071", start, end)
    assert url == "https://sentry.io/api/0/organizations/gitlab/issues/"
    assert params is not None
    assert params["query"] == "" and params["limit"] == 100 and params["project"] == "4502071"
    # Neither sort nor start/end: compatible servers refuse the one and misapply the others.
    assert not {"sort", "start", "end", "statsPeriod", "environment"} & set(params)
    _, long_window = issues_request(SETTINGS, "4502071", start - timedelta(days=30), end)
    assert long_window is not None and long_window["statsPeriod"] == "90d"
    with_env = SentrySettings(
        base_url="https://de.sentry.io", organization="o", project="p", environment="prod"
    )
    url, params = events_request(with_env, "42", start, end)
    assert url == "https://de.sentry.io/api/0/issues/42/events/"
    assert params is not None and params["environment"] == "prod" and params["per_page"] == 100


def _page(link: str | None, url: str = "https://sentry.io/api/0/x/") -> Page:
    return Page(url=url, status=200, headers={}, data=[], links=parse_link_header(link))


def test_the_next_page_url_is_followed_as_given_even_with_commas() -> None:
    url = "https://sentry.io/api/0/organizations/gitlab/issues/?query=release:[a,b]&cursor=1420837533:0:0"
    link = (
        "<https://sentry.io/api/0/organizations/gitlab/issues/?query=release:[a,b]&cursor=1:0:1>; "
        'rel="previous"; results="false"; cursor="1:0:1", '
        f'<{url}>; rel="next"; results="true"; cursor="1420837533:0:0"'
    )
    assert next_request(_page(link), ("u", {}), 100, "https://sentry.io") == (url, None)


def test_results_false_ends_the_list_and_another_host_gets_only_the_cursor() -> None:
    done = '<https://sentry.io/a/?&cursor=0:100:0>; rel="next"; results="false"; cursor="0:100:0"'
    assert next_request(_page(done), ("u", {}), 100, "https://sentry.io") is None
    elsewhere = '<http://internal:9000/a/?&cursor=0:100:0>; rel="next"; results="true"; cursor="0:100:0"'
    request = ("https://sentry.io/a/", {"per_page": 100})
    assert next_request(_page(elsewhere), request, 100, "https://sentry.io") == (
        "https://sentry.io/a/",
        {"per_page": 100, "cursor": "0:100:0"},
    )


def test_a_full_page_without_a_link_header_is_an_error_and_a_short_one_is_the_end() -> None:
    with pytest.raises(SourceError, match="Link header"):
        next_request(_page(None), ("u", {}), 100, "https://sentry.io")
    assert next_request(_page(None), ("u", {}), 12, "https://sentry.io") is None


def test_refusals_are_sentences_that_name_the_fix() -> None:
    explain = explain_for(SETTINGS)
    assert "SENTRY_AUTH_TOKEN" in explain(401, '{"detail": "Invalid token"}')
    assert "event:read" in explain(401, "")
    assert "event:read" in explain(403, "") and "'gitlab'" in explain(403, "")
    text = explain(404, "")
    assert "'gitlab'" in text and "'customersgitlabcom'" in text and "https://sentry.io" in text
    refused = explain(400, '{"detail": "Invalid project parameter. Values must be numbers."}')
    assert refused.startswith("Sentry refused the 'project' parameter (400: Invalid project parameter.")
    assert "not retried" in refused
    assert "'environment'" in explain(422, '{"detail": "Unknown environment: \'prod\'"}')
    assert "a parameter of the request" in explain(400, '{"detail": "Bad request"}')
    assert "organization token" in explain_for(SETTINGS, organization_token=True)(401, "")

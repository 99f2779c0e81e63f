"""The Sentry simulator answers like Sentry: shapes (checked against the spec's schemas),
pagination, date windows, late ingestion, auth errors, rate limits, faults and the request log.

Everything goes over real HTTP on loopback with `requests`, the way the monitor will talk to it.
"""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import requests

from monitor.simulators.base import Fault, SimulatorServer
from monitor.simulators.sentry import SentryScenario, start_sentry

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
TOKEN = "sntryu_good"
ORG = "acme"
PROJECT = "customers"
PROJECT_ID = "4501"
ISSUES = f"/api/0/organizations/{ORG}/issues/"
BIG_ISSUE = "9000"  # the issue with 250 events
RATE_HEADERS = (
    "X-Sentry-Rate-Limit-Limit",
    "X-Sentry-Rate-Limit-Remaining",
    "X-Sentry-Rate-Limit-Reset",
    "X-Sentry-Rate-Limit-ConcurrentLimit",
    "X-Sentry-Rate-Limit-ConcurrentRemaining",
)
# The client-side parser the reference recommends: one regex per entry, never a split on ",".
LINK_ENTRY = re.compile(r'<([^>]*)>;\s*rel="(previous|next)";\s*results="(true|false)";\s*cursor="([^"]*)"')
LINK_TEMPLATE = re.compile(
    r'^<(?P<prev_url>[^>]*)&cursor=(?P<prev>[^>]*)>; rel="previous"; '
    r'results="(true|false)"; cursor="(?P=prev)", '
    r'<(?P<next_url>[^>]*)&cursor=(?P<next>[^>]*)>; rel="next"; results="(true|false)"; cursor="(?P=next)"$'
)
UTC_STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,6})?Z$")
SCHEMA_DIR = Path(__file__).parents[1] / "schemas" / "sentry"
FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_utc_stamp(value: object) -> bool:
    return not isinstance(value, str) or bool(UTC_STAMP.match(value))


def validator(name: str) -> jsonschema.Draft7Validator:
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text())
    return jsonschema.Draft7Validator(schema, format_checker=FORMATS)


class Clock:
    """A settable clock, so windows, visibility and rate-limit windows are deterministic."""

    def __init__(self, moment: datetime = NOW) -> None:
        self.now = moment.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def event_id(n: int) -> str:
    return f"{n:032x}"


def get(server: SimulatorServer, path: str, token: str | None = TOKEN, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=5)


def links(response: requests.Response) -> dict[str, tuple[str, bool, str]]:
    return {rel: (url, results == "true", cursor) for url, rel, results, cursor in LINK_ENTRY.findall(
        response.headers["Link"])}  # fmt: skip


def walk(url: str) -> tuple[list[dict[str, Any]], list[requests.Response]]:
    """Follow `next` links until results="false", as the monitor will."""
    items: list[dict[str, Any]] = []
    pages: list[requests.Response] = []
    while len(pages) < 50:  # a safety cap, as clients should have
        response = requests.get(url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
        response.raise_for_status()
        pages.append(response)
        items.extend(response.json())
        url, more, _ = links(response)["next"]
        if not more:
            break
    return items, pages


def start(scenario: SentryScenario, **kwargs: Any) -> SimulatorServer:
    options: dict[str, Any] = {
        "token": TOKEN,
        "organization": ORG,
        "project": PROJECT,
        "project_id": PROJECT_ID,
    }
    options.setdefault("clock", Clock())
    return start_sentry(scenario, **{**options, **kwargs})


def big_scenario() -> SentryScenario:
    """121 unresolved issues (more than one page), 2 resolved ones; one issue has 250 events."""
    scenario = SentryScenario(project_id=PROJECT_ID)
    for n in range(120):
        issue = str(1000 + n)
        scenario.add_issue(
            issue, f"PurchaseError {n}", "PurchasesController#create", "PurchaseError", f"v{n}"
        )
        # Whole minutes: many issues share a second-level score, which exercises cursor offsets.
        seen = NOW - timedelta(minutes=n // 3)
        scenario.add_event(issue, event_id(n), seen, user={"id": 70_000 + n, "email": f"c{n}@example.com"})
    # The oldest first-seen, but seen again just now: sort=new and sort=date disagree about it.
    scenario.add_event("1000", event_id(999), NOW - timedelta(hours=20), user={"id": 70_000})
    for n in range(2):
        scenario.add_issue(str(2000 + n), f"Fixed {n}", status="resolved")
        scenario.add_event(str(2000 + n), event_id(500 + n), NOW - timedelta(hours=1))
    scenario.add_issue(
        BIG_ISSUE, "Zuora::Error", "Zuora::Client#call", "Zuora::Error", "timeout", level="fatal"
    )
    users: list[dict[str, Any] | None] = [None, {"id": 42}, {"email": "x@example.com", "username": None}]
    for n in range(250):
        moment = NOW - timedelta(hours=2, seconds=n * 30, microseconds=(n % 2) * 250_000)
        scenario.add_event(BIG_ISSUE, event_id(10_000 + n), moment, user=users[n % 3],
                           tags={"transaction": "SubscriptionsController#create"})  # fmt: skip
    return scenario


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    """A shared server over data that no test changes."""
    with start(big_scenario()) as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock()


# ----------------------------------------------------------------------------- shapes


def test_issue_list_items_match_the_spec_schema(server: SimulatorServer) -> None:
    response = get(server, ISSUES, project=PROJECT_ID, statsPeriod="24h", sort="new", limit=100)
    assert response.status_code == 200
    validator("list_organization_issues").validate(response.json())
    first = response.json()[0]
    assert isinstance(first["id"], str) and isinstance(first["count"], str)
    assert isinstance(first["userCount"], int)
    assert first["project"] == {"id": PROJECT_ID, "name": "Customers", "slug": PROJECT, "platform": "ruby"}


def test_issue_detail_matches_the_spec_schema(server: SimulatorServer) -> None:
    response = get(server, f"{ISSUES}{BIG_ISSUE}/")
    assert response.status_code == 200
    validator("get_organization_issue").validate(response.json())
    assert response.json()["count"] == "250" and response.json()["level"] == "fatal"


def test_event_list_items_match_the_spec_schema(server: SimulatorServer) -> None:
    response = get(server, f"{ISSUES}{BIG_ISSUE}/events/", per_page=6)
    validator("list_organization_issue_events").validate(response.json())
    users = [event["user"] for event in response.json()]
    assert None in users and {"id": "42"} in users  # null users, and numeric ids sent as strings
    assert {"email": "x@example.com", "username": None} in users  # keys may be missing or null


def test_full_true_gives_full_events_that_match_the_event_schema(server: SimulatorServer) -> None:
    response = get(server, f"{ISSUES}{BIG_ISSUE}/events/", full="true", per_page=3)
    event_schema = validator("get_organization_issue_event")
    for event in response.json():
        event_schema.validate(event)
        assert event["entries"][0]["type"] == "exception"


@pytest.mark.parametrize(("full", "is_full"), [("1", True), ("true", True), ("True", False), ("yes", False)])
def test_full_is_honoured_only_as_the_literal_1_or_true(
    server: SimulatorServer, full: str, is_full: bool
) -> None:
    event = get(server, f"{ISSUES}{BIG_ISSUE}/events/", full=full, per_page=1).json()[0]
    assert ("entries" in event) is is_full


def test_timestamps_are_utc_with_z_and_a_fraction_only_when_there_is_one(server: SimulatorServer) -> None:
    stamps = [
        event["dateCreated"] for event in get(server, f"{ISSUES}{BIG_ISSUE}/events/", per_page=4).json()
    ]
    assert all(UTC_STAMP.match(stamp) for stamp in stamps)
    assert "2025-01-15T10:00:00Z" in stamps and "2025-01-15T09:59:29.750000Z" in stamps


def test_event_tags_carry_environment_level_the_user_tag_and_caller_tags(server: SimulatorServer) -> None:
    events = get(server, f"{ISSUES}{BIG_ISSUE}/events/", per_page=3).json()
    with_user = next(event for event in events if event["user"] == {"id": "42"})
    assert with_user["tags"] == [
        {"key": "environment", "value": "production"},
        {"key": "level", "value": "fatal"},
        {"key": "transaction", "value": "SubscriptionsController#create"},
        {"key": "user", "value": "id:42"},
    ]
    by_email = next(event for event in events if event["user"] and "email" in event["user"])
    assert {"key": "user", "value": "email:x@example.com"} in by_email["tags"]
    assert with_user["groupID"] == BIG_ISSUE and with_user["projectID"] == PROJECT_ID
    assert with_user["id"] == with_user["eventID"] and len(with_user["eventID"]) == 32


# ----------------------------------------------------------------------------- pagination


def test_paging_through_more_than_100_issues_returns_each_issue_exactly_once(server: SimulatorServer) -> None:
    items, pages = walk(f"{server.base_url}{ISSUES}?project={PROJECT_ID}&statsPeriod=24h&limit=100")
    ids = [item["id"] for item in items]
    assert len(pages) == 2 and len(ids) == 121 and len(set(ids)) == 121
    assert pages[0].headers["X-Hits"] == "121" and pages[0].headers["X-Max-Hits"] == "1000"
    last_seen = [item["lastSeen"] for item in items]
    assert last_seen == sorted(last_seen, reverse=True)  # sort=date: last seen first


def test_paging_through_250_events_returns_each_event_once_newest_first(server: SimulatorServer) -> None:
    items, pages = walk(f"{server.base_url}{ISSUES}{BIG_ISSUE}/events/?statsPeriod=24h")
    assert [len(page.json()) for page in pages] == [100, 100, 50]
    assert [links(page)["next"][2] for page in pages] == ["0:100:0", "0:200:0", "0:300:0"]
    assert [links(page)["next"][1] for page in pages] == [True, True, False]
    assert [item["eventID"] for item in items] == [event_id(10_000 + n) for n in range(250)]
    assert "X-Hits" not in pages[0].headers  # GenericOffsetPaginator counts no hits


def test_every_page_has_previous_and_next_links_in_sentrys_template(server: SimulatorServer) -> None:
    first = get(server, f"{ISSUES}{BIG_ISSUE}/events/")
    match = LINK_TEMPLATE.match(first.headers["Link"])
    assert match, first.headers["Link"]
    assert match["prev_url"] == f"{server.base_url}{ISSUES}{BIG_ISSUE}/events/?"  # "?&cursor=" as Sentry
    assert links(first)["previous"] == (f"{match['prev_url']}&cursor=0:0:1", False, "0:0:1")
    second = requests.get(links(first)["next"][0], headers={"Authorization": f"Bearer {TOKEN}"}, timeout=5)
    assert LINK_TEMPLATE.match(second.headers["Link"])
    assert links(second)["previous"][1:] == (True, "0:0:1")


def test_following_previous_returns_the_page_before(server: SimulatorServer) -> None:
    auth = {"Authorization": f"Bearer {TOKEN}"}
    pages = [get(server, ISSUES, limit=30)]
    for _ in range(2):
        pages.append(requests.get(links(pages[-1])["next"][0], headers=auth, timeout=5))
    for before, after in itertools.pairwise(pages):
        back = requests.get(links(after)["previous"][0], headers=auth, timeout=5)
        assert back.json() == before.json()


def test_link_urls_keep_query_strings_that_contain_commas(server: SimulatorServer) -> None:
    server.clear_log()
    items, pages = walk(f"{server.base_url}{ISSUES}?query=is:unresolved%20release:[a,b]&limit=50")
    sent = server.requests[0].raw_path  # as requests put it on the wire (it escapes the brackets)
    next_url, _, cursor = links(pages[0])["next"]
    assert "release:%5Ba,b%5D" in sent and next_url == f"{server.base_url}{sent}&cursor={cursor}"
    assert len(pages[0].headers["Link"].split(",")) > 2  # why clients must not split the header on ","
    assert len(pages) == 3 and len({item["id"] for item in items}) == 121


def test_issue_cursors_are_opaque_values_that_survive_a_new_issue_between_pages(clock: Clock) -> None:
    scenario = big_scenario()
    with start(scenario, clock=clock) as server:
        first = get(server, ISSUES, limit=40)
        cursor = links(first)["next"][2]
        assert re.fullmatch(r"\d+:\d+:0", cursor) and not cursor.startswith("0:")  # a score, not an offset
        scenario.add_issue("7777", "Brand new")  # lands on top: a value cursor does not shift
        scenario.add_event("7777", event_id(99_999), NOW)
        rest, _ = walk(links(first)["next"][0])
    ids = [item["id"] for item in first.json() + rest]
    assert len(ids) == 121 and len(set(ids)) == 121 and "7777" not in ids


@pytest.mark.parametrize("cursor", ["abc", "1:2", "1:x:0", "1:2:3:4", "0:-100:0"])
@pytest.mark.parametrize("path", [ISSUES, f"{ISSUES}{BIG_ISSUE}/events/"])
def test_a_malformed_cursor_is_answered_with_400(server: SimulatorServer, path: str, cursor: str) -> None:
    response = get(server, path, cursor=cursor)
    assert response.status_code == 400
    assert set(response.json()) == {"detail"}


@pytest.mark.parametrize(("path", "param"), [(ISSUES, "limit"), (f"{ISSUES}{BIG_ISSUE}/events/", "per_page")])
def test_a_page_size_above_100_is_answered_with_400(server: SimulatorServer, path: str, param: str) -> None:
    response = get(server, path, **{param: 101})
    assert response.status_code == 400 and "detail" in response.json()
    assert get(server, path, **{param: 100}).status_code == 200


# ----------------------------------------------------------------------------- filters


def test_stats_period_limits_issues_to_those_with_events_in_the_window(server: SimulatorServer) -> None:
    ids = {issue["id"] for issue in get(server, ISSUES, statsPeriod="10m").json()}
    assert ids == {str(1000 + n) for n in range(33)}  # last seen 0..10 minutes ago
    assert get(server, ISSUES, statsPeriod="1w", query="").headers["X-Hits"] == "123"
    assert get(server, ISSUES, statsPeriod="24x").status_code == 400


def test_start_and_end_take_iso_timestamps_with_or_without_fraction_and_z(server: SimulatorServer) -> None:
    path = f"{ISSUES}{BIG_ISSUE}/events/"
    for start, end in [
        ("2025-01-15T09:59:00", "2025-01-15T10:00:00"),
        ("2025-01-15T09:59:00Z", "2025-01-15T10:00:00.000Z"),
        ("2025-01-15T09:59:00.0000+00:00", "2025-01-15T11:00:00+01:00"),
    ]:
        stamps = [event["dateCreated"] for event in get(server, path, start=start, end=end).json()]
        assert stamps == ["2025-01-15T10:00:00Z", "2025-01-15T09:59:29.750000Z", "2025-01-15T09:59:00Z"]
    assert get(server, path, start="2025-01-15T09:00:00").status_code == 400  # start without end
    assert get(server, path, start="yesterday", end="today").status_code == 400


def test_stats_period_overrides_start_and_end(server: SimulatorServer) -> None:
    response = get(server, ISSUES, statsPeriod="30s", start="2020-01-01T00:00:00", end="2020-01-02T00:00:00")
    assert {issue["id"] for issue in response.json()} == {"1000", "1001", "1002"}


def test_window_counts_are_top_level_and_the_whole_history_is_in_lifetime(server: SimulatorServer) -> None:
    (issue,) = get(server, ISSUES, statsPeriod="3h", query="Zuora").json()  # free text matches the title
    assert issue["count"] == "121" and issue["userCount"] == 2  # events 0..120 are within 3 h
    assert issue["lifetime"]["count"] == "250" and issue["lifetime"]["userCount"] == 2
    assert issue["firstSeen"] == "2025-01-15T09:00:00Z"
    assert issue["lifetime"]["firstSeen"] == "2025-01-15T07:55:29.750000Z"
    assert issue["lastSeen"] == issue["lifetime"]["lastSeen"] == "2025-01-15T10:00:00Z"


def test_events_become_visible_only_once_the_clock_reaches_visible_at(clock: Clock) -> None:
    scenario = SentryScenario(project_id=PROJECT_ID)
    scenario.add_issue("1", "Stripe::CardError", exc_type="Stripe::CardError", exc_value="declined")
    scenario.add_event("1", event_id(1), NOW - timedelta(minutes=5), user={"id": 1})
    late = NOW - timedelta(minutes=10)  # happened earlier, ingested later
    scenario.add_event("1", event_id(2), late, user={"id": 2}, visible_at=clock.now + 60)
    scenario.add_issue("2", "Only late events")
    scenario.add_event("2", event_id(3), late, visible_at=clock.now + 60)
    with start(scenario, clock=clock) as server:
        before = get(server, ISSUES, statsPeriod="1h").json()
        assert [(i["id"], i["count"], i["userCount"]) for i in before] == [("1", "1", 1)]
        assert len(get(server, f"{ISSUES}1/events/").json()) == 1
        clock.advance(60)
        after = {i["id"]: i for i in get(server, ISSUES, statsPeriod="1h").json()}
        assert (after["1"]["count"], after["1"]["userCount"]) == ("2", 2) and "2" in after
        assert after["1"]["firstSeen"] == "2025-01-15T11:50:00Z"
        assert [e["eventID"] for e in get(server, f"{ISSUES}1/events/").json()] == [event_id(1), event_id(2)]


def test_the_default_query_lists_unresolved_issues_and_an_empty_query_lists_all(
    server: SimulatorServer,
) -> None:
    def statuses(**params: str) -> set[str]:
        return {issue["status"] for issue in walk_all(server, **params)}

    assert statuses() == {"unresolved"}
    assert statuses(query="") == {"unresolved", "resolved"}
    assert statuses(query="is:resolved") == {"resolved"}
    assert statuses(query="!is:unresolved level:error") == {"resolved"}
    assert get(server, ISSUES, query="is:nonsense").status_code == 400


def walk_all(server: SimulatorServer, **params: str) -> list[dict[str, Any]]:
    url = requests.Request("GET", server.base_url + ISSUES, params=params).prepare().url
    assert url is not None
    return walk(url)[0]


def test_sort_new_orders_by_first_seen_and_date_by_last_seen(server: SimulatorServer) -> None:
    by_new = walk_all(server, sort="new", statsPeriod="24h")
    first_seen = [issue["lifetime"]["firstSeen"] for issue in by_new]
    assert first_seen == sorted(first_seen, reverse=True) and by_new[-1]["id"] == "1000"
    by_date = walk_all(server, sort="date", statsPeriod="24h")
    last_seen = [issue["lastSeen"] for issue in by_date]
    assert last_seen == sorted(last_seen, reverse=True) and "1000" in [issue["id"] for issue in by_date[:3]]


@pytest.mark.parametrize("projects", [[PROJECT_ID], ["-1"], []])
def test_project_takes_the_numeric_id_or_minus_one(server: SimulatorServer, projects: list[str]) -> None:
    response = get(server, ISSUES, project=projects, statsPeriod="24h")
    assert response.status_code == 200 and response.headers["X-Hits"] == "121"


def test_a_project_slug_is_refused_with_400_as_sentry_does(server: SimulatorServer) -> None:
    # sentry.io: organization endpoints take only numeric project IDs in `project`.
    response = get(server, ISSUES, project=PROJECT, statsPeriod="24h")
    assert response.status_code == 400
    assert response.json() == {"detail": "Invalid project parameter. Values must be numbers."}


def test_another_projects_id_is_forbidden(server: SimulatorServer) -> None:
    response = get(server, ISSUES, project="999999", statsPeriod="24h")
    assert response.status_code == 403


def test_the_project_details_give_its_numeric_id_by_slug(server: SimulatorServer) -> None:
    body = get(server, f"/api/0/projects/acme/{PROJECT}/").json()
    assert body["id"] == PROJECT_ID and body["slug"] == PROJECT
    assert get(server, "/api/0/projects/acme/no-such-project/").status_code == 404


def test_an_issue_is_reachable_by_id_and_by_short_id(server: SimulatorServer) -> None:
    by_id = get(server, f"{ISSUES}{BIG_ISSUE}/").json()
    assert by_id["shortId"].startswith("CUSTOMERS-")
    assert get(server, f"{ISSUES}{by_id['shortId']}/").json()["id"] == BIG_ISSUE
    assert by_id["permalink"] == f"{server.base_url}/organizations/{ORG}/issues/{BIG_ISSUE}/"


def test_an_event_id_query_is_a_direct_hit(server: SimulatorServer) -> None:
    response = get(server, ISSUES, query=event_id(10_005))
    assert [issue["id"] for issue in response.json()] == [BIG_ISSUE]
    assert response.headers["X-Sentry-Direct-Hit"] == "1"


# ----------------------------------------------------------------------------- errors


def test_a_missing_token_is_answered_with_401(server: SimulatorServer) -> None:
    response = get(server, ISSUES, token=None)
    assert response.status_code == 401
    assert response.json() == {"detail": "Authentication credentials were not provided."}


def test_a_wrong_token_is_answered_with_401_invalid_token(server: SimulatorServer) -> None:
    response = get(server, ISSUES, token="sntryu_wrong")
    assert (response.status_code, response.json()) == (401, {"detail": "Invalid token"})


@pytest.mark.parametrize("options", [{"forbidden_token": "sntrys_org_ci"}, {"scopes": ["org:ci"]}])
def test_a_token_without_event_read_is_answered_with_403(options: dict[str, Any]) -> None:
    token = options.get("forbidden_token", TOKEN)
    with start(SentryScenario(), **options) as server:
        response = get(server, ISSUES, token=token)
    assert response.status_code == 403
    assert response.json() == {"detail": "You do not have permission to perform this action."}


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/0/organizations/other-org/issues/", {}),
        (f"{ISSUES}424242/", {}),
        (f"{ISSUES}424242/events/", {}),
        ("/api/0/organizations/acme/nothing-here/", {}),
    ],
)
def test_unknown_organizations_projects_and_issues_are_answered_with_404(
    server: SimulatorServer, path: str, params: dict[str, str]
) -> None:
    response = get(server, path, **params)
    assert response.status_code == 404
    assert response.json() == {"detail": "The requested resource does not exist"}


def test_a_path_without_its_trailing_slash_is_redirected_like_django(server: SimulatorServer) -> None:
    response = requests.get(f"{server.base_url}{ISSUES[:-1]}?limit=5", allow_redirects=False, timeout=5)
    assert (response.status_code, response.headers["Location"]) == (301, f"{ISSUES}?limit=5")


# ----------------------------------------------------------------------------- rate limits


def test_every_answer_carries_the_five_rate_limit_headers(server: SimulatorServer) -> None:
    answers = [
        get(server, ISSUES),
        get(server, f"{ISSUES}{BIG_ISSUE}/events/"),
        get(server, f"{ISSUES}{BIG_ISSUE}/"),
        get(server, ISSUES, cursor="bad"),
        get(server, ISSUES, token="wrong"),
        get(server, f"{ISSUES}424242/"),
    ]
    assert [a.status_code for a in answers] == [200, 200, 200, 400, 401, 404]
    for answer in answers:
        assert all(answer.headers[name].isdigit() for name in RATE_HEADERS)
        assert "Retry-After" not in answer.headers


def test_the_request_over_the_limit_gets_429_with_a_json_string_and_no_retry_after(clock: Clock) -> None:
    with start(SentryScenario(), clock=clock, rate_limit=(3, 60.0)) as server:
        answers = [get(server, ISSUES) for _ in range(4)]
        assert [a.status_code for a in answers] == [200, 200, 200, 429]
        limited = answers[-1]
        too_often = (
            "You are attempting to use this endpoint too frequently. Limit is 3 requests in 60 seconds"
        )
        assert limited.json() == too_often  # a JSON string, not an object
        assert "Retry-After" not in limited.headers
        assert [a.headers["X-Sentry-Rate-Limit-Remaining"] for a in answers] == ["2", "1", "0", "0"]
        reset = int(limited.headers["X-Sentry-Rate-Limit-Reset"])
        assert reset == 1736942460 and limited.headers["X-Sentry-Rate-Limit-Limit"] == "3"  # next minute
        clock.now = reset
        assert get(server, ISSUES).status_code == 200


# ----------------------------------------------------------------------------- faults and the log


def test_an_injected_503_is_answered_before_the_real_answer(server: SimulatorServer) -> None:
    server.inject(Fault(status=503, body=b'{"detail": "Service Unavailable"}', path_contains="/events/"))
    assert get(server, f"{ISSUES}{BIG_ISSUE}/events/").status_code == 503
    assert get(server, f"{ISSUES}{BIG_ISSUE}/events/").status_code == 200


def test_a_truncated_body_fails_the_read(server: SimulatorServer) -> None:
    server.inject(Fault(truncate=40))
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        get(server, ISSUES)
    assert get(server, ISSUES).status_code == 200


def test_html_instead_of_json_is_served_as_injected(server: SimulatorServer) -> None:
    server.inject(Fault(status=502, body=b"<html><body>Bad Gateway</body></html>", content_type="text/html"))
    response = get(server, ISSUES)
    assert response.status_code == 502 and response.headers["Content-Type"] == "text/html"
    with pytest.raises(requests.exceptions.JSONDecodeError):
        response.json()


def test_the_request_log_records_every_request_with_its_status(server: SimulatorServer) -> None:
    server.clear_log()
    get(server, ISSUES, statsPeriod="24h")
    get(server, f"{ISSUES}{BIG_ISSUE}/events/", token=None)
    get(server, f"{ISSUES}424242/")
    logged = [(entry.method, entry.path, entry.status) for entry in server.requests]
    assert logged == [
        ("GET", ISSUES, 200),
        ("GET", f"{ISSUES}{BIG_ISSUE}/events/", 401),
        ("GET", f"{ISSUES}424242/", 404),
    ]
    assert server.requests[0].raw_path == f"{ISSUES}?statsPeriod=24h"
    assert server.requests[0].headers["authorization"] == f"Bearer {TOKEN}"


# ----------------------------------------------------------------------------- hosts


@pytest.mark.parametrize(
    "base", ["https://us.sentry.io", "https://de.sentry.io", "https://sentry.example.org/"]
)
def test_public_base_url_sets_link_urls_and_permalinks(base: str) -> None:
    scenario = SentryScenario()
    scenario.add_issue("5", "Timeout")
    scenario.add_event("5", event_id(5), NOW)
    with start(scenario, public_base_url=base) as server:
        response = get(server, ISSUES, query="")
    host = base.rstrip("/")
    assert links(response)["next"][0].startswith(f"{host}{ISSUES}?query=&cursor=")
    assert response.json()[0]["permalink"] == f"{host}/organizations/{ORG}/issues/5/"

"""The Sentry simulator's compatible-server variants answer as those servers were seen to
answer (older self-hosted Sentry, GlitchTip), each switched on alone, over real HTTP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests

from monitor.simulators.base import SimulatorServer
from monitor.simulators.sentry import SentryScenario, start_sentry

NOW = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
TOKEN, ORG, PROJECT, PROJECT_ID = "sntryu_compat", "acme", "customers", "4501"
ISSUES = f"/api/0/organizations/{ORG}/issues/"
OLD, NEW = "11", "12"  # OLD: first seen 10 days ago, seen again an hour ago; NEW: first seen today
Start = Callable[..., SimulatorServer]


@pytest.fixture(name="start")
def start_fixture() -> Iterator[Start]:
    servers: list[SimulatorServer] = []

    def start(*compat: str) -> SimulatorServer:
        scenario = SentryScenario()
        scenario.add_issue(OLD, "Zuora::Error: City can't be blank")
        scenario.add_issue(NEW, "NoMethodError: undefined method")
        scenario.add_event(OLD, f"{1:032x}", NOW - timedelta(days=10), user={"id": "7"})
        scenario.add_event(OLD, f"{2:032x}", NOW - timedelta(hours=1), user={"id": "7"})
        scenario.add_event(NEW, f"{3:032x}", NOW - timedelta(hours=2))
        server = start_sentry(
            scenario, token=TOKEN, organization=ORG, project=PROJECT, project_id=PROJECT_ID,
            clock=NOW.timestamp, compat=compat,
        )  # fmt: skip
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def get(server: SimulatorServer, path: str, **params: Any) -> requests.Response:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    return requests.get(server.base_url + path, params=params, headers=headers, timeout=5)


def test_an_unknown_variant_is_refused_when_the_simulator_is_built() -> None:
    with pytest.raises(ValueError, match="no-such-thing"):
        start_sentry(
            SentryScenario(), token=TOKEN, organization=ORG, project=PROJECT, compat=["no-such-thing"]
        )


def test_issue_lists_carry_lifetime_unless_the_server_is_an_older_one(start: Start) -> None:
    current = get(start(), ISSUES, project=PROJECT_ID).json()
    older = get(start("no-lifetime"), ISSUES, project=PROJECT_ID).json()

    assert all(issue["lifetime"]["count"] == issue["count"] for issue in current)
    assert all("lifetime" not in issue and isinstance(issue["count"], str) for issue in older)


def test_a_slug_in_project_is_refused_by_every_variant(start: Start) -> None:
    answer = get(start("no-lifetime", "snake-case"), ISSUES, project=PROJECT)
    assert answer.status_code == 400
    assert answer.json() == {"detail": "Invalid project parameter. Values must be numbers."}


def test_the_project_details_are_served_by_slug_and_by_id(start: Start) -> None:
    server = start()
    by_slug = get(server, f"/api/0/projects/{ORG}/{PROJECT}/").json()
    by_id = get(server, f"/api/0/projects/{ORG}/{PROJECT_ID}/").json()
    assert by_slug["id"] == by_id["id"] == PROJECT_ID and by_slug["slug"] == PROJECT


def test_sort_is_refused_with_400_by_a_server_that_does_not_take_it(start: Start) -> None:
    assert get(start(), ISSUES, project=PROJECT_ID, sort="date").status_code == 200
    refused = get(start("refuse-sort"), ISSUES, project=PROJECT_ID, sort="date")
    assert refused.status_code == 400 and "sort" in refused.json()["detail"]


@pytest.mark.parametrize(
    ("variant", "status", "content_type"),
    [("no-org-events", 404, "application/json"), ("html-org-events", 200, "text/html"),
     ("error-org-events", 500, "application/json")],
)  # fmt: skip
def test_the_organization_events_path_can_be_missing_while_the_issue_path_works(
    start: Start, variant: str, status: int, content_type: str
) -> None:
    server = start(variant)
    org_path = get(server, f"/api/0/organizations/{ORG}/issues/{OLD}/events/")
    issue_path = get(server, f"/api/0/issues/{OLD}/events/")

    assert org_path.status_code == status and org_path.headers["Content-Type"].startswith(content_type)
    assert issue_path.status_code == 200 and len(issue_path.json()) == 2


def test_start_and_end_can_filter_the_issue_list_by_first_seen(start: Start) -> None:
    window = {"start": (NOW - timedelta(hours=3)).isoformat()[:19], "end": NOW.isoformat()[:19]}
    by_events = {i["id"] for i in get(start(), ISSUES, project=PROJECT_ID, **window).json()}
    by_first_seen = {
        i["id"] for i in get(start("first-seen-window"), ISSUES, project=PROJECT_ID, **window).json()
    }

    assert by_events == {OLD, NEW}
    assert by_first_seen == {NEW}  # the old issue's new event is hidden from a client that trusts it


def test_event_lists_can_come_in_snake_case(start: Start) -> None:
    (event, *_) = get(start("snake-case"), f"/api/0/issues/{NEW}/events/").json()
    assert {"event_id", "date_created", "group_id", "project_id"} <= set(event)
    assert not {"eventID", "dateCreated", "groupID", "projectID"} & set(event)


def test_events_can_come_without_a_time_of_their_own(start: Start) -> None:
    (event, *_) = get(start("undated-events"), f"/api/0/issues/{NEW}/events/").json()
    assert "dateCreated" not in event and "dateReceived" not in event and event["eventID"]

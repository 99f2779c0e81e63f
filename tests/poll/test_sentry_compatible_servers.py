"""Sentry as it really answers, and as compatible servers answer: a project slug refused in
`project=`, issue lists without `lifetime`, a refused `sort`, a missing organization-scoped
events path, `start`/`end` applied to first-seen, snake_case event lists. Each variant is a
switch of the simulator; the poll must store every event with its own time under each."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.base import SimulatorServer
from monitor.simulators.sentry import SentryScenario, start_sentry
from monitor.simulators.sentry.compat import VARIANTS
from tests.poll.sentry_helpers import (
    EVENTS,
    NOW,
    ORG,
    PROJECT,
    PROJECT_ID,
    TOKEN,
    event_id,
    import_customers,
    poll_cli,
    seed,
    sentry_config,
    stored,
)

OLD_ISSUE = "106"  # first seen ten days ago, seen again in the window
LATE = 900  # an event dated before its issue's last-seen time, arriving after a poll


def scenario() -> SentryScenario:
    built = SentryScenario()
    seed(built)
    built.add_issue(OLD_ISSUE, "Zuora::Error: City can't be blank", "SubscriptionsController#create",
                    "Zuora::Error", "City can't be blank")  # fmt: skip
    built.add_event(OLD_ISSUE, event_id(800), NOW - timedelta(days=10), user={"id": "48213"})
    built.add_event(OLD_ISSUE, event_id(801), NOW - timedelta(minutes=15), user={"id": "48213"})
    return built


@pytest.fixture(name="server_for")
def server_for_fixture() -> Iterator[Any]:
    servers: list[SimulatorServer] = []

    def start(*compat: str, built: SentryScenario | None = None) -> SimulatorServer:
        server = start_sentry(
            built or scenario(), token=TOKEN, organization=ORG, project=PROJECT, project_id=PROJECT_ID,
            compat=compat,
        )  # fmt: skip
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def configured(write_config: Any, server: SimulatorServer, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    path: Path = write_config(sentry_config(server.base_url))
    import_customers(path.parent / "monitor.db")
    return path


EXPECTED_KEYS = {event_id(n) for n in EVENTS} | {event_id(801)}


def test_a_project_slug_is_resolved_to_its_id_so_a_server_refusing_slugs_is_polled(
    server_for: Any, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped example config names the project by slug; sentry.io answers 400 to a slug
    in `project=`. The poll asks the project's details once, then sends only its ID."""
    server = server_for()
    config = configured(write_config, server, monkeypatch)

    first = poll_cli(config)
    second = poll_cli(config)

    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    said = rf"\n  project +organization '{ORG}', project '{PROJECT}' found: ID {PROJECT_ID}\b"
    assert re.search(said, first.output) and "found: ID" not in second.output  # said at the first poll
    assert set(stored(config.parent / "monitor.db")) == EXPECTED_KEYS
    project_asks = [r for r in server.requests if r.path.startswith("/api/0/projects/")]
    assert len(project_asks) == 1  # remembered in the database
    issue_lists = [r for r in server.requests if r.path.endswith(f"{ORG}/issues/")]
    assert issue_lists
    assert all(parse_qs(urlsplit(r.raw_path).query)["project"] == [PROJECT_ID] for r in issue_lists)


# Every variant but the one whose events have no time of their own (tested on its own below).
@pytest.mark.parametrize("variant", sorted(VARIANTS - {"undated-events"}))
def test_every_event_is_stored_with_its_own_time_on_a_compatible_server(
    variant: str, server_for: Any, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = server_for(variant)
    config = configured(write_config, server, monkeypatch)

    result = poll_cli(config)

    assert result.exit_code == 0, result.output
    rows = stored(config.parent / "monitor.db")
    assert set(rows) == EXPECTED_KEYS
    for number, (_issue, _user, minutes, _expect) in EVENTS.items():
        row = rows[event_id(number)]
        assert row["occurred_at"].startswith((NOW - timedelta(minutes=minutes)).isoformat()[:19])
        assert "dated_by" not in json.loads(row["detail"])


def test_a_late_event_on_an_issue_without_lifetime_is_read_by_its_count(
    server_for: Any, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Old servers carry only the top-level `count`: a late event moves it, not lastSeen."""
    built = scenario()
    server = server_for("no-lifetime", built=built)
    config = configured(write_config, server, monkeypatch)
    assert poll_cli(config).exit_code == 0

    built.add_event("101", event_id(LATE), NOW - timedelta(minutes=55), user={"id": "48214"})
    result = poll_cli(config)

    assert result.exit_code == 0, result.output
    assert event_id(LATE) in stored(config.parent / "monitor.db")


def test_events_without_a_time_are_counted_and_shown_as_uncertain_never_as_another_days(
    server_for: Any, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = server_for("undated-events")
    config = configured(write_config, server, monkeypatch)

    result = poll_cli(config)
    status = CliRunner().invoke(main, ["--config", str(config), "status", "--json"])
    today = NOW.astimezone(ZoneInfo("Europe/Amsterdam")).date().isoformat()
    digest = CliRunner().invoke(
        main, ["--config", str(config), "digest", "--date", today, "--format", "json"]
    )

    assert result.exit_code == 0, result.output
    assert re.search(rf"dated by issue +{len(EXPECTED_KEYS)}\n", result.output)
    assert json.loads(status.output)["sources"]["sentry"]["dated_by_issue"] == len(EXPECTED_KEYS)
    day = json.loads(digest.output)
    sentry_lines = [s for c in day["customers"] for s in c["signals"] if s["source"] == "sentry"]
    assert sentry_lines == [] and not [u for u in day["unlinked"] if u["source"] == "sentry"]
    late = [line for line in day["late"] if line["source"] == "sentry"]
    assert late and all(line["uncertain"] is True for line in late)


def test_the_shipped_example_config_polls_a_server_that_refuses_slugs(
    server_for: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """schedules.toml as shipped (project 'customersgitlabcom', a slug), only its base_url
    pointed at a server that, like sentry.io, answers 400 to a slug in `project=`."""
    shipped = (Path(__file__).parents[2] / "schedules.toml").read_text()
    server = server_for()
    assert f'organization = "{ORG}"' in shipped and f'project = "{PROJECT}"' in shipped
    config = tmp_path / "schedules.toml"
    config.write_text(shipped.replace('base_url = "https://sentry.io"', f'base_url = "{server.base_url}"', 1))
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)

    result = poll_cli(config)

    assert result.exit_code == 0, result.output
    assert set(stored(tmp_path / "monitor.db")) == EXPECTED_KEYS
    refused = [r for r in server.requests if f"project={PROJECT}" in r.raw_path]
    assert refused == []  # the slug was never sent where only numbers are taken

"""Sentry refusals end the poll with exit 1 and one sentence that names the fix."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.base import Fault, SimulatorServer
from monitor.store import open_db
from monitor.store.signals import get_cursor
from tests.poll.sentry_helpers import (
    FORBIDDEN,
    PROJECT,
    TOKEN,
    config_fixture,  # noqa: F401  (fixtures)
    poll_cli,
    scenario_fixture,  # noqa: F401
    sentry_config,
    sentry_fixture,  # noqa: F401
)


def _cursor(config_path: Path) -> str | None:
    db = open_db(config_path.parent / "monitor.db")
    try:
        return get_cursor(db, "sentry")
    finally:
        db.close()


def test_a_wrong_token_exits_1_naming_the_token_and_its_scope(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntryu_not_the_right_one")
    result = poll_cli(config)
    assert result.exit_code == 1
    assert "SENTRY_AUTH_TOKEN" in result.stderr and "event:read" in result.stderr
    assert "sntryu_not_the_right_one" not in result.output
    assert "Traceback" not in result.output
    assert _cursor(config) is None


def test_an_organization_token_is_named_as_the_wrong_kind(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntrys_org_token_for_source_maps")
    result = poll_cli(config)
    assert result.exit_code == 1
    assert "organization token" in result.stderr and "internal-integration" in result.stderr


def test_a_token_without_event_read_exits_1_naming_the_scope_and_organization(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", FORBIDDEN)
    result = poll_cli(config)
    assert result.exit_code == 1
    assert "403" in result.stderr and "event:read" in result.stderr and "'gitlab'" in result.stderr


def test_an_unknown_organization_exits_1_naming_organization_project_and_host(
    write_config, sentry: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    path = write_config(sentry_config(sentry.base_url, organization="gitlab-typo"))
    result = poll_cli(path)
    assert result.exit_code == 1
    assert "'gitlab-typo'" in result.stderr and f"'{PROJECT}'" in result.stderr
    assert sentry.base_url in result.stderr
    assert len(sentry.requests) == 1  # permanent: not retried


def test_a_missing_token_is_a_config_problem_exit_2(
    config: Path, monkeypatch: pytest.MonkeyPatch, sentry: SimulatorServer
) -> None:
    monkeypatch.delenv("SENTRY_AUTH_TOKEN")
    result = poll_cli(config)
    assert result.exit_code == 2
    assert "SENTRY_AUTH_TOKEN" in result.stderr
    assert not sentry.requests


def test_an_unknown_rule_field_is_a_config_problem(config: Path) -> None:
    rules = """
    [[classification.rules]]
    pattern = "VAT"
    category = "address_or_card"
    fields = ["titel"]
    """
    config.write_text(config.read_text() + textwrap.dedent(rules))
    result = poll_cli(config)
    assert result.exit_code == 2
    assert "classification.rules.0.fields" in result.stderr and "titel" in result.stderr


def test_polling_an_unconfigured_source_says_which_section_to_add(write_config) -> None:
    path = write_config()
    result = CliRunner().invoke(main, ["--config", str(path), "poll", "sentry"])
    assert result.exit_code == 2
    assert "[sentry]" in result.stderr


def test_one_source_failing_does_not_stop_the_other(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mailgun = """
    [mailgun]
    base_url = "http://127.0.0.1:9"
    domain = "mg.example.com"
    """
    config.write_text(config.read_text() + textwrap.dedent(mailgun))
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", "sntryu_wrong")  # Sentry fails first ...
    result = CliRunner().invoke(main, ["--config", str(config), "poll"])
    assert result.exit_code in (1, 2)  # ... and Mailgun (no MAILGUN_API_KEY) is still tried
    assert "sentry:" in result.stderr and "SENTRY_AUTH_TOKEN" in result.stderr
    db = open_db(config.parent / "monitor.db")
    jobs = [row["job"] for row in db.query("SELECT job FROM job_runs ORDER BY id")]
    db.close()
    assert jobs == ["poll-sentry", "poll-mailgun"]


def test_an_error_answer_that_echoes_the_token_never_shows_it_nor_stores_it(
    config: Path, sentry: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    echoed = f'{{"detail": "Bad request for token {TOKEN}"}}'.encode()
    sentry.inject(Fault(status=400, body=echoed, path_contains="/issues/"))

    result = poll_cli(config)

    assert result.exit_code == 1
    assert "Bad request for token" in result.stderr
    assert TOKEN not in result.output
    db = open_db(config.parent / "monitor.db")
    errors = [row[0] for row in db.execute("SELECT error FROM job_runs WHERE error IS NOT NULL")]
    db.close()
    assert errors and all(TOKEN not in error for error in errors)  # nor in the run records

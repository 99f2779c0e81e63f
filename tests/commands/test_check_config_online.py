"""`monitor check-config --online`: each configured source is asked who the configured names
are, over loopback against the simulators."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.mailgun import MailgunScenario, start_mailgun
from monitor.simulators.sentry import SentryScenario, start_sentry

TOKEN, KEY = "sntryu_online", "key-online"


@pytest.fixture(name="config")
def config_fixture(write_config: Callable[[str], Path], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    monkeypatch.setenv("MAILGUN_API_KEY", KEY)
    with (
        start_sentry(SentryScenario(), token=TOKEN, organization="gitlab", project="customersgitlabcom",
                     project_id="4502071", project_name="CustomersDot") as sentry,
        start_mailgun(MailgunScenario(), api_key=KEY, domain="mg.example.test") as mailgun,
    ):  # fmt: skip

        def write(project: str = "customersgitlabcom", domain: str = "mg.example.test") -> Path:
            return write_config(
                f'[sentry]\nbase_url = "{sentry.base_url}"\norganization = "gitlab"\nproject = "{project}"\n'
                f'[mailgun]\nbase_url = "{mailgun.base_url}"\ndomain = "{domain}"\n'
            )

        yield write


def test_online_names_the_projects_numeric_id_and_the_domain(config) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(main, ["--config", str(config()), "check-config", "--online"])

    assert result.exit_code == 0, result.output
    assert "project 'customersgitlabcom' found: ID 4502071 (CustomersDot)" in result.output
    assert "domain 'mg.example.test' found" in result.output


def test_an_unknown_project_or_domain_is_a_sentence_and_exit_1(config) -> None:  # type: ignore[no-untyped-def]
    result = CliRunner().invoke(
        main, ["--config", str(config("no-such-project", "other.example")), "check-config", "--online"]
    )

    assert result.exit_code == 1
    assert "'no-such-project'" in result.output and "other.example" in result.output
    assert "Traceback" not in result.output

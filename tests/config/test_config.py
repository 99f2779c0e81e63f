"""Config: the example parses, and every problem in a bad one is reported at once as
`field.path: reason`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from monitor.config.load import job_schedules, load_settings
from monitor.core.errors import ConfigError
from tests.conftest import BASE_CONFIG
from tests.paths import ROOT

REPO = ROOT


def _problems(path: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert caught.value.exit_code == 2
    return caught.value.problems


def _problem_for(problems: list[str], field_path: str) -> str:
    found = [p for p in problems if p.startswith(f"{field_path}: ")]
    assert found, f"no problem for {field_path} in {problems}"
    return found[0]


def test_the_annotated_example_config_parses() -> None:
    settings = load_settings(REPO / "schedules.toml")

    assert settings.monitor.timezone == "Europe/Amsterdam"
    assert settings.sentry is not None and settings.sentry.organization == "gitlab"
    assert settings.mailgun is not None and settings.mailgun.domain == "customers.gitlab.com"
    assert settings.digest.recipients == ("billing-support@example.com",)
    assert job_schedules(settings)["digest"] == "0 8 * * mon-fri"
    assert settings.monitor.database == REPO / "monitor.db"


def test_every_problem_is_reported_at_once_as_field_path_and_reason(write_config) -> None:
    path = write_config(
        """
        [smtp]
        hots = "mail.example.com"
        port = "25"

        [sentry]
        base_url = "sentry.io"
        organization = "gitlab"
        project = "customersgitlabcom"

        [jobs.poll-sentry]
        schedule = "*/10 * * *"
        [jobs.digset]
        schedule = "0 8 * * mon-fri"
        """,
        base=BASE_CONFIG.replace('"Europe/Amsterdam"', '"Mars/Olympus_Mons"')
        .replace('["support@example.com"]', '["support@example.com", "not-an-address"]')
        .replace('transport = "file"', 'transport = "mailgun"'),
    )

    problems = _problems(path)

    assert "did you mean 'host'?" in _problem_for(problems, "smtp.hots")
    assert "must be an integer" in _problem_for(problems, "smtp.port")
    assert "not an IANA time zone" in _problem_for(problems, "monitor.timezone")
    assert "expected 5 fields" in _problem_for(problems, "jobs.poll-sentry.schedule")
    assert "scheme" in _problem_for(problems, "sentry.base_url")
    assert "'not-an-address' is not an email address" in _problem_for(problems, "digest.recipients")
    assert "[mailgun]" in _problem_for(problems, "digest.transport")
    assert "did you mean 'digest'?" in _problem_for(problems, "jobs.digset")
    assert len(problems) == 8


@pytest.mark.parametrize(
    ("extra", "field_path", "reason"),
    [
        ('[monitor]\nretention_days = "ninety"', "monitor.retention_days", "must be an integer"),
        ("[digest]\nskip_empty = 1", "digest.skip_empty", "must be true or false"),
        ('[mailgun]\ndomain = "x.example"\npublic_domains = "a.example"', "mailgun.public_domains", "a list"),
        ('[smtp]\nsecurity = "ssl"', "smtp.security", "must be one of none, starttls, tls"),
        (
            '[jobs.digest]\nschedule = "0 8 * * 1-5"\nhealthcheck_url = "hc-ping.com/x"',
            "jobs.digest.healthcheck_url",
            "scheme",
        ),
        ('[jobs.digest]\nschedule = "61 8 * * *"', "jobs.digest.schedule", "maximum value (59)"),
        ('[jobs.digest]\nschedule = "0 8 1 * mon"', "jobs.digest.schedule", "not both"),
        ('[jobs.poll-sentry]\nschedule = "*/5 * * * *"', "jobs.poll-sentry", "needs a [sentry] section"),
        ('[links]\ncustomer = "https://x.example/{id}"', "links.customer", "placeholders"),
        ("[sentry]\nbase_url = 'https://sentry.io'", "sentry.organization", "missing"),
    ],
)
def test_each_kind_of_mistake_names_its_field(write_config, extra: str, field_path: str, reason: str) -> None:
    # The base config has these sections already; merge by rewriting, not by appending twice.
    section = extra.split("\n", 1)[0]
    base = BASE_CONFIG
    if section in base:
        base = base.replace(section, extra, 1)
        extra = ""
    problems = _problems(write_config(extra, base=base))

    assert any(p.startswith(field_path) and reason in p for p in problems), problems


def test_relative_paths_resolve_against_the_config_files_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "etc" / "monitor"
    folder.mkdir(parents=True)
    (folder / "schedules.toml").write_text(BASE_CONFIG.replace('"monitor.db"', '"data/monitor.db"'))
    elsewhere = tmp_path / "somewhere-else"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)

    settings = load_settings(Path("../etc/monitor/schedules.toml"))

    assert settings.monitor.database == folder / "data" / "monitor.db"
    assert settings.digest.out_dir == folder / "out"
    assert settings.config_path == folder / "schedules.toml"


def test_a_toml_syntax_error_names_the_file_and_the_line(tmp_path: Path) -> None:
    path = tmp_path / "schedules.toml"
    path.write_text('[monitor]\ntimezone = "UTC"\ndatabase monitor.db\n')

    (problem,) = _problems(path)

    assert problem.startswith(f"{path}: not valid TOML")
    assert "line 3" in problem


def test_a_missing_config_file_is_one_sentence_naming_the_fix(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path / "nowhere.toml")

    assert str(tmp_path / "nowhere.toml") in problem
    assert "--config" in problem and "MONITOR_CONFIG" in problem


def test_a_section_left_out_disables_that_source(write_config) -> None:
    settings = load_settings(write_config())

    assert settings.sentry is None and settings.mailgun is None
    assert set(job_schedules(settings)) == {"digest"}


def test_the_config_path_defaults_to_monitor_config_then_the_working_folder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from monitor.config.load import default_config_path

    assert default_config_path({}) == Path("schedules.toml")
    assert default_config_path({"MONITOR_CONFIG": "/etc/monitor.toml"}) == Path("/etc/monitor.toml")
    monkeypatch.setenv("MONITOR_CONFIG", os.devnull)
    assert default_config_path() == Path(os.devnull)

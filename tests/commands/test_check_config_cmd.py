"""`monitor check-config`: 0 when config and secrets are fine, else every problem and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.paths import ROOT

EXAMPLE = ROOT / "schedules.toml"
SECRETS = {"SENTRY_AUTH_TOKEN": "sntrys_secret_value", "MAILGUN_API_KEY": "key-secret-value"}


def test_the_example_config_without_secrets_names_each_missing_secret(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check-config", "--config", str(EXAMPLE)])

    assert result.exit_code == 2
    lines = result.stderr.splitlines()
    assert lines[0] == "Error: 2 problem(s) in the environment:"
    assert lines[1].startswith("  secrets.SENTRY_AUTH_TOKEN: missing; set the environment variable")
    assert lines[2].startswith("  secrets.MAILGUN_API_KEY: missing; set the environment variable")
    assert "SMTP_PASSWORD" not in result.stderr  # no SMTP login in the example
    assert "Traceback" not in result.output


def test_the_example_config_with_its_secrets_passes_and_lists_the_jobs(runner: CliRunner) -> None:
    result = runner.invoke(main, ["check-config", "--config", str(EXAMPLE)], env=SECRETS)

    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{EXAMPLE}: OK")
    assert "sentry, mailgun" in result.stdout
    for job, schedule in [
        ("poll-sentry", "*/10 * * * *"),
        ("poll-mailgun", "*/15 * * * *"),
        ("reconcile-mailgun", "7 * * * *"),
        ("digest", "0 8 * * mon-fri"),
    ]:
        assert any(job in line and line.endswith(schedule) for line in result.stdout.splitlines()), job
    for value in SECRETS.values():
        assert value not in result.output


def test_the_secrets_may_come_from_files(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "sentry_auth_token").write_text("tok\n")
    (tmp_path / "mailgun").write_text("key\n")
    env = {"CREDENTIALS_DIRECTORY": str(tmp_path), "MAILGUN_API_KEY_FILE": str(tmp_path / "mailgun")}

    result = runner.invoke(main, ["--config", str(EXAMPLE), "check-config"], env=env)

    assert result.exit_code == 0, result.output


def test_a_bad_config_prints_each_problem_on_stderr_and_exits_2(runner: CliRunner, write_config) -> None:
    path = write_config('[smtp]\nport = "twenty-five"\n[jobs.digest]\nschedule = "0 8 * *"\n')

    result = runner.invoke(main, ["check-config", "--config", str(path)])

    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"Error: 2 problem(s) in {path}:",
        "  smtp.port: must be an integer, not str 'twenty-five'",
        "  jobs.digest.schedule: expected 5 fields (minute hour day month weekday), got 4",
    ]


def test_a_missing_config_file_is_one_sentence_and_exit_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["check-config"], env={"MONITOR_CONFIG": str(tmp_path / "gone.toml")})

    assert result.exit_code == 2
    assert result.stderr.startswith(f"Error: {tmp_path / 'gone.toml'}: cannot read the config file")
    assert "pass --config or set MONITOR_CONFIG" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("flag", "traceback"), [([], False), (["--verbose"], True)])
def test_a_traceback_appears_only_with_verbose(
    runner: CliRunner, write_config, flag: list[str], traceback: bool
) -> None:
    path = write_config('[monitor]\ntimezone = "Nowhere/Special"\n', base=BASE_WITHOUT_MONITOR)

    result = runner.invoke(main, ["check-config", "--config", str(path), *flag])

    assert result.exit_code == 2
    assert "monitor.timezone: 'Nowhere/Special' is not an IANA time zone name" in result.stderr
    assert ("Traceback" in result.stderr) is traceback


BASE_WITHOUT_MONITOR = """
[digest]
recipients = ["support@example.com"]
sender = "Monitor <monitor@example.com>"
transport = "file"
"""

"""The units in systemd/ verify, are hardened (exposure 2.0 or lower), run commands that exist,
and their timers fire when the schedules in systemd/schedules.toml say."""

from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.config.load import load_settings
from monitor.runner.schedule import job_trigger
from tests.systemd_helpers import BASES, analyze, elapses, needs_systemd, our_fires

UNITS = Path(__file__).resolve().parent.parent / "systemd"
SERVICES = sorted(UNITS.glob("*.service"))
TIMERS = sorted(UNITS.glob("*.timer"))
INSTALLED_BINARY = "/usr/local/bin/monitor"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(path)
    return parser


@pytest.fixture(scope="module")
def installed_copies(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The units with ExecStart pointing at an executable that exists here: `verify` checks
    that the binary is there, and /usr/local/bin/monitor is not on a test machine."""
    folder = tmp_path_factory.mktemp("units")
    stub = folder / "monitor"
    stub.write_text("#!/bin/sh\n")
    stub.chmod(0o755)
    for unit in [*SERVICES, *TIMERS]:
        (folder / unit.name).write_text(unit.read_text().replace(INSTALLED_BINARY, str(stub)))
    return folder


def test_there_is_a_daemon_and_a_timer_for_each_command_run_on_a_schedule() -> None:
    assert [p.name for p in SERVICES] == [
        "monitor-digest.service",
        "monitor-poll-mailgun.service",
        "monitor-poll-sentry.service",
        "monitor.service",
    ]
    assert [p.stem for p in TIMERS] == [p.stem for p in SERVICES if p.stem != "monitor"]


@needs_systemd
@pytest.mark.parametrize("unit", [p.name for p in [*SERVICES, *TIMERS]])
def test_each_unit_passes_systemd_analyze_verify(installed_copies: Path, unit: str) -> None:
    result = analyze("verify", "--man=no", str(installed_copies / unit))

    assert result.returncode == 0, result.stderr
    assert [line for line in result.stderr.splitlines() if unit in line] == []  # e.g. "Unknown key"


@needs_systemd
@pytest.mark.parametrize("unit", [p.name for p in SERVICES])
def test_each_service_is_rated_1_5_or_lower_by_systemd_analyze_security(unit: str) -> None:
    result = analyze("security", "--offline=true", str(UNITS / unit))

    match = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= 1.5


@pytest.mark.parametrize("unit", [p.name for p in SERVICES])
def test_each_service_runs_a_monitor_command_that_exists(runner: CliRunner, unit: str) -> None:
    service = _unit(UNITS / unit)["Service"]
    binary, *args = service["ExecStart"].split()

    result = runner.invoke(main, [*args, "--help"])

    assert binary == INSTALLED_BINARY
    assert result.exit_code == 0, result.output
    assert service["Environment"] == "MONITOR_CONFIG=/etc/monitor/schedules.toml"
    assert service["DynamicUser"] == "yes" and service["StateDirectory"] == "monitor"


@pytest.mark.parametrize("timer", [p.name for p in TIMERS])
def test_each_timer_catches_up_after_downtime_and_its_run_has_a_time_limit(timer: str) -> None:
    service = _unit(UNITS / timer.replace(".timer", ".service"))["Service"]

    assert _unit(UNITS / timer)["Timer"]["Persistent"] == "true"
    assert service["Type"] == "oneshot"
    assert service["TimeoutStartSec"]


def test_the_example_config_keeps_the_database_in_the_state_directory() -> None:
    settings = load_settings(UNITS / "schedules.toml")

    assert settings.monitor.database == Path("/var/lib/monitor/monitor.db")
    assert settings.digest.out_dir.is_relative_to("/var/lib/monitor")


@needs_systemd
@pytest.mark.parametrize("timer", [p.name for p in TIMERS])
@pytest.mark.parametrize("base", BASES)
def test_each_timer_fires_when_its_schedule_in_schedules_toml_fires(timer: str, base: str) -> None:
    settings = load_settings(UNITS / "schedules.toml")
    job = timer.removeprefix("monitor-").removesuffix(".timer")
    calendar = _unit(UNITS / timer)["Timer"]["OnCalendar"]
    trigger = job_trigger(settings.schedule_of(job), settings.zone)

    result = analyze("calendar", "--iterations=6", f"--base-time={base} UTC", calendar)
    systemd = elapses(result.stdout)
    ours = our_fires(trigger, base)

    assert systemd == ours, result.stdout


def test_the_shipped_units_are_the_rendering_of_the_shipped_config(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(
        main, ["--config", str(UNITS / "schedules.toml"), "systemd", "render", "--out", str(tmp_path)]
    )
    assert result.exit_code == 0, result.output
    rendered = {path.name: path.read_text() for path in tmp_path.iterdir()}
    shipped = {path.name: path.read_text() for path in [*SERVICES, *TIMERS]}
    assert rendered == shipped


def _render(runner: CliRunner, config: Path, *args: str) -> dict[str, str]:
    out = config.parent / "units"
    result = runner.invoke(main, ["--config", str(config), "systemd", "render", "--out", str(out), *args])
    assert result.exit_code == 0, result.output
    return {path.name: path.read_text() for path in out.iterdir()}


def test_changing_a_schedule_in_the_config_changes_the_rendered_timer(
    runner: CliRunner, tmp_path: Path
) -> None:
    text = (UNITS / "schedules.toml").read_text().replace('"0 8 * * mon-fri"', '"30 6 * * sun"')
    config = tmp_path / "schedules.toml"
    config.write_text(text)

    timer = _render(runner, config, "--mode", "timers")["monitor-digest.timer"]

    assert "OnCalendar=Sun *-*-* 06:30:00 Europe/Amsterdam\n" in timer
    assert "08:00" not in timer


def test_a_config_without_an_smtp_login_loads_no_smtp_password(runner: CliRunner, tmp_path: Path) -> None:
    text = (UNITS / "schedules.toml").read_text()
    text = "\n".join(line for line in text.splitlines() if not line.startswith("username"))
    config = tmp_path / "schedules.toml"
    config.write_text(text)

    units = _render(runner, config)

    assert not any("smtp_password" in unit for unit in units.values())
    assert "LoadCredential=sentry_auth_token:" in units["monitor.service"]
    assert "Type=exec" in units["monitor.service"]


def test_check_config_deployment_names_each_missing_piece_with_its_fix(
    runner: CliRunner, tmp_path: Path
) -> None:
    config = tmp_path / "schedules.toml"
    config.write_text(
        (UNITS / "schedules.toml").read_text().replace("/var/lib/monitor/monitor.db", str(tmp_path / "m.db"))
    )
    (tmp_path / "credentials").mkdir()
    (tmp_path / "credentials" / "sentry_auth_token").write_text("x")

    result = runner.invoke(
        main,
        [
            "--config",
            str(config),
            "check-config",
            "--deployment",
            "--credentials-dir",
            str(tmp_path / "credentials"),
        ],
    )

    assert result.exit_code == 2
    assert "outside /var/lib/monitor" in result.output
    assert result.output.count("mailgun_api_key is missing") == 1 and "243/CREDENTIALS" in result.output
    assert "smtp_password is missing" in result.output and "sentry_auth_token is missing" not in result.output

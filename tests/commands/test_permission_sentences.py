"""A root-only database or secret, met by a normal user, is one sentence naming the path and
`sudo`: exit 1, no traceback. Run for real as `nobody` (setpriv), as an operator meets it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.paths import ROOT

MONITOR = Path(sys.executable).with_name("monitor")
SETPRIV = shutil.which("setpriv")
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or SETPRIV is None,
    reason="needs root and setpriv(1) to run the monitor as the unprivileged user nobody",
)
CONFIG = """
[monitor]
timezone = "Europe/Amsterdam"
database = "state/monitor.db"

[sentry]
organization = "gitlab"
project = "customersgitlabcom"

[digest]
recipients = ["support@example.com"]
sender = "Monitor <monitor@example.com>"
transport = "file"
out_dir = "state/out"
"""


@pytest.fixture
def deployment() -> Iterator[Path]:
    """A folder anyone may enter (pytest's tmp_path is root-only), holding a readable config
    and a state folder and a secret that only root may open, as the systemd units leave them."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-perm-"))
    folder.chmod(0o755)
    (folder / "schedules.toml").write_text(CONFIG)
    (folder / "schedules.toml").chmod(0o644)
    (folder / "state").mkdir(mode=0o700)
    (folder / "token").write_text("sntryu_secret\n")
    (folder / "token").chmod(0o600)
    yield folder
    shutil.rmtree(folder)


def _as_nobody(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    assert SETPRIV is not None
    command = [SETPRIV, "--reuid=nobody", "--regid=nogroup", "--clear-groups", str(MONITOR), *args]
    environ = {"PATH": os.environ["PATH"], "HOME": "/", **(env or {})}
    return subprocess.run(
        command, capture_output=True, text=True, env=environ, cwd=ROOT, check=False, timeout=60
    )


def test_status_without_sudo_on_a_root_only_state_folder_says_to_use_sudo(deployment: Path) -> None:
    config = deployment / "schedules.toml"

    result = _as_nobody("status", "--config", str(config), env={"SENTRY_AUTH_TOKEN": "x"})

    assert result.returncode == 1
    state = deployment / "state"
    assert result.stderr == (
        f"Error: {state} is readable only by root (mode 0700), not by user nobody: "
        f"run `sudo monitor status --config {config}`.\n"
    )


def test_a_config_from_monitor_config_is_spelled_out_in_the_sudo_command(deployment: Path) -> None:
    config = deployment / "schedules.toml"

    result = _as_nobody("status", "--json", env={"MONITOR_CONFIG": str(config)})

    assert result.returncode == 1
    assert f"run `sudo monitor status --json --config {config}`." in result.stderr
    assert "Traceback" not in result.stderr


def test_a_root_only_secret_file_is_named_with_the_fix(deployment: Path) -> None:
    config = deployment / "schedules.toml"
    token = deployment / "token"

    result = _as_nobody("check-config", "--config", str(config), env={"SENTRY_AUTH_TOKEN_FILE": str(token)})

    assert result.returncode == 1
    assert result.stderr == (
        f"Error: {token} is readable only by root (mode 0600), not by user nobody: "
        f"run `sudo SENTRY_AUTH_TOKEN_FILE={token} monitor check-config --config {config}`.\n"
    )


def test_a_database_root_creates_in_the_units_state_folder_stays_openable_by_the_units_user(
    deployment: Path,
) -> None:
    from monitor.store import open_db

    state = deployment / "state"
    os.chown(state, 65534, 65534)  # as systemd leaves /var/lib/private/monitor: the unit's user

    open_db(state / "monitor.db").conn.close()  # `sudo monitor customers import` before the daemon's start

    assert (state / "monitor.db").stat().st_uid == 65534
    assert _as_nobody("status", "--config", str(deployment / "schedules.toml")).returncode in (0, 1)
    assert (
        "Permission denied" not in _as_nobody("status", "--config", str(deployment / "schedules.toml")).stderr
    )

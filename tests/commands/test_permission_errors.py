"""A database or secret file this user may not read is one sentence naming the path and the
fix (sudo), exit 1, no traceback. Run as a real unprivileged user: the suite runs as root,
so the command is started as `nobody` (setpriv) with the system's Python 3.11."""

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

SYSTEM_PYTHON = Path("/usr/bin/python3.11")
needs_root = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None or not SYSTEM_PYTHON.exists(),
    reason="needs root, setpriv and /usr/bin/python3.11 to run a command as another user",
)


def as_nobody(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    site = next(Path(sys.prefix).glob("lib/python3.11/site-packages"))
    return subprocess.run(
        [
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            str(SYSTEM_PYTHON),
            "-m",
            "monitor",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd="/tmp",
        env={"PATH": "/usr/bin:/bin", "HOME": "/tmp", "PYTHONPATH": f"{ROOT}:{site}", **(env or {})},
    )


@pytest.fixture(name="private_state")
def private_state_fixture() -> Iterator[Path]:
    """A config anyone may read, whose database sits in a folder only root may enter (in
    /tmp: pytest's own temporary folders are private to root)."""
    folder = Path(tempfile.mkdtemp(prefix="monitor-permissions-", dir="/tmp"))
    folder.chmod(0o755)
    yield _state(folder)
    shutil.rmtree(folder, ignore_errors=True)


def _state(folder: Path) -> Path:
    private = folder / "private"
    private.mkdir(mode=0o700)
    (private / "monitor.db").write_bytes(b"")
    config = folder / "schedules.toml"
    config.write_text(
        f'[monitor]\ntimezone = "UTC"\ndatabase = "{private / "monitor.db"}"\n'
        '[digest]\nrecipients = ["a@example.com"]\nsender = "m@example.com"\ntransport = "file"\n'
    )
    config.chmod(0o644)
    return config


@needs_root
def test_status_without_sudo_says_which_path_and_to_use_sudo(private_state: Path) -> None:
    result = as_nobody("--config", str(private_state), "status")

    assert result.returncode == 1, result.stderr
    assert "readable only by root" in result.stderr and "sudo monitor" in result.stderr
    assert str(private_state.parent / "private") in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1


@needs_root
def test_an_unreadable_secret_file_is_a_sentence_too(private_state: Path) -> None:
    secret = private_state.parent / "private" / "token"
    secret.write_text("sntryu_x")
    config = private_state.parent / "sentry.toml"
    config.write_text(
        private_state.read_text().replace("private/monitor.db", "m.db")
        + '[sentry]\norganization = "o"\nproject = "p"\n'
    )
    config.chmod(0o644)

    result = as_nobody("--config", str(config), "check-config", env={"SENTRY_AUTH_TOKEN_FILE": str(secret)})

    assert result.returncode in (1, 2), result.stderr
    assert str(secret) in result.stderr and "Traceback" not in result.stderr

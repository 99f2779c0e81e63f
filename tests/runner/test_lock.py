"""One `monitor run` per database: a second one is refused and told who holds it."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.core.errors import LockedError
from monitor.runner.lock import DatabaseLock, lock_path

HOLDER = """
import sys, time
from pathlib import Path
from monitor.runner.lock import DatabaseLock
DatabaseLock(Path(sys.argv[1])).acquire()
print("held", flush=True)
time.sleep(60)
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the lock of tmp_path/monitor.db."""
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path / "monitor.db")], stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    yield process
    process.kill()
    process.wait()


def test_a_second_instance_is_refused_and_told_the_holders_pid(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    with pytest.raises(LockedError) as refused:
        DatabaseLock(tmp_path / "monitor.db").acquire()

    assert str(refused.value) == (
        f"Another monitor run (pid {holder.pid}) is using {tmp_path / 'monitor.db'}; stop it first."
    )
    assert refused.value.exit_code == 1


def test_the_lock_is_free_again_once_its_holder_is_killed(
    tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)  # a crash: no chance to clean up
    holder.wait()

    with DatabaseLock(tmp_path / "monitor.db"):
        assert lock_path(tmp_path / "monitor.db").read_text().strip() == str(os.getpid())


def test_a_released_lock_leaves_no_pid_behind_and_is_owner_only(tmp_path: Path) -> None:
    lock = DatabaseLock(tmp_path / "monitor.db")

    with lock:
        pass

    assert lock.path.read_text() == ""
    assert stat.S_IMODE(lock.path.stat().st_mode) == 0o600


def test_two_databases_have_two_locks(tmp_path: Path) -> None:
    with DatabaseLock(tmp_path / "a.db"), DatabaseLock(tmp_path / "b.db"):
        assert lock_path(tmp_path / "a.db") != lock_path(tmp_path / "b.db")

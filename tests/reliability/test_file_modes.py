"""Files holding customer data are born readable by their owner only (0600): the database and
its -wal/-shm files, the reports `--out` writes, the file transport's eml and the demo's
outputs. Every run here happens under umask 022, which alone would give 0644: the mode comes
from the tool, not from the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from monitor.core.timeutil import today
from monitor.simulators.sentry import start_sentry
from tests.poll.sentry_helpers import ORG, PROJECT, TOKEN
from tests.reliability.helpers import (
    run_monitor,
    sentry_base_config,
    sentry_scenario,
    start_monitor,
    wait_until,
)

ENV = {"SENTRY_AUTH_TOKEN": TOKEN}
# Today in the config's zone (BASE_CONFIG: Europe/Amsterdam), as `monitor digest` reckons it;
# the subprocesses read the real clock, so this does too.
TODAY = today(datetime.now(UTC), ZoneInfo("Europe/Amsterdam")).isoformat()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True, scope="module")
def umask_022() -> Iterator[None]:
    """Children inherit the umask: every `monitor` below runs under 022."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


@pytest.fixture(name="polled", scope="module")
def polled_fixture(umask_022: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A config whose database a slowed poll filled: the -wal file existed while it ran."""
    tmp_path = tmp_path_factory.mktemp("polled")
    with start_sentry(sentry_scenario(), token=TOKEN, organization=ORG, project=PROJECT) as sentry:
        config = tmp_path / "schedules.toml"
        config.write_text(sentry_base_config(sentry.base_url))
        sentry.delay = 0.15
        process = start_monitor(config, "poll", "sentry", env=ENV)
        try:
            assert wait_until(lambda: len(sentry.requests) >= 2 or process.poll() is not None)
            database = tmp_path / "monitor.db"
            modes = {suffix: _mode(Path(f"{database}{suffix}")) for suffix in ("", "-wal", "-shm")}
            (tmp_path / "modes-while-polling").write_text(repr(modes))
        finally:
            sentry.delay = 0.0
            assert process.wait(timeout=60) == 0, process.communicate()[1]
        yield config


def test_a_poll_creates_the_database_and_its_wal_and_shm_files_owner_only(polled: Path) -> None:
    seen = (polled.parent / "modes-while-polling").read_text()
    assert seen == repr({"": 0o600, "-wal": 0o600, "-shm": 0o600})
    assert _mode(polled.parent / "monitor.db") == 0o600


def test_a_customer_import_into_a_new_database_creates_it_owner_only(
    tmp_path: Path, write_config: object
) -> None:
    config = write_config()  # type: ignore[operator]
    source = tmp_path / "customers.csv"
    source.write_text("id,email\n1,a@example.com\n")
    assert run_monitor(config, "customers", "import", str(source)).returncode == 0
    assert _mode(tmp_path / "monitor.db") == 0o600


@pytest.mark.parametrize("fmt", ["html", "text", "json", "eml"])
def test_every_report_format_written_with_out_is_owner_only(polled: Path, fmt: str) -> None:
    folder = polled.parent / f"reports-{fmt}"
    folder.mkdir()
    run = run_monitor(polled, "digest", "--date", TODAY, "--format", fmt, "--out", str(folder))
    assert run.returncode == 0, run.stderr
    (written,) = folder.iterdir()
    assert _mode(written) == 0o600


def test_a_world_readable_report_is_replaced_by_an_owner_only_one(polled: Path) -> None:
    target = polled.parent / "digest.html"
    target.write_text("an older report")
    target.chmod(0o644)
    assert run_monitor(polled, "digest", "--date", TODAY, "--out", str(target)).returncode == 0
    assert _mode(target) == 0o600 and "an older report" not in target.read_text()


def test_the_file_transport_writes_an_owner_only_eml(polled: Path) -> None:
    run = run_monitor(polled, "digest", "--date", TODAY, "--send")  # transport = "file", out_dir = "out"
    assert run.returncode == 0, run.stderr
    (eml,) = (polled.parent / "out").iterdir()
    assert eml.suffix == ".eml" and _mode(eml) == 0o600


def test_the_demo_writes_owner_only_outputs(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    run = run_monitor(tmp_path / "unused.toml", "demo", "--out", str(out))
    assert run.returncode == 0, run.stderr
    files = sorted(out.iterdir())
    assert len(files) >= 4
    assert {path.name: _mode(path) for path in files} == {path.name: 0o600 for path in files}

"""`monitor run` as a real process: it polls, refuses a second instance and stops on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.sentry import SentryScenario, start_sentry

TOKEN = "sntrys_test_token_for_the_run_tests"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _config(write_config: Callable[[str], Path], sentry_url: str) -> Path:
    return write_config(
        f"""
        [sentry]
        base_url = "{sentry_url}"
        organization = "gitlab"
        project = "customers"
        [jobs.poll-sentry]
        schedule = "* * * * *"
        [jobs.digest]
        schedule = "* * * * *"
        """
    )


class Daemon:
    """`python -m monitor run` in the background, its log lines collected as they come."""

    def __init__(self, config: Path) -> None:
        env = {**os.environ, "SENTRY_AUTH_TOKEN": TOKEN}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "monitor", "run", "--config", str(config)],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env=env,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip())

    def wait_for(self, text: str, seconds: float) -> float:
        """Seconds until a log line containing `text` appeared."""
        started = time.monotonic()
        while not any(text in line for line in self.lines):
            assert self.process.poll() is None, "\n".join(self.lines)
            assert time.monotonic() - started < seconds, f"no {text!r} in:\n" + "\n".join(self.lines)
            time.sleep(0.05)
        return time.monotonic() - started

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait()


@pytest.fixture
def daemons() -> Iterator[list[Daemon]]:
    started: list[Daemon] = []
    yield started
    for daemon in started:
        daemon.stop()


def _runs(config: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(config.parent / "monitor.db") as conn:
        return conn.execute("SELECT job, outcome FROM job_runs ORDER BY id").fetchall()


def test_sigterm_during_a_poll_stops_cleanly_within_10_seconds(
    write_config: Callable[[str], Path], daemons: list[Daemon]
) -> None:
    # Sentry unreachable: the start-up poll backs off and retries, so SIGTERM finds it mid-wait.
    config = _config(write_config, f"http://127.0.0.1:{_closed_port()}")
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for("could not be reached", seconds=20)

    started = time.monotonic()
    daemon.process.send_signal(signal.SIGTERM)
    code = daemon.process.wait(timeout=10)
    elapsed = time.monotonic() - started

    assert code == 0, "\n".join(daemon.lines)
    assert elapsed < 10
    assert ("poll-sentry", "stopped") in _runs(config)  # on record, as neither success nor failure
    assert (config.parent / "monitor.db.lock").read_text() == ""
    assert any("Stopped." in line for line in daemon.lines)


def test_a_second_monitor_run_on_the_same_database_is_refused(
    write_config: Callable[[str], Path], daemons: list[Daemon], runner: CliRunner
) -> None:
    config = _config(write_config, f"http://127.0.0.1:{_closed_port()}")
    daemon = Daemon(config)
    daemons.append(daemon)
    daemon.wait_for("poll-sentry started", seconds=20)

    result = runner.invoke(main, ["run", "--config", str(config)], env={"SENTRY_AUTH_TOKEN": TOKEN})

    assert result.exit_code == 1
    assert f"Another monitor run (pid {daemon.process.pid}) is using" in result.output
    assert "stop it first" in result.output


def test_missing_secrets_stop_monitor_run_at_start_up(
    write_config: Callable[[str], Path], runner: CliRunner
) -> None:
    config = _config(write_config, "http://127.0.0.1:9")

    result = runner.invoke(main, ["run", "--config", str(config)])

    assert result.exit_code == 2
    assert "SENTRY_AUTH_TOKEN" in result.output


@pytest.mark.slow
def test_every_minute_schedules_poll_within_75_seconds(
    write_config: Callable[[str], Path], daemons: list[Daemon], capsys: pytest.CaptureFixture[str]
) -> None:
    with start_sentry(SentryScenario(), token=TOKEN, organization="gitlab", project="customers") as sentry:
        config = _config(write_config, sentry.base_url)
        # Let the start-up catch-up count as done: a poll succeeded a moment ago.
        subprocess.run(
            [sys.executable, "-m", "monitor", "poll", "sentry", "--config", str(config)],
            env={**os.environ, "SENTRY_AUTH_TOKEN": TOKEN},
            check=True,
            capture_output=True,
        )
        sentry.clear_log()
        daemon = Daemon(config)
        daemons.append(daemon)
        started = time.monotonic()
        daemon.wait_for("poll-sentry started", seconds=75)  # the first scheduled minute
        _wait(lambda: bool(sentry.requests), seconds=10)
        first_request = time.monotonic() - started
        _wait(lambda: _runs(config).count(("poll-sentry", "ok")) == 2, seconds=20)
        daemon.process.send_signal(signal.SIGTERM)
        assert daemon.process.wait(timeout=10) == 0

    polls = [outcome for job, outcome in _runs(config) if job == "poll-sentry"]
    assert polls == ["ok", "ok"], "\n".join(daemon.lines)
    assert first_request < 75
    with capsys.disabled():
        print(f"\nmonitor run: the first scheduled poll reached Sentry {first_request:.1f} s after start")


def _wait(condition: Callable[[], bool], seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)

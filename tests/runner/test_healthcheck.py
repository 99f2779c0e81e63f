"""Dead-man's switch pings: healthchecks.io's conventions, and never a reason for a job to fail."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.config.context import AppContext
from monitor.runner.healthcheck import ping, with_pings
from monitor.runner.jobs import JobResult
from monitor.runner.scheduler import MonitorScheduler
from monitor.simulators.base import Fault, Reply, SimulatorServer

UUID = "5bf66975-d4c7-4bf5-bcc8-b8d8a82ea278"


@pytest.fixture
def pings() -> Iterator[SimulatorServer]:
    with SimulatorServer(lambda request: Reply(200, b"OK", content_type="text/plain")) as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_successful_run_pings_start_then_success_with_one_run_id(pings: SimulatorServer) -> None:
    url = f"{pings.base_url}/{UUID}"

    result = with_pings(url, "poll-sentry", lambda: JobResult(ok=True, summary="3 new events"))

    assert result.ok
    assert [r.path for r in pings.requests] == [f"/{UUID}/start", f"/{UUID}"]
    run_ids = {r.raw_path.split("rid=")[1] for r in pings.requests}
    assert len(run_ids) == 1


def test_a_failed_run_pings_its_exit_code(pings: SimulatorServer) -> None:
    url = f"{pings.base_url}/{UUID}"

    with_pings(url, "digest", lambda: JobResult(ok=False, summary="SMTP refused", exit_code=1))

    assert [r.path for r in pings.requests] == [f"/{UUID}/start", f"/{UUID}/1"]


def test_an_unreachable_ping_service_is_logged_without_its_url_and_the_job_still_succeeds(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/{UUID}"

    with caplog.at_level(logging.WARNING):
        result = with_pings(url, "poll-sentry", lambda: JobResult(ok=True, summary="fine"))

    assert result.ok
    assert "healthcheck ping (start) failed" in caplog.text
    assert UUID not in caplog.text


def test_a_slow_ping_service_gives_up_after_the_timeout(pings: SimulatorServer) -> None:
    pings.inject(Fault(delay=2.0))

    accepted = ping(f"{pings.base_url}/{UUID}", "start", job="digest", run_id="r", timeout=0.2)

    assert accepted is False


def test_the_scheduler_pings_around_each_run_of_a_job_with_a_healthcheck_url(
    write_config: Callable[[str], Path], pings: SimulatorServer
) -> None:
    config = write_config(
        f'[jobs.digest]\nschedule = "0 8 * * *"\nhealthcheck_url = "{pings.base_url}/{UUID}"\n'
    )
    app = AppContext(config_path=config)
    scheduler = MonitorScheduler(
        app, functions={"digest": lambda app, now: JobResult(ok=True, summary="sent")}
    )

    scheduler.run("digest", app.now())

    assert [r.path for r in pings.requests] == [f"/{UUID}/start", f"/{UUID}"]


def test_a_job_without_a_healthcheck_url_pings_nothing(pings: SimulatorServer) -> None:
    result = with_pings("", "digest", lambda: JobResult(ok=True, summary="sent"))

    assert result.ok and pings.requests == []

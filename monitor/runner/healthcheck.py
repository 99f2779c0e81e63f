"""Dead-man's switch pings in the healthchecks.io conventions, for jobs with a `healthcheck_url`.

`<url>/start` when a run starts, `<url>` when it succeeds, `<url>/<exit code>` (or
`<url>/fail`) when it fails, each with `?rid=` so the service pairs start and end. A POST
body carries the run's one-line summary. A ping has a short timeout, is tried once, and its
failure is logged and never fails the job: the monitoring must not become the outage.

The ping URL is a secret (whoever knows it can report success), so it is never logged. This
is why the pings use a plain `requests` call instead of `monitor.sources.http`, whose debug lines
show request URLs."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Literal
from urllib.parse import urlsplit

import requests

from monitor.config.logs import redact
from monitor.runner.jobs import JobResult

log = logging.getLogger(__name__)

PING_TIMEOUT = 5.0  # seconds; a slow monitoring service must not hold up the job
BODY_LIMIT = 10_000  # bytes; what a self-hosted healthchecks keeps by default
Event = Literal["start", "success", "fail"]


def ping_url(url: str, event: Event, exit_code: int = 1) -> str:
    base = url.rstrip("/")
    if event == "start":
        return f"{base}/start"
    if event == "success":
        return base
    return f"{base}/{exit_code}" if 0 < exit_code < 256 else f"{base}/fail"


def keep_out_of_logs(url: str) -> None:
    """Mask the URL's secret part (its path: a UUID or ping key and slug) in every log line,
    including urllib3's debug lines under --verbose."""
    path = urlsplit(url).path.rstrip("/")
    if len(path) >= 8:
        redact(path)


def ping(
    url: str,
    event: Event,
    *,
    job: str,
    run_id: str,
    exit_code: int = 1,
    body: str = "",
    timeout: float = PING_TIMEOUT,
) -> bool:
    """Send one ping; True when the service accepted it. Never raises for network trouble."""
    try:
        response = requests.post(
            ping_url(url, event, exit_code),
            params={"rid": run_id},
            data=body.encode("utf-8")[:BODY_LIMIT],
            headers={"Content-Type": "text/plain; charset=utf-8"},
            timeout=timeout,
        )
    except requests.RequestException as err:
        # The exception text names the URL: log only its kind.
        log.warning("The %s healthcheck ping (%s) failed: %s.", job, event, type(err).__name__)
        return False
    if response.status_code >= 400:
        log.warning("The %s healthcheck ping (%s) was answered %s.", job, event, response.status_code)
        return False
    log.debug("The %s healthcheck ping (%s) was accepted.", job, event)
    return True


def with_pings(
    url: str, job: str, run: Callable[[], JobResult], *, timeout: float = PING_TIMEOUT
) -> JobResult:
    """Run `run` between a start ping and a success or failure ping; no pings without a URL."""
    if not url:
        return run()
    run_id = str(uuid.uuid4())
    ping(url, "start", job=job, run_id=run_id, timeout=timeout)
    try:
        result = run()
    except Exception:
        ping(url, "fail", job=job, run_id=run_id, body=f"{job} crashed", timeout=timeout)
        raise
    if result.ok:
        ping(url, "success", job=job, run_id=run_id, body=result.summary, timeout=timeout)
    else:
        code = result.exit_code or 1
        ping(url, "fail", job=job, run_id=run_id, exit_code=code, body=result.summary, timeout=timeout)
    return result

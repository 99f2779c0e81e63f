"""Shared makings of the reliability tests: real `monitor` subprocesses, database snapshots that
say what a run stored (and nothing about when), and the scenarios the crash, fault and
concurrency tests replay against the simulators over loopback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from monitor.simulators.base import Reply, Request, SimulatorServer
from monitor.simulators.mailgun import MailgunScenario
from monitor.simulators.sentry import SentryScenario
from monitor.store import open_db
from tests.conftest import BASE_CONFIG, SECRET_VARS
from tests.poll.sentry_helpers import NOW, event_id, seed

ROOT = Path(__file__).resolve().parents[2]
BIG_ISSUE = "106"  # the Sentry issue whose events span several pages
BIG_ISSUE_EVENTS = 150  # a full first page (100), then a short one


# --- subprocesses --------------------------------------------------------------------------


def monitor_command(config: Path, *args: str) -> list[str]:
    """`python -m monitor --config CONFIG ARGS`: the real entry point, as cron would run it."""
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def child_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The test's environment without any secret or config variable, plus `extra`."""
    names = set(SECRET_VARS) | {f"{name}_FILE" for name in SECRET_VARS} | {"JOURNAL_STREAM"}
    env = {key: value for key, value in os.environ.items() if key not in names}
    env.update(extra or {})
    return env


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str
    elapsed: float  # seconds, start to exit


def run_monitor(config: Path, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60) -> Run:
    """Run one `monitor` command to its end in a subprocess."""
    started = time.monotonic()
    done = subprocess.run(
        monitor_command(config, *args),
        cwd=ROOT,
        env=child_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    return Run(done.returncode, done.stdout, done.stderr, time.monotonic() - started)


def start_monitor(config: Path, *args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        monitor_command(config, *args),
        cwd=ROOT,
        env=child_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(process: subprocess.Popen[str]) -> None:
    """SIGKILL: no handler, no cleanup, no flush; what a power cut or the OOM killer does."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.communicate(timeout=30)


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("Error:")]


def wait_until(predicate: Callable[[], bool], timeout: float = 20.0, step: float = 0.002) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step)
    return False


# --- what a database holds -----------------------------------------------------------------

Row = tuple[Any, ...]


@dataclass(frozen=True)
class Snapshot:
    """What a run stored, without times: equal snapshots mean the same data."""

    signals: frozenset[Row]  # (source, key, category, linked customer, match, group, url path)
    suppressions: frozenset[Row]  # (list, address, still on the list)
    signal_rows: int  # rows, to show that nothing is there twice
    link_rows: int

    def keys(self, source: str) -> set[str]:
        return {row[1] for row in self.signals if row[0] == source}


def snapshot(db_path: Path) -> Snapshot:
    db = open_db(db_path)
    try:
        signals = [
            (*row[:-1], _path(row[-1]))
            for row in db.execute(
                "SELECT s.source, s.key, s.category, l.customer_id, l.match, s.grp, s.url"
                " FROM signals s LEFT JOIN links l ON l.signal_id = s.id"
            ).fetchall()
        ]
        suppressions = [
            tuple(row)
            for row in db.execute(
                "SELECT list, address_norm, removed_at IS NULL FROM suppressions"
            ).fetchall()
        ]
        links = int(db.execute("SELECT COUNT(*) FROM links").fetchone()[0])
    finally:
        db.close()
    return Snapshot(frozenset(signals), frozenset(suppressions), len(signals), links)


def _path(url: str) -> str:
    """A URL without its scheme and host: each simulator listens on its own port."""
    parts = urlsplit(url)
    return urlunsplit(("", "", parts.path, parts.query, parts.fragment))


def cursors(db_path: Path) -> dict[str, str]:
    db = open_db(db_path)
    try:
        return {name: value for name, value in db.execute("SELECT name, value FROM cursors").fetchall()}
    finally:
        db.close()


# --- Sentry --------------------------------------------------------------------------------


def sentry_scenario(big_events: int = BIG_ISSUE_EVENTS) -> SentryScenario:
    """The seeded scenario of the source tests, plus one issue with several pages of events
    from the same customers: a crash or a fault can then land between two pages."""
    scenario = SentryScenario()
    seed(scenario)
    scenario.add_issue(
        BIG_ISSUE,
        "Zuora::Error: Your card was declined",
        "PaymentsController#create",
        "Zuora::Error",
        "Your card was declined",
    )
    users = [{"id": "48213"}, {"email": "bob@globex.example"}, None, {"id": "77001", "email": "x@gmail.com"}]
    for number in range(big_events):
        scenario.add_event(
            BIG_ISSUE,
            event_id(1000 + number),
            NOW - timedelta(minutes=55) + timedelta(minutes=50) * number / big_events,  # all in the past
            user=users[number % len(users)],
            tags={"transaction": "PaymentsController#create"},
        )
    return scenario


def sentry_base_config(base_url: str, extra: str = "") -> str:
    return (
        BASE_CONFIG
        + f'\n[sentry]\nbase_url = "{base_url}"\norganization = "gitlab"\nproject = "customersgitlabcom"\n'
        + extra
    )


# --- Mailgun -------------------------------------------------------------------------------

MAILGUN_KEY = "key-reliability-0123456789abcdef"
MAILGUN_DOMAIN = "mg.example.test"


def mailgun_scenario(now: float, failures: int = 400, bounces: int = 1100) -> MailgunScenario:
    """Permanent failures over several events pages (300 each) and a bounce list over two
    pages (1000 each), around the customers of the source tests, on the wall clock (the CLI
    polls at the real now). Every event is older than the 30 minutes Mailgun is trusted after."""
    scenario = MailgunScenario(sender_domain=MAILGUN_DOMAIN)
    domains = ("globex.example", "acme.example", "gmail.com", "initech.example")
    for number in range(failures):
        recipient = f"user{number:04d}@{domains[number % len(domains)]}"
        reason = "bounce" if number % 3 else "generic"
        scenario.add_event("failed", recipient, now - 7200 + number, severity="permanent", reason=reason)
    scenario.add_event("failed", "Jane@ACME.example", now - 5400, severity="permanent", reason="bounce")
    scenario.add_event("complained", "carl@acme.example", now - 5000)
    scenario.add_event("unsubscribed", "zoe@gmail.com", now - 4000)
    scenario.add_event("failed", "bob@globex.example", now - 3960, severity="temporary")
    # A generic permanent failure to an address on the bounce list is that bounce: stored once.
    scenario.add_event("failed", "bob@globex.example", now - 3900, severity="permanent", reason="generic")
    created = datetime.fromtimestamp(now - 3 * 3600, UTC)
    for number in range(bounces):
        scenario.add_bounce(f"listed{number:04d}@{domains[number % len(domains)]}", created_at=created)
    bob_listed = datetime.fromtimestamp(now - 3899, UTC)  # listed the second after it failed
    scenario.add_bounce("bob@globex.example", error="5.1.1 No such user", created_at=bob_listed)
    # Mailgun lists an address the moment the complaint or unsubscribe arrives: the entry and
    # its event share their time, so they are one trouble at any hour of the day.
    scenario.add_complaint("carl@acme.example", created_at=datetime.fromtimestamp(now - 5000, UTC))
    scenario.add_unsubscribe("zoe@gmail.com", created_at=datetime.fromtimestamp(now - 4000, UTC))
    return scenario


def mailgun_base_config(base_url: str, extra: str = "") -> str:
    return BASE_CONFIG + f'\n[mailgun]\nbase_url = "{base_url}"\ndomain = "{MAILGUN_DOMAIN}"\n' + extra


# --- rewriting a simulator's answers --------------------------------------------------------


def rewrite_answers(
    server: SimulatorServer, path_contains: str, change: Callable[[Request, Reply], Reply]
) -> Callable[[], None]:
    """Pass the answers to requests whose path contains `path_contains` through `change`
    (a proxy that strips or garbles headers). Returns the function that undoes it."""
    original = server.app

    def app(request: Request) -> Reply:
        reply = original(request)
        return change(request, reply) if path_contains in request.path else reply

    server.app = app

    def undo() -> None:
        server.app = original

    return undo

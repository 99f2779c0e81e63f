"""The fault matrix's runner, shared by both sources.

Every case gets its own seeded simulator on loopback, its own config and database, and a real
`python -m monitor poll <source>` subprocess. Cases run several at a time (they mostly wait on
back-off, not on the CPU). A case whose fault lasts is then polled once more with the fault
gone (the same command, run in this process), so a test can compare what that second poll
completed with an undisturbed run."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.base import Fault, SimulatorServer
from tests.conftest import SECRET_VARS
from tests.reliability.helpers import Run, Snapshot, cursors, run_monitor, snapshot

# Small budgets keep every case short: a first back-off (0.5 to 1 s) fits in 1.2 s, a second does not.
DEFAULT_SETTINGS = {"timeout_seconds": "5", "max_wait_seconds": "1.2"}
WORKERS = 8

Prepare = Callable[[SimulatorServer], Callable[[], None]]  # changes the server; returns the undo


def no_faults() -> list[Fault]:
    return []


@dataclass(frozen=True)
class Case:
    """One row of the matrix. `says` is empty for a passing fault (retried, the poll completes)
    and otherwise a fragment of the one `Error:` line the lasting fault must produce."""

    id: str
    says: str = ""
    exit_code: int = 1
    faults: Callable[[], list[Fault]] = no_faults
    prepare: Prepare | None = None
    settings: Mapping[str, str] = field(default_factory=dict)  # raw TOML values of the source's section
    env: Mapping[str, str] | None = None  # replaces the good secrets for the faulty run
    closed_port: bool = False  # the base_url names a port nobody listens on
    completes: tuple[str, ...] = ()  # cursors a lasting fault still moves (the part that did complete)

    @property
    def lasting(self) -> bool:
        return bool(self.says)


@dataclass(frozen=True)
class Source:
    name: str  # the argument of `monitor poll`
    start: Callable[[], SimulatorServer]  # a started, seeded simulator
    config: Callable[[str, Mapping[str, str]], str]  # (base_url, section settings) -> schedules.toml
    env: Mapping[str, str]  # the good secrets
    seed_db: Callable[[Path], None]  # the customer directory


@dataclass
class Outcome:
    case: Case
    folder: Path
    server: SimulatorServer
    first: Run | None = None
    after_first: Snapshot | None = None
    cursors_after_first: dict[str, str] = field(default_factory=dict)
    requests_first: int = 0
    undo: Callable[[], None] | None = None
    second: Run | None = None  # lasting cases: the poll with the fault gone
    after_second: Snapshot | None = None

    @property
    def db(self) -> Path:
        return self.folder / "monitor.db"

    @property
    def config(self) -> Path:
        return self.folder / "schedules.toml"


UNDISTURBED = Case("undisturbed")  # the baseline every other case is compared with


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"  # closed again: connections are refused


def _write_config(source: Source, outcome: Outcome, broken: bool) -> None:
    case = outcome.case
    url = closed_port_url() if broken and case.closed_port else outcome.server.base_url
    settings = {**DEFAULT_SETTINGS, **(case.settings if broken else {})}
    outcome.config.write_text(source.config(url, settings))


def run_matrix(source: Source, cases: Iterable[Case], factory: pytest.TempPathFactory) -> dict[str, Outcome]:
    """Run every case's faulty poll, then (lasting cases) the poll that completes the data.
    The result also holds `UNDISTURBED.id`: the same scenario polled without any fault."""
    outcomes: dict[str, Outcome] = {}
    for case in [UNDISTURBED, *cases]:
        outcome = Outcome(case, factory.mktemp(f"{source.name}-{case.id}"), source.start())
        source.seed_db(outcome.db)
        _write_config(source, outcome, broken=True)
        for fault in case.faults():
            outcome.server.inject(fault)
        outcome.undo = case.prepare(outcome.server) if case.prepare else None
        outcomes[case.id] = outcome

    def first(outcome: Outcome) -> None:
        env = outcome.case.env if outcome.case.env is not None else source.env
        outcome.first = run_monitor(outcome.config, "poll", source.name, env=env)
        outcome.after_first = snapshot(outcome.db)
        outcome.cursors_after_first = cursors(outcome.db)
        outcome.requests_first = len(outcome.server.requests)

    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(first, outcomes.values()))
    for outcome in outcomes.values():
        if outcome.case.lasting:
            _poll_again(source, outcome)
    return outcomes


def _poll_again(source: Source, outcome: Outcome) -> None:
    """The fault is gone: the same command, in this process (it is quick and needs no budget)."""
    outcome.server.faults.clear()
    if outcome.undo is not None:
        outcome.undo()
    _write_config(source, outcome, broken=False)
    env = {name: None for name in SECRET_VARS} | dict(source.env)
    started = time.monotonic()
    result = CliRunner().invoke(main, ["--config", str(outcome.config), "poll", source.name], env=env)
    outcome.second = Run(result.exit_code, result.stdout, result.stderr, time.monotonic() - started)
    outcome.after_second = snapshot(outcome.db)


def stop_all(outcomes: Mapping[str, Outcome]) -> None:
    """Stop every case's simulator; together, as each takes a poll interval to stop."""
    with ThreadPoolExecutor(WORKERS) as pool:
        list(pool.map(lambda outcome: outcome.server.stop(), outcomes.values()))

"""The crash trials' runner, shared by both sources.

A trial polls into a fresh database with a real `python -m monitor poll <source>` subprocess
against a slowed simulator, SIGKILLs it one or more times at random moments (seeded), then
restarts it until it completes. Kill moments are drawn in the part of the run that matters:
after the k-th answer (k from 0 to the number of requests an undisturbed run makes), plus a
random part of one answer's delay, so kills land while a request is in flight as well as while
a page is being stored."""

from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from monitor.simulators.base import SimulatorServer
from tests.reliability.helpers import (
    Snapshot,
    cursors,
    kill,
    run_monitor,
    snapshot,
    start_monitor,
    wait_until,
)

QUICK_TRIALS = 3  # `make test`
FULL_TRIALS = 20  # `make test-slow`


@dataclass(frozen=True)
class Trial:
    kills: int  # processes killed before one was let finish
    killed_after: tuple[int, ...]  # answers served before each kill
    left_behind: tuple[int, ...]  # signals in the database after each kill
    restarts: int  # runs it took to complete after the last kill
    stored: Snapshot
    cursors: dict[str, str]


def crash_trial(
    rng: random.Random,
    server: SimulatorServer,
    config: Path,
    source: str,
    env: Mapping[str, str],
    requests_per_run: int,
) -> Trial:
    """Kill the poll 1 to 3 times at random moments, then run it to completion."""
    killed_after, left_behind = [], []
    db = config.parent / "monitor.db"
    for _ in range(rng.randint(1, 3)):
        server.clear_log()
        process = start_monitor(config, "poll", source, env=env)
        target = rng.randint(0, requests_per_run)
        wait_until(lambda p=process, n=target: len(server.requests) >= n or p.poll() is not None)
        time.sleep(rng.uniform(0, server.delay))
        killed_after.append(len(server.requests))
        kill(process)
        left_behind.append(snapshot(db).signal_rows)
    restarts = 0
    while True:
        restarts += 1
        run = run_monitor(config, "poll", source, env=env)
        if run.returncode == 0 or restarts == 3:
            break
    assert run.returncode == 0, run.stderr
    return Trial(
        len(killed_after), tuple(killed_after), tuple(left_behind), restarts, snapshot(db), cursors(db)
    )

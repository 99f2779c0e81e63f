"""A Sentry poll killed with SIGKILL at any moment and restarted ends with exactly the data of an
uninterrupted run: every event once, classified and linked the same, nothing twice.

`make test` runs a short sample; `make test-slow` runs 20 trials."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simulators.base import SimulatorServer
from monitor.simulators.sentry import start_sentry
from tests.poll.sentry_helpers import ORG, PROJECT, TOKEN, import_customers
from tests.reliability.crash import FULL_TRIALS, QUICK_TRIALS, Trial, crash_trial
from tests.reliability.helpers import Snapshot, run_monitor, sentry_base_config, sentry_scenario, snapshot

ENV = {"SENTRY_AUTH_TOKEN": TOKEN}
SEED = 20261124
# 26 pages of one issue's events, besides the issue list and five small issues: more than one
# write batch (the source stores about 2,000 signals per transaction), so kills land between
# committed batches as well as before the first.
BIG_EVENTS = 2600
DELAY = 0.015  # seconds before every answer: a slow Sentry leaves time to be killed mid-request


@pytest.fixture(scope="module")
def sentry() -> Iterator[SimulatorServer]:
    with start_sentry(sentry_scenario(BIG_EVENTS), token=TOKEN, organization=ORG, project=PROJECT) as server:
        server.delay = DELAY
        yield server


def _fresh(folder: Path, server: SimulatorServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "schedules.toml"
    config.write_text(sentry_base_config(server.base_url))
    import_customers(folder / "monitor.db")
    return config


@pytest.fixture(scope="module")
def uninterrupted(sentry: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, int]:
    """The reference: the same poll, never killed; and how many requests it makes."""
    config = _fresh(tmp_path_factory.mktemp("uninterrupted"), sentry)
    sentry.clear_log()
    run = run_monitor(config, "poll", "sentry", env=ENV)
    assert run.returncode == 0, run.stderr
    stored = snapshot(config.parent / "monitor.db")
    assert len(stored.keys("sentry")) == 7 + BIG_EVENTS
    return stored, len(sentry.requests)


def _trials(
    count: int, sentry: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> list[Trial]:
    expected, requests = uninterrupted
    trials = []
    for number in range(count):
        rng = random.Random(SEED + number)
        config = _fresh(tmp_path / f"trial-{number}", sentry)
        trial = crash_trial(rng, sentry, config, "sentry", ENV, requests)
        assert trial.stored == expected, (number, trial.killed_after)
        assert trial.stored.signal_rows == expected.signal_rows  # no event stored twice
        assert trial.stored.link_rows == expected.link_rows  # no event linked twice
        assert set(trial.cursors) == {"sentry"}
        trials.append(trial)
    return trials


def test_a_poll_killed_at_random_moments_and_restarted_stores_exactly_the_uninterrupted_data(
    sentry: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> None:
    _trials(QUICK_TRIALS, sentry, uninterrupted, tmp_path)


@pytest.mark.slow
def test_twenty_polls_killed_at_random_moments_each_end_with_exactly_the_uninterrupted_data(
    sentry: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> None:
    trials = _trials(FULL_TRIALS, sentry, uninterrupted, tmp_path)
    # The kills were real interruptions: some left part of the data behind, to be completed.
    total = uninterrupted[0].signal_rows
    assert any(0 < left < total for trial in trials for left in trial.left_behind)

"""A Mailgun poll (suppression lists, then events) killed with SIGKILL at any moment and
restarted ends with exactly the data of an uninterrupted run: every bounce, complaint,
unsubscribe and permanent failure once, with the same category and link, and the same
suppression list entries, none of them wrongly recorded as removed.

`make test` runs a short sample; `make test-slow` runs 20 trials."""

from __future__ import annotations

import random
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.simulators.base import SimulatorServer
from monitor.simulators.mailgun import start_mailgun
from monitor.sources.mailgun_parse import CURSOR
from tests.poll.mailgun_helpers import import_customers
from tests.reliability.crash import FULL_TRIALS, QUICK_TRIALS, Trial, crash_trial
from tests.reliability.helpers import (
    MAILGUN_DOMAIN,
    MAILGUN_KEY,
    Snapshot,
    mailgun_base_config,
    mailgun_scenario,
    run_monitor,
    snapshot,
)

ENV = {"MAILGUN_API_KEY": MAILGUN_KEY}
SEED = 20261125
DELAY = 0.02  # seconds before every answer: a slow Mailgun leaves time to be killed mid-request


@pytest.fixture(scope="module")
def mailgun() -> Iterator[SimulatorServer]:
    # Two bounce list pages and ten events pages (the last one empty), besides the other lists:
    # more than one write batch (about 2,000 signals per transaction).
    scenario = mailgun_scenario(time.time(), failures=2600, bounces=1100)
    with start_mailgun(scenario, api_key=MAILGUN_KEY, domain=MAILGUN_DOMAIN) as server:
        server.delay = DELAY
        yield server


def _fresh(folder: Path, server: SimulatorServer) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "schedules.toml"
    config.write_text(mailgun_base_config(server.base_url))
    import_customers(folder / "monitor.db")
    return config


@pytest.fixture(scope="module")
def uninterrupted(mailgun: SimulatorServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[Snapshot, int]:
    """The reference: the same poll, never killed; and how many requests it makes."""
    config = _fresh(tmp_path_factory.mktemp("uninterrupted"), mailgun)
    mailgun.clear_log()
    run = run_monitor(config, "poll", "mailgun", env=ENV)
    assert run.returncode == 0, run.stderr
    stored = snapshot(config.parent / "monitor.db")
    assert len(stored.suppressions) == 1100 + 3
    return stored, len(mailgun.requests)


def _trials(
    count: int, mailgun: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> list[Trial]:
    expected, requests = uninterrupted
    trials = []
    for number in range(count):
        rng = random.Random(SEED + number)
        config = _fresh(tmp_path / f"trial-{number}", mailgun)
        trial = crash_trial(rng, mailgun, config, "mailgun", ENV, requests)
        assert trial.stored == expected, (number, trial.killed_after)
        assert trial.stored.signal_rows == expected.signal_rows  # nothing stored twice
        assert trial.stored.link_rows == expected.link_rows  # nothing linked twice
        assert set(trial.cursors) == {CURSOR}
        trials.append(trial)
    return trials


def test_a_poll_killed_at_random_moments_and_restarted_stores_exactly_the_uninterrupted_data(
    mailgun: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> None:
    _trials(QUICK_TRIALS, mailgun, uninterrupted, tmp_path)


@pytest.mark.slow
def test_twenty_polls_killed_at_random_moments_each_end_with_exactly_the_uninterrupted_data(
    mailgun: SimulatorServer, uninterrupted: tuple[Snapshot, int], tmp_path: Path
) -> None:
    trials = _trials(FULL_TRIALS, mailgun, uninterrupted, tmp_path)
    # The kills were real interruptions: some left part of the data behind, to be completed.
    total = uninterrupted[0].signal_rows
    assert any(0 < left < total for trial in trials for left in trial.left_behind)

"""A `monitor poll` started by hand while another poll (what `monitor run` does on schedule) is
polling the same database, against slowed simulators: both finish with exit 0 (a writer waits
for the other's transaction, SQLite's busy timeout), the database stays intact, and it holds
exactly what one undisturbed poll stores: nothing twice, nothing lost."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from monitor.simulators.base import SimulatorServer
from monitor.simulators.mailgun import start_mailgun
from monitor.simulators.sentry import start_sentry
from monitor.store import open_db
from tests.poll.sentry_helpers import ORG, PROJECT, TOKEN, import_customers
from tests.reliability.helpers import (
    MAILGUN_DOMAIN,
    MAILGUN_KEY,
    Snapshot,
    mailgun_base_config,
    mailgun_scenario,
    run_monitor,
    sentry_scenario,
    snapshot,
    start_monitor,
    wait_until,
)

ENV = {"SENTRY_AUTH_TOKEN": TOKEN, "MAILGUN_API_KEY": MAILGUN_KEY}


@dataclass(frozen=True)
class Services:
    sentry: SimulatorServer
    mailgun: SimulatorServer

    def requests(self) -> int:
        return len(self.sentry.requests) + len(self.mailgun.requests)


@pytest.fixture(scope="module")
def services() -> Iterator[Services]:
    mail = mailgun_scenario(time.time(), failures=650, bounces=300)
    with (
        start_sentry(sentry_scenario(350), token=TOKEN, organization=ORG, project=PROJECT) as sentry,
        start_mailgun(mail, api_key=MAILGUN_KEY, domain=MAILGUN_DOMAIN) as mailgun,
    ):
        yield Services(sentry, mailgun)


def _fresh(folder: Path, services: Services) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "schedules.toml"
    sentry = f'\n[sentry]\nbase_url = "{services.sentry.base_url}"\norganization = "{ORG}"\n'
    sentry += f'project = "{PROJECT}"\n'
    config.write_text(mailgun_base_config(services.mailgun.base_url, sentry))
    import_customers(folder / "monitor.db")
    return config


@pytest.fixture(scope="module")
def undisturbed(services: Services, tmp_path_factory: pytest.TempPathFactory) -> Snapshot:
    config = _fresh(tmp_path_factory.mktemp("undisturbed"), services)
    run = run_monitor(config, "poll", env=ENV)
    assert run.returncode == 0, run.stderr
    return snapshot(config.parent / "monitor.db")


@pytest.mark.parametrize("head_start", [2, 9], ids=lambda n: f"after-{n}-answers")
def test_a_poll_by_hand_during_a_scheduled_poll_neither_corrupts_nor_duplicates(
    services: Services, undisturbed: Snapshot, tmp_path: Path, head_start: int
) -> None:
    config = _fresh(tmp_path, services)
    services.sentry.delay = services.mailgun.delay = 0.03
    try:
        before = services.requests()
        scheduled = start_monitor(config, "poll", env=ENV)
        wait_until(lambda: services.requests() - before >= head_start or scheduled.poll() is not None)
        by_hand = run_monitor(config, "poll", env=ENV)
        scheduled_out, scheduled_err = scheduled.communicate(timeout=60)
    finally:
        services.sentry.delay = services.mailgun.delay = 0.0
    assert scheduled.returncode == 0, scheduled_err
    assert by_hand.returncode == 0, by_hand.stderr
    assert "sentry: ok" in scheduled_out and "mailgun: ok" in by_hand.stdout
    db = open_db(tmp_path / "monitor.db")
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        outcomes = db.execute("SELECT job, outcome FROM job_runs WHERE job LIKE 'poll-%'").fetchall()
    finally:
        db.close()
    assert sorted(outcomes) == sorted([("poll-sentry", "ok"), ("poll-mailgun", "ok")] * 2)
    stored = snapshot(tmp_path / "monitor.db")
    assert stored == undisturbed
    assert stored.signal_rows == undisturbed.signal_rows and stored.link_rows == undisturbed.link_rows

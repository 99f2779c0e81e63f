"""Both simulators serving one data set on loopback, timed, with the settings and secrets
the monitor needs to poll them."""

from __future__ import annotations

import gc
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

import requests

from benchmarks import Scale, TimedApp, progress, timed, timed_server
from benchmarks.data import insert_customers, mailgun_scenario, sentry_scenario
from monitor.config.context import AppContext
from monitor.config.load import Secrets
from monitor.config.secrets import Secret
from monitor.config.settings import MailgunSettings, MonitorSettings, SentrySettings, Settings
from monitor.simulators.base import SimulatorServer
from monitor.simulators.mailgun import DEFAULT_API_KEY, DEFAULT_DOMAIN, start_mailgun
from monitor.simulators.sentry import start_sentry
from monitor.store import open_db

SENTRY_TOKEN = "sntryu_benchmark"
ORGANIZATION = "gitlab"
PROJECT = "customersgitlabcom"
PROJECT_ID = "4502071"  # `project=` takes the numeric ID; the monitor resolves the slug, the floor knows it


@dataclass(frozen=True)
class DataSize:
    sentry_issues: int
    sentry_events_per_issue: int
    mailgun_events: int
    mailgun_bounces: int
    customers: int

    @classmethod
    def of(cls, scale: Scale, fraction: int = 1) -> DataSize:
        return cls(
            max(scale.sentry_issues // fraction, 1),
            scale.sentry_events_per_issue,
            scale.mailgun_events // fraction,
            scale.mailgun_bounces // fraction,
            scale.poll_customers,
        )

    @property
    def events(self) -> int:
        """Records a full poll reads: Sentry events, Mailgun events and bounces."""
        return self.sentry_issues * self.sentry_events_per_issue + self.mailgun_events + self.mailgun_bounces


class Simulators:
    """Sentry and Mailgun simulators serving `size`, each app wrapped in a TimedApp."""

    def __init__(self, size: DataSize, now: datetime) -> None:
        self.size, self.now = size, now
        seconds, scenario = timed(
            lambda: sentry_scenario(size.sentry_issues, size.sentry_events_per_issue, size.customers, now)
        )
        self.sentry: SimulatorServer = start_sentry(
            scenario, token=SENTRY_TOKEN, organization=ORGANIZATION, project=PROJECT, project_id=PROJECT_ID
        )
        mail_seconds, mail = timed(
            lambda: mailgun_scenario(size.mailgun_events, size.mailgun_bounces, size.customers, now)
        )
        self.mailgun: SimulatorServer = start_mailgun(mail)
        self.timers: dict[str, TimedApp] = {
            "sentry": timed_server(self.sentry),
            "mailgun": timed_server(self.mailgun),
        }
        progress(f"data: {size.events:,} records generated in {seconds + mail_seconds:.1f} s")
        self._warm_up()
        # The servers' data (millions of objects) lives in this process, where no monitor's
        # would: frozen out of the garbage collector's reach, it is not scanned again by every
        # full collection, which charged each side for its own allocations about 10 % more.
        # Never unfrozen: simulators nest (the latency topic's inside the poll's), and frozen
        # objects are still freed when their last reference goes.
        gc.collect()
        gc.freeze()

    def __enter__(self) -> Simulators:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.sentry.stop()
        self.mailgun.stop()

    def _warm_up(self) -> None:
        """Let each simulator build its caches (orderings, sorted events) before anything is timed."""
        with requests.Session() as session:
            session.get(
                f"{self.sentry.base_url}/api/0/organizations/{ORGANIZATION}/issues/",
                params={"project": PROJECT_ID, "statsPeriod": "14d"},
                headers={"Authorization": f"Bearer {SENTRY_TOKEN}"},
                timeout=60,
            )
            base = f"{self.mailgun.base_url}/v3/{DEFAULT_DOMAIN}"
            for path in ("events", "bounces"):
                session.get(f"{base}/{path}", auth=("api", DEFAULT_API_KEY), timeout=60)
        self.reset()

    def reset(self) -> None:
        for timer in self.timers.values():
            timer.reset()

    def requests(self, source: str) -> int:
        """Requests served so far by one simulator (its request log)."""
        return len((self.sentry if source == "sentry" else self.mailgun).requests)

    def settings(self, database: Path) -> Settings:
        return Settings(
            monitor=MonitorSettings(database=database),
            sentry=SentrySettings(base_url=self.sentry.base_url, organization=ORGANIZATION, project=PROJECT),
            # The Events API, whose 300-item pages the floors read too: the same pages both sides.
            mailgun=MailgunSettings(
                base_url=self.mailgun.base_url, domain=DEFAULT_DOMAIN, events_api="events"
            ),
        )

    def app(self, database: Path) -> AppContext:
        """A monitor with a fresh database holding the customer directory (not timed)."""
        for stale in (
            database,
            database.with_name(database.name + "-wal"),
            database.with_name(database.name + "-shm"),
        ):
            stale.unlink(missing_ok=True)
        settings = self.settings(database)
        secrets = Secrets(sentry_token=Secret(SENTRY_TOKEN), mailgun_key=Secret(DEFAULT_API_KEY))
        app = AppContext(config_path=database.parent / "schedules.toml", _settings=settings, _secrets=secrets)
        app._db = open_db(database)
        insert_customers(app._db.conn, self.size.customers, self.now)
        return app

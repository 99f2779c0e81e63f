"""`monitor demo`: the whole job on this machine, with no accounts, secrets or config file.

Starts the bundled Sentry and Mailgun simulators and an SMTP server on free loopback ports,
serves them a deterministic sample, then runs the real path: customer import, a poll of
both sources, the digest built, rendered and sent over SMTP. Everything lives in a temporary
folder except the results written to `out_dir`."""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.context import AppContext
from monitor.config.load import Secrets, settings_from_mapping
from monitor.config.secrets import Secret
from monitor.config.settings import Settings
from monitor.core.errors import MonitorError
from monitor.core.timeutil import today, yesterday
from monitor.demo.sample import Sample, build_sample, customers_csv
from monitor.demo.smtp_sink import SmtpSink
from monitor.digest.delivery import write_private
from monitor.digest.job import build_day, send_day
from monitor.digest.render import render
from monitor.runner.jobs import JobResult, run_job
from monitor.simulators.demo_seed import seed_mailgun, seed_sentry
from monitor.simulators.mailgun import MailgunScenario, start_mailgun
from monitor.simulators.sentry import SentryScenario, start_sentry
from monitor.store.customer_import import import_customers

# Credentials of the local simulators only; they open nothing real.
DEMO_TOKEN = "demo-sentry-token"  # noqa: S105
DEMO_KEY = "demo-mailgun-key"
ORG, PROJECT, DOMAIN = "gitlab", "customersgitlabcom", "customers.gitlab.example"
TIMEZONE = "Europe/Amsterdam"
RECIPIENTS = ["billing-support@example.com", "support-lead@example.com"]

Echo = Callable[[str], None]


@dataclass(frozen=True)
class DemoResult:
    day: date
    files: dict[str, Path]
    digest: dict[str, Any]
    polls: list[JobResult]
    messages_received: int


def demo_settings_data(work: Path, sentry_url: str, mailgun_url: str, smtp_port: int) -> dict[str, Any]:
    return {
        "monitor": {"timezone": TIMEZONE, "database": str(work / "demo.db")},
        "sentry": {"base_url": sentry_url, "organization": ORG, "project": PROJECT},
        "mailgun": {"base_url": mailgun_url, "domain": DOMAIN},
        "digest": {
            "recipients": RECIPIENTS,
            "sender": "CustomersDot monitor <monitor@example.com>",
            "transport": "smtp",
            "out_dir": str(work / "out"),
        },
        "smtp": {"host": "127.0.0.1", "port": smtp_port, "security": "none"},
    }


@contextmanager
def local_services(sample: Sample) -> Iterator[tuple[str, str, SmtpSink]]:
    """The two simulators and the SMTP sink, seeded and listening on loopback."""
    with ExitStack() as stack:
        sentry_scenario = SentryScenario()
        seed_sentry(sentry_scenario, sample)
        sentry = stack.enter_context(
            start_sentry(sentry_scenario, token=DEMO_TOKEN, organization=ORG, project=PROJECT)
        )
        mailgun_scenario = MailgunScenario()
        seed_mailgun(mailgun_scenario, sample)
        mailgun = stack.enter_context(start_mailgun(mailgun_scenario, api_key=DEMO_KEY, domain=DOMAIN))
        smtp = stack.enter_context(SmtpSink())
        yield sentry.base_url, mailgun.base_url, smtp


def run_demo(out_dir: Path, echo: Echo, now: datetime | None = None) -> DemoResult:
    now = now or datetime.now(UTC)
    with tempfile.TemporaryDirectory(prefix="monitor-demo-") as temp:
        work = Path(temp)
        zone = ZoneInfo(TIMEZONE)
        sample = build_sample(today(now, zone), zone)
        with local_services(sample) as (sentry_url, mailgun_url, smtp):
            echo(f"Local Sentry at {sentry_url}, Mailgun at {mailgun_url}, SMTP at 127.0.0.1:{smtp.port}")
            data = demo_settings_data(work, sentry_url, mailgun_url, smtp.port)
            settings = settings_from_mapping(data, base_dir=work, source="the demo")
            secrets = Secrets(sentry_token=Secret(DEMO_TOKEN), mailgun_key=Secret(DEMO_KEY))
            app = AppContext(config_path=work / "demo.toml", _settings=settings, _secrets=secrets)
            csv_path = work / "customers.csv"
            csv_path.write_text(customers_csv(sample), encoding="utf-8")
            imported = import_customers(app.db(), csv_path, now)
            echo(f"Imported {imported.imported} customers")
            polls = [_poll(app, job, now, echo) for job in ("poll-sentry", "poll-mailgun")]
            day = yesterday(now, settings.zone)
            sent = send_day(app, day, now)
            if not sent.ok:
                raise MonitorError(f"The demo digest was not sent: {sent.summary}")
            echo(sent.summary)
            digest = build_day(app, day, now)
            files = _write_outputs(out_dir, digest, settings, now, smtp)
            return DemoResult(day, files, digest, polls, len(smtp.raw_messages))


def _poll(app: AppContext, job: str, now: datetime, echo: Echo) -> JobResult:
    result = run_job(app, job, now)
    echo(result.summary)
    if not result.ok:
        raise MonitorError(f"The demo's {job} failed: {result.summary}")
    return result


def _write_outputs(
    out_dir: Path, digest: dict[str, Any], settings: Settings, now: datetime, smtp: SmtpSink
) -> dict[str, Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {}
    for fmt, name in (("html", "digest.html"), ("text", "digest.txt"), ("json", "digest.json")):
        files[fmt] = out_dir / name
        write_private(files[fmt], render(digest, settings, fmt, now))
    received = smtp.raw_messages
    if received:
        files["eml"] = out_dir / "digest.eml"
        write_private(files["eml"], received[0][1])
    return files


def top_customers_table(digest: dict[str, Any], limit: int = 8) -> list[str]:
    rows = [f"{'score':>5}  {'customer':<8}  {'name':<20}  {'match':<11}  signals"]
    for customer in digest["customers"][:limit]:
        kinds = ", ".join(f"{s['category']} x{s['count']}" for s in customer["signals"])
        name = (customer.get("name") or customer.get("email") or "")[:20]
        score, customer_id, match = customer["score"], customer["customer_id"], customer["match"]
        rows.append(f"{score:>5.2f}  {customer_id:<8}  {name:<20}  {match:<11}  {kinds}")
    return rows

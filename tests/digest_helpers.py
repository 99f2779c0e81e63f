"""Shared makings of the digest tests: a config with both sources, customers and signals in a
real SQLite file, a real SMTP server (aiosmtpd) on a free loopback port."""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import textwrap
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlite_utils import Database

from monitor.config.load import load_settings
from monitor.config.settings import Settings
from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.signals import save_signals
from tests.store_helpers import save_customers

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)  # the morning after DAY, when the digest goes out
DAY = date(2026, 11, 23)
NOON = datetime(2026, 11, 23, 11, 0, tzinfo=UTC)  # 12:00 in Amsterdam on DAY

# DAY is fixed, and several tests send it with `monitor digest --date` in a subprocess that
# reads the real clock: retention reaches back past it, or from 90 days after DAY (February
# 2027) the command would rightly refuse DAY as purged and those tests would fail by date.
CONFIG = """
[monitor]
timezone = "Europe/Amsterdam"
database = "monitor.db"
retention_days = 36500

[sentry]
organization = "gitlab"
project = "customersgitlabcom"

[mailgun]
domain = "customers.gitlab.com"

[digest]
recipients = ["support@example.com", "billing@example.com"]
sender = "CustomersDot monitor <monitor@example.com>"
transport = "file"
out_dir = "out"
"""


def write_settings(folder: Path, extra: str = "", base: str = CONFIG) -> Settings:
    path = folder / "schedules.toml"
    path.write_text(textwrap.dedent(base) + "\n" + textwrap.dedent(extra))
    return load_settings(path)


def new_db(settings: Settings) -> Database:
    return open_db(settings.monitor.database)


def add_customers(db: Database, *customers: Customer) -> None:
    save_customers(db, customers, NOW)


def sentry(
    key: str,
    at: datetime,
    category: str = "address_or_card",
    *,
    customer_ref: str | None = None,
    email: str | None = None,
    group: str = "4101",
    title: str = "Zuora::Error: Postal code is invalid",
    name: str | None = None,
) -> Signal:
    return Signal(
        source="sentry",
        key=key,
        category=category,
        occurred_at=at,
        title=title,
        group=group,
        url=f"https://sentry.io/organizations/gitlab/issues/{group}/events/{key}/",
        customer_ref=customer_ref,
        email=email,
        name=name,
    )


def mail(
    key: str, at: datetime, category: str, email: str, title: str = "550 5.1.1 mailbox unavailable"
) -> Signal:
    return Signal(
        source="mailgun",
        key=key,
        category=category,
        occurred_at=at,
        title=title,
        group=f"{category}:{email}",
        email=email,
    )


def save(db: Database, *signals: Signal, now: datetime = NOW) -> None:
    save_signals(db, list(signals), now=now)


def seed_day(db: Database) -> None:
    """A small, realistic day: a customer hit by both sources, one by a card error only, one
    weakly matched by domain, and an address that matches nobody."""
    add_customers(
        db,
        Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme Corp"),
        Customer("48214", "bob@globex.example", "Bob", "Smith", "Globex"),
        Customer("48215", "ann@initech.example", "Ann", "Lee", "Initech"),
    )
    save(
        db,
        sentry("e1", NOON, customer_ref="48213", email="jane@acme.example"),
        sentry("e2", NOON + timedelta(minutes=20), customer_ref="48213", email="jane@acme.example"),
        mail("b1", NOON + timedelta(hours=1), "bounce", "jane@acme.example"),
        sentry("e3", NOON, "other_purchase_error", customer_ref="48214", group="4105", title="NoMethodError"),
        mail("u1", NOON, "unsubscribe", "someone@initech.example", title="unsubscribed"),
        mail("x1", NOON, "bounce", "old.contact@gmail.com", title="550 no such user"),
    )


def free_port() -> int:
    """A port nothing listens on (aiosmtpd's Controller cannot take port 0)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Sink:
    """An aiosmtpd handler that keeps every message it accepts."""

    delay: float = 0.0
    received: list[dict[str, Any]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(
            {"from": envelope.mail_from, "to": list(envelope.rcpt_tos), "data": bytes(envelope.content)}
        )
        return "250 OK"

    def per_recipient(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for message in self.received:
            for recipient in message["to"]:
                counts[recipient] = counts.get(recipient, 0) + 1
        return counts


@contextmanager
def smtp_server(
    port: int | None = None, sink: Sink | None = None, **kwargs: Any
) -> Iterator[tuple[Controller, Sink]]:
    sink = sink or Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    try:
        yield controller, sink
    finally:
        controller.stop()


def self_signed_cert(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost made by openssl, for the TLS tests."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def wait_until(predicate: Any, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.01)
    return False

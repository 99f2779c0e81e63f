"""Secrets never leak: distinctive secret values, given the three supported ways (environment,
`<VAR>_FILE`, `$CREDENTIALS_DIRECTORY`), go through real runs (polls that work and polls that
are refused, a digest sent over SMTP with a login and one refused, all with `--verbose`, so
HTTP debug logging and tracebacks are on), then every stream and every file those runs wrote
is searched for them, raw and in the encodings that go on the wire."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest

from monitor.simulators.base import SimulatorServer
from monitor.simulators.mailgun import start_mailgun
from monitor.simulators.sentry import start_sentry
from tests.digest.test_delivery import _authenticator
from tests.digest_helpers import smtp_server
from tests.poll.sentry_helpers import ORG, PROJECT, event_id, import_customers
from tests.reliability.helpers import (
    BIG_ISSUE,
    MAILGUN_DOMAIN,
    Run,
    kill,
    mailgun_scenario,
    run_monitor,
    sentry_scenario,
    start_monitor,
    wait_until,
)

SENTRY_TOKEN = "sntryu_CANARY7f3a9c1e_sentry_token"
MAILGUN_KEY = "key-CANARY91b2d4f6-mailgun"
SMTP_PASSWORD = "CANARY-55e1a0c3-smtp-password"
WRONG = {
    "SENTRY_AUTH_TOKEN": "sntryu_CANARYwrong0000_sentry",
    "MAILGUN_API_KEY": "key-CANARYwrong1111-mailgun",
    "SMTP_PASSWORD": "CANARYwrong2222-smtp",
}
SECRETS = [SENTRY_TOKEN, MAILGUN_KEY, SMTP_PASSWORD, *WRONG.values()]


def _needles() -> list[bytes]:
    """Each secret raw, and as it is encoded on the wire: HTTP Basic `api:<key>` and SMTP
    AUTH PLAIN/LOGIN in base64, so a logged header or SMTP dialogue would be found too."""
    needles = []
    for secret in SECRETS:
        needles.append(secret.encode())
        needles.append(base64.b64encode(f"api:{secret}".encode()))
        needles.append(base64.b64encode(f"\0monitor\0{secret}".encode()))
        needles.append(base64.b64encode(secret.encode()))
    return needles


@dataclass
class Evidence:
    site: Path  # the folder with the config, database and outputs
    runs: dict[str, Run] = field(default_factory=dict)
    cmdline: bytes = b""


def _config(site: Path, sentry: SimulatorServer, mailgun: SimulatorServer, smtp_port: int) -> Path:
    config = site / "schedules.toml"
    config.write_text(
        f"""
[monitor]
timezone = "UTC"
database = "data/monitor.db"

[sentry]
base_url = "{sentry.base_url}"
organization = "{ORG}"
project = "{PROJECT}"

[mailgun]
base_url = "{mailgun.base_url}"
domain = "{MAILGUN_DOMAIN}"

[digest]
recipients = ["support@example.com"]
sender = "Monitor <monitor@example.com>"
transport = "smtp"
out_dir = "reports/out"

[smtp]
host = "127.0.0.1"
port = {smtp_port}
username = "monitor"
timeout_seconds = 5
"""
    )
    return config


def _secret_sources(vault: Path) -> dict[str, str]:
    """SENTRY_AUTH_TOKEN in the environment, MAILGUN_API_KEY in a file, SMTP_PASSWORD as a
    systemd credential: the three ways, in one run."""
    (vault / "mailgun.key").write_text(MAILGUN_KEY + "\n")
    credentials = vault / "credentials"
    credentials.mkdir()
    (credentials / "smtp_password").write_text(SMTP_PASSWORD)
    return {
        "SENTRY_AUTH_TOKEN": SENTRY_TOKEN,
        "MAILGUN_API_KEY_FILE": str(vault / "mailgun.key"),
        "CREDENTIALS_DIRECTORY": str(credentials),
    }


def _runs(evidence: Evidence, config: Path, good: dict[str, str], sentry: SimulatorServer) -> None:
    today = datetime.now(UTC).date().isoformat()
    (evidence.site / "reports").mkdir()
    runs = evidence.runs
    runs["check-config"] = run_monitor(config, "check-config", "-v", env=good)
    runs["check-config-online"] = run_monitor(config, "check-config", "--online", "-v", env=good)
    wrong = {key: WRONG.get(key, value) for key, value in {**good, "MAILGUN_API_KEY": ""}.items()}
    runs["check-config-online-refused"] = run_monitor(config, "check-config", "--online", "-v", env=wrong)
    runs["poll"] = run_monitor(config, "poll", "-v", env=good)
    runs["poll-refused"] = run_monitor(
        config,
        "poll",
        "-v",
        env={
            **good,
            "SENTRY_AUTH_TOKEN": WRONG["SENTRY_AUTH_TOKEN"],
            "MAILGUN_API_KEY": WRONG["MAILGUN_API_KEY"],
        },
    )
    runs["digest-send"] = run_monitor(config, "digest", "-v", "--date", today, "--send", env=good)
    runs["digest-refused"] = run_monitor(
        config,
        "digest",
        "-v",
        "--date",
        today,
        "--resend",
        env={**good, "SMTP_PASSWORD": WRONG["SMTP_PASSWORD"]},
    )
    readers = {
        **{
            f"digest-{fmt}": (
                "digest",
                "--date",
                today,
                "--format",
                fmt,
                "--out",
                str(evidence.site / "reports"),
            )
            for fmt in ("html", "text", "json", "eml")
        },
        "status": ("status", "--json", "-v"),
        "lookup": ("lookup", "48213", "--json", "-v"),
    }
    with ThreadPoolExecutor(len(readers)) as pool:  # they only read the database: run them together
        done = pool.map(lambda args: run_monitor(config, *args, env=good), readers.values())
        runs.update(zip(readers, done, strict=True))
    # A poll caught in the middle (a new event makes it read the big issue again): its command
    # line is read while it runs, then it is killed, leaving the -wal file behind to be searched.
    sentry.app.scenario.add_event(  # type: ignore[attr-defined]
        BIG_ISSUE, event_id(9999), datetime.now(UTC), user={"id": "48213"}
    )
    sentry.delay = 0.3
    sentry.clear_log()
    process = start_monitor(config, "poll", "sentry", "-v", env=good)
    wait_until(lambda: len(sentry.requests) >= 1 or process.poll() is not None)
    evidence.cmdline = Path(f"/proc/{process.pid}/cmdline").read_bytes()
    time.sleep(0.1)
    kill(process)
    sentry.delay = 0.0


@pytest.fixture(scope="module")
def evidence(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Evidence]:
    site = tmp_path_factory.mktemp("site")
    vault = tmp_path_factory.mktemp("vault")  # where the secret files live: not searched
    good = _secret_sources(vault)
    auth = _authenticator("monitor", SMTP_PASSWORD)
    with (
        start_sentry(sentry_scenario(), token=SENTRY_TOKEN, organization=ORG, project=PROJECT) as sentry,
        start_mailgun(
            mailgun_scenario(time.time(), failures=40, bounces=20), api_key=MAILGUN_KEY, domain=MAILGUN_DOMAIN
        ) as mailgun,
        smtp_server(authenticator=auth, auth_require_tls=False) as (controller, sink),
    ):
        config = _config(site, sentry, mailgun, controller.port)
        import_customers(site / "data" / "monitor.db")
        found = Evidence(site)
        _runs(found, config, good, sentry)
        found.runs["smtp-received"] = Run(0, "", "", 0.0) if sink.received else Run(1, "", "", 0.0)
        yield found


def test_the_runs_used_the_secrets_and_the_refusals_were_real(evidence: Evidence) -> None:
    runs = evidence.runs
    assert runs["check-config"].returncode == 0, runs["check-config"].stderr
    assert runs["check-config-online"].returncode == 0, runs["check-config-online"].stderr
    assert runs["check-config-online-refused"].returncode == 1
    assert runs["poll"].returncode == 0, runs["poll"].stderr
    refused = runs["poll-refused"]
    assert (
        refused.returncode == 1
        and "SENTRY_AUTH_TOKEN" in refused.stderr
        and "MAILGUN_API_KEY" in refused.stderr
    )
    assert runs["digest-send"].returncode == 0 and runs["smtp-received"].returncode == 0
    assert runs["digest-refused"].returncode == 1 and "check SMTP_PASSWORD" in runs["digest-refused"].stderr
    assert "DEBUG" in runs["poll"].stderr and "urllib3" in runs["poll"].stderr  # HTTP debug logging was on


def test_no_secret_appears_in_any_output_stream_also_with_verbose(evidence: Evidence) -> None:
    needles = _needles()
    for name, run in evidence.runs.items():
        for stream in (run.stdout, run.stderr):
            data = stream.encode()
            leaked = [needle for needle in needles if needle in data]
            assert not leaked, (name, leaked)


def test_no_secret_appears_in_any_file_a_run_wrote(evidence: Evidence) -> None:
    files = [path for path in evidence.site.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"monitor.db", "monitor.db-wal"} <= names  # the killed poll left its WAL behind
    assert any(name.endswith(".eml") for name in names) and any(name.endswith(".html") for name in names)
    needles = _needles()
    for path in files:
        data = path.read_bytes()
        leaked = [needle for needle in needles if needle in data]
        assert not leaked, (path, leaked)


def test_no_secret_is_on_the_command_line_of_a_running_poll(evidence: Evidence) -> None:
    arguments = evidence.cmdline.split(b"\0")
    assert b"poll" in arguments  # it was read while the poll ran
    assert not [needle for needle in _needles() if needle in evidence.cmdline]

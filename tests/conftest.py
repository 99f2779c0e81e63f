"""Shared fixtures: a temporary config + database, and a CLI runner that isolates the environment."""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.config.logs import redactor

SECRET_VARS = (
    "SENTRY_AUTH_TOKEN",
    "MAILGUN_API_KEY",
    "SMTP_PASSWORD",
    "CREDENTIALS_DIRECTORY",
    "MONITOR_CONFIG",
)

BASE_CONFIG = """
[monitor]
timezone = "Europe/Amsterdam"
database = "monitor.db"

[digest]
recipients = ["support@example.com"]
sender = "Monitor <monitor@example.com>"
transport = "file"
out_dir = "out"
"""


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in SECRET_VARS:
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    # The log redactor is the process's: one test's secrets ("x", "tok") must not mask the
    # next test's sentences, as a command's own process would never carry another's.
    known = set(redactor.values)
    yield
    redactor.values.intersection_update(known)


@pytest.fixture
def write_config(tmp_path: Path):  # type: ignore[no-untyped-def]
    """Write a schedules.toml into tmp_path: the base config plus `extra` TOML."""

    def write(extra: str = "", base: str = BASE_CONFIG) -> Path:
        path = tmp_path / "schedules.toml"
        path.write_text(textwrap.dedent(base) + "\n" + textwrap.dedent(extra))
        return path

    return write


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()

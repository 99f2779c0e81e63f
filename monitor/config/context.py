"""What every command needs, built lazily from `--config`: settings, secrets, the database."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlite_utils import Database

from monitor.config.load import Secrets, load_secrets, load_settings
from monitor.config.logs import redact
from monitor.config.settings import Settings
from monitor.core.errors import ConfigError
from monitor.store import open_db


@dataclass
class AppContext:
    config_path: Path
    verbose: bool = False
    stop: threading.Event = field(default_factory=threading.Event)
    _settings: Settings | None = None
    _secrets: Secrets | None = None  # given directly by the demo and tests; else from the environment
    _db: Database | None = None

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings(self.config_path)
        return self._settings

    def secrets(self, *, required: bool = True) -> Secrets:
        if self._secrets is not None:
            return self._secrets
        secrets, problems = self.secrets_and_problems()
        if problems and required:
            raise ConfigError(problems, "the environment")
        return secrets

    def secrets_and_problems(self) -> tuple[Secrets, list[str]]:
        """The secrets found and what is wrong with the others. Every value found is masked in
        logs and error text from now on, whatever the caller does next."""
        secrets, problems = load_secrets(self.settings())
        redact(*(s.reveal() for s in (secrets.sentry_token, secrets.mailgun_key, secrets.smtp_password) if s))
        return secrets, problems

    def db(self) -> Database:
        if self._db is None:
            self._db = open_db(self.settings().monitor.database)
        return self._db

    def now(self) -> datetime:
        return datetime.now(UTC)

"""Logging: one line per event. Under systemd (JOURNAL_STREAM set) lines carry a `<N>`
syslog priority prefix and no timestamp, so journald keeps the levels and the time.
A filter masks every secret value, whatever logger or exception text carries it."""

from __future__ import annotations

import logging
import os
import sys

_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


class RedactSecrets(logging.Filter):
    def __init__(self) -> None:
        super().__init__()
        self.values: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.values:
            record.msg, record.args = self.mask(record.getMessage()), None
            if record.exc_info and record.exc_info[1] is not None:
                record.exc_text = self.mask(logging.Formatter().formatException(record.exc_info))
                record.exc_info = None
        return True

    def mask(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "**********")
        return text


redactor = RedactSecrets()
_HANDLER_NAME = "monitor"


def setup_logging(verbose: bool = False, *, level: int = logging.INFO) -> None:
    """`level` is what reaches stderr: commands that print their own summary show only
    warnings, the daemon shows one line per job run. `verbose` shows everything."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setLevel(logging.DEBUG if verbose else level)
    if os.environ.get("JOURNAL_STREAM"):
        handler.setFormatter(JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(redactor)
    handler.set_name(_HANDLER_NAME)
    root = logging.getLogger()
    # Replace only our own handler: calling this again (a second command in one process,
    # --verbose after the group's default) must not stack handlers or drop a host's.
    for old in list(root.handlers):
        if old.get_name() == _HANDLER_NAME:
            root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    # Library chatter only when asked for; urllib3 at DEBUG logs URLs, never our auth headers.
    for noisy in ("urllib3", "apscheduler", "mail.log"):
        logging.getLogger(noisy).setLevel(logging.DEBUG if verbose else logging.WARNING)


def redact(*values: str | None) -> None:
    redactor.values.update(value for value in values if value)

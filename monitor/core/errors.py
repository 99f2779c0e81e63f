"""Typed errors. Inside the package errors carry facts; `cli` turns them into sentences and exit codes."""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the tool expects. `str(err)` is a sentence fit for an operator."""

    exit_code = 1


class ConfigError(MonitorError):
    """The configuration or a secret is wrong. Carries every problem, as `field.path: reason` lines."""

    exit_code = 2

    def __init__(self, problems: list[str], source: str = "") -> None:
        self.problems = problems
        self.source = source
        where = f" in {source}" if source else ""
        if len(problems) == 1 and not source:  # one problem is one line, e.g. in `monitor poll`'s output
            super().__init__(problems[0])
        else:
            super().__init__(f"{len(problems)} problem(s){where}:\n" + "\n".join(problems))


class InputError(MonitorError):
    """A file given on the command line cannot be read at all."""

    exit_code = 2


class SourceError(MonitorError):
    """A source (Sentry, Mailgun) could not be polled. `permanent` errors need an operator
    (a wrong token, an unknown project); the others may pass on their own (5xx, timeouts)."""

    def __init__(self, message: str, *, permanent: bool = False, status: int | None = None) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status


class StoreError(MonitorError):
    """The database could not be written (a poll's writer process failed or ended). What was
    not written is read again by the next poll: the cursors move with the rows they cover."""


class DeliveryError(MonitorError):
    """The digest could not be delivered; nothing was recorded as sent."""


class AlreadySentError(MonitorError):
    """The digest of that day was already sent to those recipients."""


class LockedError(MonitorError):
    """Another process holds the database's scheduler lock."""


class JobFailed(MonitorError):
    """A recorded job run failed; carries the exit code of the error behind it."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code

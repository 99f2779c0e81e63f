"""Secrets come from the environment, a `<VAR>_FILE`, or a systemd credential, never from the TOML.

`Secret` hides its value from repr/str so it cannot reach a log line or a traceback by accident."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class Secret:
    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class SecretLookup:
    name: str
    secret: Secret | None
    problem: str | None = None  # why a configured source could not be read


def lookup_secret(name: str, environ: Mapping[str, str] | None = None) -> SecretLookup:
    """Resolve one secret: the variable itself, then the file `<NAME>_FILE` names, then
    `$CREDENTIALS_DIRECTORY/<name in lower case>`. A trailing newline is stripped."""
    env = os.environ if environ is None else environ
    if env.get(name):
        return SecretLookup(name, Secret(env[name]))
    file_var = f"{name}_FILE"
    if env.get(file_var):
        return _from_file(name, Path(env[file_var]), f"{file_var}={env[file_var]}")
    credentials = env.get("CREDENTIALS_DIRECTORY")
    if credentials:
        path = Path(credentials) / name.lower()
        if path.exists():
            return _from_file(name, path, f"credential {path}")
    return SecretLookup(name, None)


def _from_file(name: str, path: Path, origin: str) -> SecretLookup:
    try:
        value = path.read_text(encoding="utf-8").rstrip("\r\n")
    except PermissionError:
        raise  # the CLI names the owner and the fix (`sudo …`); a "missing secret" would mislead
    except (OSError, UnicodeDecodeError) as err:
        reason = err.strerror if isinstance(err, OSError) and err.strerror else type(err).__name__
        return SecretLookup(name, None, f"cannot read {origin}: {reason}")
    if not value:
        return SecretLookup(name, None, f"{origin} is empty")
    return SecretLookup(name, Secret(value))


def missing_secret_reason(name: str) -> str:
    return (
        f"missing; set the environment variable {name}, or {name}_FILE to a file holding it, "
        f"or a systemd credential named {name.lower()}"
    )

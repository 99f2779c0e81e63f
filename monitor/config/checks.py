"""The checks of single config values: each takes a value and returns it, or raises ValueError
with the reason an operator reads after the field's path. Pure."""

from __future__ import annotations

import re
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from monitor.core.cron import parse_crontab

_EMAIL = re.compile(r"^[^@\s<>]+@[^@\s<>]+\.[^@\s<>]+$")


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file name
        raise ValueError(f"{value[:80]!r} is not an IANA time zone name (e.g. Europe/Amsterdam)") from None
    return value


def check_crontab(value: str) -> str:
    # Whether an expression parses does not depend on the zone; the scheduler applies the real one.
    parse_crontab(value, ZoneInfo("UTC"))
    return value


def check_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not a URL with a scheme and host (e.g. https://sentry.io)")
    return value.rstrip("/")


def check_optional_url(value: str) -> str:
    return check_url(value) if value else value


def check_email(value: str) -> str:
    if not _EMAIL.match(value.strip()):
        raise ValueError(f"{value!r} is not an email address")
    return value.strip()


def check_emails(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(check_email(value) for value in values)


def check_sender(value: str) -> str:
    _name, address = parseaddr(value)
    if not _EMAIL.match(address):
        raise ValueError(f"{value!r} is not an address like 'Name <monitor@example.com>'")
    if "\r" in value or "\n" in value:
        raise ValueError("must be one line")
    return value


def check_positive(value: int) -> int:
    if value <= 0:
        raise ValueError("must be greater than 0")
    return value


def check_port(value: int) -> int:
    if not 0 < value < 65536:
        raise ValueError("must be a port number between 1 and 65535")
    return value


# A group that repeats and holds a repeat itself, `(a+)+`: the shape that backtracks without end.
_NESTED_REPEAT = re.compile(r"\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)(?:[+*]|\{\d*,)")


def check_regex(value: str) -> str:
    try:
        re.compile(value)
    except re.error as err:
        raise ValueError(f"is not a regular expression: {err}") from None
    if _NESTED_REPEAT.search(value):
        raise ValueError(
            "repeats a group that repeats itself (like (a+)+), which can run for ages on a long text"
        )
    return value


RULE_FIELDS = ("title", "message", "culprit", "exception_type", "exception_value", "transaction")


def check_rule_fields(values: tuple[str, ...]) -> tuple[str, ...]:
    if unknown := [value for value in values if value not in RULE_FIELDS]:
        named = ", ".join(repr(name[:40]) for name in unknown)  # repr: outside text stays one line
        raise ValueError(f"unknown field(s) {named}; known: {', '.join(RULE_FIELDS)}")
    return values


def check_choice(*allowed: str) -> Any:
    def check(value: str) -> str:
        if value not in allowed:
            raise ValueError(f"must be one of {', '.join(allowed)}, not {value!r}")
        return value

    return check


def check_template(*names: str) -> Any:
    def check(value: str) -> str:
        try:
            value.format(**{name: "x" for name in names})
        except (KeyError, IndexError, ValueError, AttributeError, TypeError) as err:  # `{x.y}`, `{x[k]}`
            raise ValueError(f"may only use the placeholders {{{'}, {'.join(names)}}}: {err}") from None
        return value

    return check

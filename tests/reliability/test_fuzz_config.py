"""The config loader, fuzzed: whatever a schedules.toml holds, loading it gives Settings or a
ConfigError listing `field.path: reason` lines; never another exception, never a traceback."""

from __future__ import annotations

import dataclasses
import re
import typing
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.cli import main
from monitor.config.load import load_settings, settings_from_mapping
from monitor.config.settings import (
    JOB_NAMES,
    ClassificationSettings,
    DigestSettings,
    JobSettings,
    LinksSettings,
    MailgunSettings,
    MonitorSettings,
    RuleSettings,
    SentrySettings,
    Settings,
    SmtpSettings,
)
from monitor.core.errors import ConfigError

FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BASE = Path("/srv/monitor")

# Values an operator (or a typo) could put in: TOML's types, and strings that have broken parsers.
NASTY = st.sampled_from(
    [
        "", " ", "\x00", "\n", "~nosuchuser/monitor.db", "{customer_id.real}", "{customer_id[0]}", "{0}",
        "{", "}", "{customer_id!z}", "{customer_id:>{}}", "http://[::1", "http://", "https://sentry.io/",
        "*/0 * * * *", "60 * * * *", "* * * * mon-sun", "0 8 * * 7", "Europe/Amsterdam", "../../etc/passwd",
        "Etc/GMT+99", "x" * 5000, "Monitor <monitor@example.com>", "a@b\r\nBcc: x@y.example", "(", "[a-",
        "address_or_card", "smtp", "starttls", "title",
    ]
)  # fmt: skip
SCALARS = st.one_of(
    NASTY,
    st.text(max_size=40),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
    st.datetimes(timezones=st.sampled_from([None, UTC])),
    st.dates(),
    st.times(),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)
    ),
    max_leaves=12,
)


def _fields(cls: type) -> list[str]:
    return [f.name for f in dataclasses.fields(cls) if f.name != "config_path"]


def _pair(cls: type) -> st.SearchStrategy[tuple[str, Any]]:
    """One key of `cls` (or an unknown one) with any value, or one of the right type."""
    hints = typing.get_type_hints(cls)
    keys = st.one_of(st.sampled_from(_fields(cls)), st.text(max_size=15))

    def value_for(key: str) -> st.SearchStrategy[Any]:
        hint = hints.get(key)
        fitting: st.SearchStrategy[Any] = VALUES
        if hint in (str, Path):
            fitting = st.one_of(NASTY, st.text(max_size=30))
        elif hint is int:
            fitting = st.integers(min_value=-10, max_value=10**12)
        elif hint is float:
            fitting = st.floats(allow_nan=True)
        elif hint == tuple[str, ...]:
            fitting = st.lists(st.one_of(NASTY, st.emails()), max_size=3)
        return st.one_of(fitting, VALUES)

    return keys.flatmap(lambda key: st.tuples(st.just(key), value_for(key)))


def _table(cls: type) -> st.SearchStrategy[dict[str, Any]]:
    return st.lists(_pair(cls), max_size=7).map(dict)


def _documents() -> st.SearchStrategy[dict[str, Any]]:
    """Documents shaped like schedules.toml (known sections and keys, often with wrong values),
    with unknown keys and arbitrary values mixed in."""
    sections = {
        "monitor": _table(MonitorSettings),
        "sentry": _table(SentrySettings),
        "mailgun": _table(MailgunSettings),
        "digest": _table(DigestSettings),
        "links": _table(LinksSettings),
        "smtp": _table(SmtpSettings),
        "jobs": st.dictionaries(
            st.one_of(st.sampled_from(JOB_NAMES), st.text(max_size=12)),
            st.one_of(_table(JobSettings), VALUES),
            max_size=4,
        ),
        "classification": st.one_of(
            st.fixed_dictionaries({"rules": st.lists(st.one_of(_table(RuleSettings), VALUES), max_size=3)}),
            _table(ClassificationSettings),
        ),
    }
    optional = {name: st.one_of(strategy, VALUES) for name, strategy in sections.items()}
    unknown = st.dictionaries(st.text(max_size=10), VALUES, max_size=2)
    return st.tuples(unknown, st.fixed_dictionaries({}, optional=optional)).map(
        lambda pair: {**pair[0], **pair[1]}
    )


PROBLEM = re.compile(r"^\S.*?: \S")  # `field.path: reason`, the path first


def _check_problems(err: ConfigError) -> None:
    assert err.problems, "a ConfigError names at least one problem"
    for problem in err.problems:
        assert isinstance(problem, str) and PROBLEM.match(problem), problem
        assert len(problem.splitlines()) == 1, problem  # one line per problem


@FUZZ
@given(_documents())
# Documents that once escaped as another exception or broke the one-line form:
@example({"monitor": {"database": "\x00"}})
@example({"monitor": {"database": "~nosuchuser/monitor.db"}})
@example({"links": {"customer": "{customer_id.real}"}})
@example({"monitor": {"timezone": "x" * 5000}})
@example({"links": {"customer": "{customer_id[x]}"}})
@example({"\r": [], "jobs": {"poll sentry\n": {}}})
def test_any_config_document_gives_settings_or_field_path_problems(document: dict[str, Any]) -> None:
    try:
        loaded = settings_from_mapping(document, base_dir=BASE)
    except ConfigError as err:
        _check_problems(err)
    else:
        assert isinstance(loaded, Settings)


@FUZZ
@given(raw=st.binary(max_size=400))
def test_any_bytes_as_the_config_file_give_settings_or_problems(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes
) -> None:
    path = tmp_path_factory.mktemp("config") / "schedules.toml"
    path.write_bytes(raw)
    try:
        load_settings(path)
    except ConfigError as err:
        _check_problems(err)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(document=_documents())
def test_check_config_answers_any_document_with_exit_0_or_2_and_no_traceback(
    tmp_path: Path, document: dict[str, Any]
) -> None:
    path = tmp_path / "schedules.toml"
    path.write_text(_to_toml(document), encoding="utf-8")
    result = CliRunner().invoke(main, ["--config", str(path), "check-config"])
    assert result.exit_code in (0, 2), result.output
    assert "Traceback" not in result.output and "unexpected" not in result.output, result.output


def _to_toml(document: dict[str, Any]) -> str:
    """A minimal TOML writer: inline tables and arrays, every key quoted."""
    lines = [f"{_key(key)} = {_value(value)}" for key, value in document.items()]
    return "\n".join(lines) + "\n"


def _key(key: str) -> str:
    return _value(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        escaped = "".join(
            ch
            if ch.isprintable() and ch not in '"\\'
            else f"\\u{ord(ch):04x}"
            if ord(ch) < 0x10000
            else f"\\U{ord(ch):08x}"
            for ch in value
        )
        return f'"{escaped}"'
    if isinstance(value, float):
        return (
            "nan"
            if value != value
            else ("inf" if value == float("inf") else "-inf" if value == float("-inf") else repr(value))
        )
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(item) for item in value) + "]"
    return "{" + ", ".join(f"{_key(k)} = {_value(v)}" for k, v in value.items()) + "}"

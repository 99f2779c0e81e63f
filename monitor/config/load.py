"""Load `schedules.toml` into a frozen `Settings`, reporting every problem at once.

Problems read `field.path: reason`. The walk is driven by the dataclasses in `settings.py`,
so unknown keys, wrong types and bad values are all found in one pass."""

from __future__ import annotations

import dataclasses
import difflib
import json
import os
import re
import tomllib
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from monitor.config.secrets import Secret, lookup_secret, missing_secret_reason
from monitor.config.settings import JOB_NAMES, JobSettings, Settings
from monitor.core.errors import ConfigError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_TYPE_NAMES = {str: "a string", int: "an integer", float: "a number", bool: "true or false", Path: "a path"}


def default_config_path(environ: Mapping[str, str] | None = None) -> Path:
    env = os.environ if environ is None else environ
    return Path(env.get("MONITOR_CONFIG") or "schedules.toml")


def load_settings(path: Path) -> Settings:
    """Read and validate the config file; ConfigError lists every problem."""
    try:
        raw = path.read_bytes()
    except OSError as err:
        raise ConfigError(
            [f"{path}: cannot read the config file ({err.strerror}); pass --config or set MONITOR_CONFIG"]
        ) from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise ConfigError([f"{path}: not valid TOML: {err}"]) from None
    try:
        settings = settings_from_mapping(data, base_dir=path.resolve().parent, source=str(path))
    except ConfigError as err:
        raise ConfigError([_with_rule_line(p, raw, data) for p in err.problems], str(path)) from None
    return dataclasses.replace(settings, config_path=path.resolve())


def _with_rule_line(problem: str, raw: bytes, data: Mapping[str, Any]) -> str:
    """A problem of an operator rule, with the rule's name and the line its table starts on."""
    match = re.match(r"classification\.rules\.(\d+)\.", problem)
    if not match:
        return problem
    index = int(match.group(1))
    starts = [
        n
        for n, line in enumerate(raw.decode("utf-8").splitlines(), 1)
        if line.strip() == "[[classification.rules]]"
    ]
    rules = data.get("classification", {}).get("rules", [])
    name = rules[index].get("name") if index < len(rules) and isinstance(rules[index], dict) else None
    where = [f"rule {str(name)[:60]!r}" if name else f"rule {index + 1}"]
    if index < len(starts):
        where.append(f"line {starts[index]}")
    return f"{problem} ({', '.join(where)})"


def settings_from_mapping(data: Mapping[str, Any], base_dir: Path, source: str = "") -> Settings:
    """Validate a parsed TOML document; ConfigError lists every problem, in file order."""
    problems: list[str] = []
    settings: Settings = _build(Settings, data, "", problems, base_dir)
    problems.extend(_cross_checks(data))
    if problems:
        raise ConfigError(problems, source)
    return settings


def _cross_checks(data: Mapping[str, Any]) -> list[str]:
    """Rules that span sections. They read the raw document, so they are reported together
    with the problems inside the sections, not only once those are fixed."""
    problems = []
    sections = {"poll-sentry": "sentry", "poll-mailgun": "mailgun", "reconcile-mailgun": "mailgun"}
    jobs = data.get("jobs")
    for name in jobs if isinstance(jobs, Mapping) else ():
        if name not in JOB_NAMES:
            close = difflib.get_close_matches(name, JOB_NAMES, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"the jobs are {', '.join(JOB_NAMES)}"
            problems.append(f"{_join('jobs', name)}: unknown job; {hint}")
        elif name in sections and sections[name] not in data:
            problems.append(f"jobs.{name}: needs a [{sections[name]}] section")
    digest = data.get("digest")
    transport = digest.get("transport") if isinstance(digest, Mapping) else None
    if transport == "mailgun" and "mailgun" not in data:
        problems.append("digest.transport: 'mailgun' needs a [mailgun] section with the sending domain")
    return problems


def _build(cls: type, data: Any, path: str, problems: list[str], base_dir: Path) -> Any:
    if not isinstance(data, Mapping):
        problems.append(f"{path or 'config'}: must be a table")
        return None
    fields = {f.name: f for f in dataclasses.fields(cls) if f.name != "config_path"}
    hints = typing.get_type_hints(cls)
    for key in data:
        if key not in fields:
            close = difflib.get_close_matches(key, fields, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; known keys: {', '.join(fields)}"
            problems.append(f"{_join(path, key)}: unknown key{hint}")
    values: dict[str, Any] = {}
    for name, spec in fields.items():
        where = _join(path, name)
        if name not in data:
            if spec.metadata.get("required"):
                problems.append(f"{where}: missing; {spec.metadata['doc']}")
            elif isinstance(spec.default, Path):  # defaults are relative to the config file too
                values[name] = (base_dir / spec.default).resolve()
            elif dataclasses.is_dataclass(hints[name]):  # a section left out: its defaults, resolved
                values[name] = _build(hints[name], {}, where, problems, base_dir)
            continue
        value = _convert(hints[name], data[name], where, problems, base_dir)
        check = spec.metadata.get("check")
        if value is not None and check is not None:
            try:
                value = check(value)
            except ValueError as err:
                problems.append(f"{where}: {err}")
                continue
        if value is not None:
            values[name] = value
    try:
        return cls(**values)
    except TypeError:
        return None


def _convert(hint: Any, value: Any, where: str, problems: list[str], base_dir: Path) -> Any:
    origin = typing.get_origin(hint)
    if origin in (types.UnionType, typing.Union):  # `X | None`: a section that may be left out
        inner = next(arg for arg in typing.get_args(hint) if arg is not type(None))
        return _convert(inner, value, where, problems, base_dir)
    if dataclasses.is_dataclass(hint):
        return _build(hint, value, where, problems, base_dir)  # type: ignore[arg-type]
    if origin is tuple:
        item_type = typing.get_args(hint)[0]
        if not isinstance(value, list):
            problems.append(f"{where}: must be a list")
            return None
        items = [
            _convert(item_type, item, f"{where}.{i}", problems, base_dir) for i, item in enumerate(value)
        ]
        return None if any(item is None for item in items) else tuple(items)
    if origin is dict:
        item_type = typing.get_args(hint)[1]
        if not isinstance(value, Mapping):
            problems.append(f"{where}: must be a table")
            return None
        return {
            key: _convert(item_type, item, _join(where, key), problems, base_dir)
            for key, item in value.items()
        }
    return _scalar(hint, value, where, problems, base_dir)


def _scalar(hint: Any, value: Any, where: str, problems: list[str], base_dir: Path) -> Any:
    ok = (
        (hint is bool and isinstance(value, bool))
        or (hint is int and isinstance(value, int) and not isinstance(value, bool))
        or (hint is float and isinstance(value, int | float) and not isinstance(value, bool))
        or (hint in (str, Path) and isinstance(value, str))
    )
    if not ok:
        problems.append(
            f"{where}: must be {_TYPE_NAMES.get(hint, hint)}, not {type(value).__name__} {value!r}"
        )
        return None
    if hint is Path:
        try:
            return (base_dir / Path(value).expanduser()).resolve()
        except (RuntimeError, ValueError, OSError) as err:  # `~nobody/x`, a NUL byte, a loop of links
            problems.append(f"{where}: {value!r} is not a usable path ({err})")
            return None
    if hint is float:
        return float(value)
    return value


def _join(path: str, key: str) -> str:
    # A key that is not a bare TOML key is shown quoted, as TOML writes it: a problem stays one
    # `field.path: reason` line whatever the key holds (spaces, dots, CR/LF, nothing at all).
    name = key if _BARE_KEY.match(key) else json.dumps(key)
    return f"{path}.{name}" if path else name


@dataclass(frozen=True)
class Secrets:
    sentry_token: Secret | None = None
    mailgun_key: Secret | None = None
    smtp_password: Secret | None = None


def needed_secrets(settings: Settings) -> list[str]:
    needed = []
    if settings.sentry is not None:
        needed.append("SENTRY_AUTH_TOKEN")
    if settings.mailgun is not None:
        needed.append("MAILGUN_API_KEY")
    if settings.digest.transport == "smtp" and settings.smtp.username:
        needed.append("SMTP_PASSWORD")
    return needed


def load_secrets(settings: Settings, environ: Mapping[str, str] | None = None) -> tuple[Secrets, list[str]]:
    """The secrets the settings need, and a `secrets.NAME: reason` problem for each one missing."""
    found: dict[str, Secret | None] = {}
    problems = []
    for name in needed_secrets(settings):
        result = lookup_secret(name, environ)
        found[name] = result.secret
        if result.secret is None:
            problems.append(f"secrets.{name}: {result.problem or missing_secret_reason(name)}")
    secrets = Secrets(
        sentry_token=found.get("SENTRY_AUTH_TOKEN"),
        mailgun_key=found.get("MAILGUN_API_KEY"),
        smtp_password=found.get("SMTP_PASSWORD"),
    )
    return secrets, problems


def job_schedules(settings: Settings) -> dict[str, str]:
    """Every job that runs, with its cron expression: the configured one or the default,
    for each source that is configured."""
    jobs = {"digest": settings.schedule_of("digest")}
    if settings.sentry is not None:
        jobs["poll-sentry"] = settings.schedule_of("poll-sentry")
    if settings.mailgun is not None:
        jobs["poll-mailgun"] = settings.schedule_of("poll-mailgun")
        jobs["reconcile-mailgun"] = settings.schedule_of("reconcile-mailgun")
    return jobs


def job_settings(settings: Settings, name: str) -> JobSettings:
    return settings.jobs.get(name) or JobSettings(schedule=settings.schedule_of(name))

"""The README's configuration reference, generated from the settings model.

`python -m monitor.config.reference` prints it; a test checks the README carries exactly this
text, so the reference cannot drift from what the loader accepts."""

from __future__ import annotations

import dataclasses
import typing
from pathlib import Path
from typing import Any

from monitor.config.settings import JobSettings, RuleSettings, Settings

_SECTIONS = {
    "jobs": ("jobs.<name>", JobSettings),
    "classification": ("classification.rules (array of tables [[classification.rules]])", RuleSettings),
}


def _type_name(hint: Any) -> str:
    origin = typing.get_origin(hint)
    if origin is tuple:
        return f"list of {_type_name(typing.get_args(hint)[0])}"
    names = {str: "string", int: "integer", float: "number", bool: "boolean", Path: "path"}
    return names.get(hint, getattr(hint, "__name__", str(hint)))


def _default(field: dataclasses.Field[Any]) -> str:
    if field.metadata.get("required"):
        return "required"
    value = field.default
    if isinstance(value, Path):
        return f'`"{value}"`'
    if isinstance(value, str):
        return f'`"{value}"`' if value else '`""`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(f'"{item}"' for item in value) + "]`"
    return f"`{value}`"


def _table(title: str, cls: type) -> list[str]:
    hints = typing.get_type_hints(cls)
    lines = [f"**[{title}]**", "", "| key | type | default | meaning |", "|---|---|---|---|"]
    for field in dataclasses.fields(cls):
        meaning = field.metadata["doc"].replace("|", "\\|")
        lines.append(f"| `{field.name}` | {_type_name(hints[field.name])} | {_default(field)} | {meaning} |")
    return [*lines, ""]


def reference_markdown() -> str:
    lines: list[str] = []
    hints = typing.get_type_hints(Settings)
    for field in dataclasses.fields(Settings):
        if field.name == "config_path":
            continue
        if field.name in _SECTIONS:
            title, cls = _SECTIONS[field.name]
        else:
            title = field.name
            options = typing.get_args(hints[field.name]) or (hints[field.name],)
            cls = next(arg for arg in options if arg is not type(None))
        lines += _table(title, cls)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":  # pragma: no cover
    print(reference_markdown(), end="")

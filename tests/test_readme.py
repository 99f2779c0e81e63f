"""The README cannot drift: its config reference is the generated one, its TOML examples load,
and every command and option it shows exists."""

from __future__ import annotations

import re
import shlex
import tomllib
from pathlib import Path
from typing import Any

import click
import pytest

from monitor.cli import main
from monitor.config.load import settings_from_mapping
from monitor.config.reference import reference_markdown

README = (Path(__file__).parent.parent / "README.md").read_text()
BLOCK = re.compile(r"```(\w*)\n(.*?)```", re.S)
BASE = {
    "digest": {"recipients": ["support@example.com"], "sender": "Monitor <monitor@example.com>"},
}


def _blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(README) if lang == language]


def test_the_quick_start_is_two_commands_demo_then_test() -> None:
    quick = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    first_block = BLOCK.search(quick)
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(2).splitlines() if line.strip()]
    assert commands == ["make demo", "make test"]


def test_the_config_reference_is_the_generated_one() -> None:
    start, end = "<!-- config-reference:start -->\n", "<!-- config-reference:end -->"
    shown = README.split(start, 1)[1].split(end, 1)[0]
    assert shown == reference_markdown(), "run `python -m monitor.config.reference` and update the README"


def _merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    merged = {key: dict(value) if isinstance(value, dict) else value for key, value in base.items()}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


@pytest.mark.parametrize("block", _blocks("toml"), ids=lambda b: b.splitlines()[0][:40])
def test_every_toml_example_in_the_readme_is_a_valid_config(block: str, tmp_path: Path) -> None:
    data = tomllib.loads(block)
    settings_from_mapping(_merge(BASE, data), base_dir=tmp_path)  # raises ConfigError on any problem


def _shown_commands() -> list[list[str]]:
    found = []
    for lang, body in BLOCK.findall(README):
        if lang not in ("sh", "", "crontab"):
            continue
        for line in body.splitlines():
            line = line.split(" #")[0].strip()
            match = re.search(r"(?:^|\s|\$ )(monitor (?:[a-z][a-z-]*).*)$", line)
            if match and not line.startswith(("sudo ln", "journalctl", "systemctl")):
                found.append(shlex.split(match.group(1).split("|")[0].split(">")[0]))
    return found


def test_the_readme_shows_commands() -> None:
    assert len(_shown_commands()) >= 15


@pytest.mark.parametrize("argv", _shown_commands(), ids=" ".join)
def test_every_command_and_option_the_readme_shows_exists(argv: list[str]) -> None:
    command: click.Command = main
    words = argv[1:]
    while isinstance(command, click.Group) and words and not words[0].startswith("-"):
        assert words[0] in command.commands, f"`{' '.join(argv)}`: no command {words[0]!r}"
        command = command.commands[words.pop(0)]
    options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
    for word in words:
        if word.startswith("-"):
            assert word.split("=")[0] in options, f"`{' '.join(argv)}`: no option {word!r}"

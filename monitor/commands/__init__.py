"""Command families; each module has `register(group)`."""

from __future__ import annotations

import importlib

import click

# Listed in the order `monitor --help` should teach them.
MODULES = ("config_cmd", "customers_cmd")


def register_all(group: click.Group) -> None:
    for name in MODULES:
        module = importlib.import_module(f"monitor.commands.{name}")
        module.register(group)

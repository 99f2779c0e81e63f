"""Command families; each module has `register(group)`."""

from __future__ import annotations

import importlib
import importlib.util

import click

# Listed in the order `monitor --help` should teach them.
MODULES = (
    "demo_cmd",
    "config_cmd",
    "customers_cmd",
    "poll_cmd",
    "lookup_cmd",
    "ack_cmd",
    "classify_cmd",
    "digest_cmd",
    "run_cmd",
    "status_cmd",
    "suppressions_cmd",
    "purge_cmd",
    "systemd_cmd",
)


def register_all(group: click.Group) -> None:
    for name in MODULES:
        qualified = f"monitor.commands.{name}"
        if importlib.util.find_spec(qualified) is None:
            continue  # a family not shipped in this build
        importlib.import_module(qualified).register(group)

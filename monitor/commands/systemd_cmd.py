"""`monitor systemd render`: the systemd units of this config."""

from __future__ import annotations

from pathlib import Path

import click

from monitor.cli import app_context, common_options
from monitor.core.errors import ConfigError, InputError
from monitor.deploy.units import MODES, render_units


@click.group("systemd")
def systemd_group() -> None:
    """systemd units for this config (see README, Deployment)."""


@systemd_group.command("render")
@click.option(
    "--out", type=click.Path(path_type=Path, file_okay=False), help="Write the units into this folder."
)
@click.option(
    "--mode",
    type=click.Choice(MODES),
    help="Only the daemon (monitor.service) or only the timers; default: both, choose one to install.",
)
@common_options
@click.pass_context
def render_command(ctx: click.Context, out: Path | None, mode: str | None) -> None:
    """Write the systemd units for this config: each timer's OnCalendar= from its job's
    schedule in [monitor] timezone (with crontab's weekday semantics), LoadCredential= only
    for the secrets the config needs, the same hardening in every unit.

    Without --out the units are printed, each after a `### <file>` line. Render again after
    changing a schedule, then `systemctl daemon-reload`.

    \b
    Examples:
      sudo monitor systemd render --mode timers --out /etc/systemd/system
      monitor systemd render --config systemd/schedules.toml --out systemd
    """
    app = app_context(ctx)
    try:
        units = render_units(app.settings(), (mode,) if mode else MODES)
    except ValueError as err:  # a schedule no timer can follow exactly
        raise ConfigError([str(err)]) from None
    if out is None:
        for name, text in units.items():
            click.echo(f"### {name}")
            click.echo(text)
        return
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name, text in units.items():
            (out / name).write_text(text, encoding="utf-8")
    except OSError as err:
        raise InputError(
            f"Cannot write the units into {out} ({err.strerror}); choose another --out."
        ) from None
    click.echo(f"Wrote {len(units)} units into {out}: {', '.join(units)}.")
    click.echo("Then: sudo systemctl daemon-reload, and enable monitor.service OR the timers.")


def register(group: click.Group) -> None:
    group.add_command(systemd_group)

"""`monitor check-config`."""

from __future__ import annotations

import click

from monitor.cli import app_context, common_options
from monitor.config.load import job_schedules, load_secrets
from monitor.core.errors import ConfigError


@click.command("check-config")
@common_options
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate schedules.toml and check that the secrets it needs are set.

    Prints every problem as `field.path: reason` and exits 2, or a summary and exits 0.
    Secrets are only checked for presence here; `monitor poll` shows whether they work.

    \b
    Example:
      monitor check-config --config /etc/monitor/schedules.toml
    """
    app = app_context(ctx)
    settings = app.settings()
    _secrets, problems = load_secrets(settings)
    if problems:
        raise ConfigError(problems, "the environment")
    click.echo(f"{app.config_path}: OK")
    click.echo(f"  time zone  {settings.monitor.timezone}")
    click.echo(f"  database   {settings.monitor.database}")
    sources = [
        name for name, section in (("sentry", settings.sentry), ("mailgun", settings.mailgun)) if section
    ]
    click.echo(f"  sources    {', '.join(sources) or 'none'}")
    click.echo(f"  digest     {settings.digest.transport} to {', '.join(settings.digest.recipients)}")
    for job, schedule in job_schedules(settings).items():
        click.echo(f"  job        {job:<18} {schedule}")


def register(group: click.Group) -> None:
    group.add_command(check_config)

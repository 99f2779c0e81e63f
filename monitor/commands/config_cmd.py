"""`monitor check-config`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import click

from monitor.cli import app_context, common_options
from monitor.config.load import Secrets, job_schedules
from monitor.config.secrets import Secret
from monitor.config.settings import SentrySettings, Settings
from monitor.core.errors import ConfigError, SourceError
from monitor.deploy.checks import deployment_problems
from monitor.deploy.units import CREDENTIALS
from monitor.poll.sentry import sentry_client
from monitor.poll.sentry_project import ask_project
from monitor.sources.mailgun_client import client_for, list_url, section


@click.command("check-config")
@click.option(
    "--online",
    is_flag=True,
    help="Also ask Sentry and Mailgun who the configured organization, project and domain are.",
)
@click.option(
    "--deployment",
    is_flag=True,
    help="Also check what the systemd units need: a writable state folder, credential files, the command.",
)
@click.option(
    "--credentials-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(CREDENTIALS),
    show_default=True,
    help="With --deployment: where the units' LoadCredential= files are.",
)
@common_options
@click.pass_context
def check_config(ctx: click.Context, online: bool, deployment: bool, credentials_dir: Path) -> None:
    """Validate schedules.toml and check that the secrets it needs are set.

    Prints every problem as `field.path: reason` and exits 2, or a summary and exits 0.
    Secrets are only checked for presence here; with --online each source is asked once:
    Sentry for the project (and its numeric ID, which `project=` requires), Mailgun for the
    domain's bounce list. A source that refuses exits 1 with its sentence.

    \b
    Examples:
      monitor check-config --config /etc/monitor/schedules.toml
      monitor check-config --online
      sudo monitor check-config --deployment --config /etc/monitor/schedules.toml
    """
    app = app_context(ctx)
    settings = app.settings()
    _secrets, problems = app.secrets_and_problems()
    if problems and not deployment:  # a unit reads its secrets from credential files, checked below
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
    if deployment:
        problems = deployment_problems(settings, credentials_dir)
        if problems:  # printed once, by the error
            raise ConfigError(problems, "the deployment")
        click.echo("  deployment the state folder, credential files and command the units need are in place")
    if online:
        failures = [line for line in ask_sources(settings, _secrets) if line.startswith("FAILED")]
        if failures:
            raise SourceError(" ".join(line.removeprefix("FAILED ") for line in failures))


def ask_sources(settings: Settings, secrets: Secrets) -> list[str]:
    """One request to each configured source; each answer printed as a line, and returned."""
    lines = []
    if settings.sentry is not None and secrets.sentry_token is not None:
        lines.append(_ask("sentry", lambda: _sentry_project(settings.sentry, secrets.sentry_token)))
    if settings.mailgun is not None and secrets.mailgun_key is not None:
        lines.append(_ask("mailgun", lambda: _mailgun_domain(settings, secrets)))
    return lines


def _ask(name: str, question: Callable[[], str]) -> str:
    try:
        line = f"  {name:<10} {question()}"
    except SourceError as err:
        line = f"FAILED {name}: {err}"
    click.echo(line, err=line.startswith("FAILED"))
    return line


def _sentry_project(sentry: SentrySettings | None, token: Secret | None) -> str:
    assert sentry is not None and token is not None
    client = sentry_client(sentry, token.reveal())
    try:
        return ask_project(client, sentry).sentence(sentry)
    finally:
        client.close()


def _mailgun_domain(settings: Settings, secrets: Secrets) -> str:
    mailgun = section(settings)
    client = client_for(settings, secrets)
    try:
        client.get_json(list_url(mailgun, "bounces"), {"limit": "1"})
    finally:
        client.close()
    return f"domain '{mailgun.domain}' found at {mailgun.base_url}: its bounce list is readable"


def register(group: click.Group) -> None:
    group.add_command(check_config)

"""`monitor poll [sentry|mailgun]`."""

from __future__ import annotations

import click

from monitor.cli import app_context, common_options
from monitor.config.settings import Settings
from monitor.core.errors import ConfigError
from monitor.runner.jobs import JobResult, run_job

SOURCES = {"sentry": "poll-sentry", "mailgun": "poll-mailgun"}


def configured_sources(settings: Settings) -> list[str]:
    return [name for name in SOURCES if getattr(settings, name) is not None]


@click.command("poll")
@click.argument("source", required=False, type=click.Choice(sorted(SOURCES)))
@common_options
@click.pass_context
def poll_command(ctx: click.Context, source: str | None) -> None:
    """Poll SOURCE once (sentry or mailgun; both configured ones when left out).

    Reads what is new since the last poll, stores it once, links it to customers and prints
    counts: pages read, new events, purchase errors per category, linked and unlinked. The
    first poll reaches back `lookback_days`. Each run is recorded like a scheduled one, so
    `monitor status` shows it. One source failing does not stop the other; the exit status
    is then 1 (2 for a config or secret problem) and the reason is printed.

    \b
    Examples:
      monitor poll              # every configured source
      monitor poll sentry       # only Sentry
    """
    app = app_context(ctx)
    settings = app.settings()
    available = configured_sources(settings)
    if source is not None and source not in available:
        raise ConfigError([f"{source}: not configured; add a [{source}] section to {app.config_path}"])
    if not available:
        raise ConfigError(["sentry, mailgun: no source is configured; add a [sentry] or [mailgun] section"])
    failures = []
    for name in [source] if source else available:
        result = run_job(app, SOURCES[name], app.now(), quiet=True)
        _print(name, result)
        if not result.ok:
            failures.append(result.exit_code or 1)
    if failures:
        ctx.exit(max(failures))


def _print(name: str, result: JobResult) -> None:
    if not result.ok:
        click.echo(f"Error: {name}: {result.error or result.summary}", err=True)
        return
    click.echo(f"{name}: ok")
    width = max((len(key) for key in result.counts), default=0)
    for key, value in result.counts.items():
        click.echo(f"  {key.replace('_', ' '):<{width}}  {value}")


def register(group: click.Group) -> None:
    group.add_command(poll_command)

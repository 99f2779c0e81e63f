"""`monitor run`: the long-running scheduler."""

from __future__ import annotations

import dataclasses

import click

from monitor.cli import app_context, common_options
from monitor.runner.lock import DatabaseLock


@click.command("run")
@common_options
@click.pass_context
def run_command(ctx: click.Context) -> None:
    """Run the jobs of schedules.toml on their schedules until stopped (SIGTERM or Ctrl-C).

    The jobs are poll-sentry, poll-mailgun and reconcile-mailgun (for each configured source)
    and digest, with crontab schedules in monitor.timezone. At start, and after the machine
    slept, every job that missed a scheduled time runs once; the digest is sent for each
    missed day of the last week, oldest first, never twice for one day. A failing job is
    logged and recorded (see `monitor status`) and the others go on.

    Only one `monitor run` may use a database: a second one exits 1 and names the first.
    SIGTERM or SIGINT lets the running jobs finish their current page and exits 0; a second
    signal exits at once. Under systemd, log lines carry journald priorities.

    \b
    Examples:
      monitor run --config /etc/monitor/schedules.toml
      monitor run -v                  # with debug logging
    """
    app = app_context(ctx)
    settings = app.settings()
    # Fail at start-up, not at the first job: secrets are read once, here.
    app = dataclasses.replace(app, _secrets=app.secrets())
    from monitor.runner.scheduler import MonitorScheduler  # APScheduler loads only for this command

    with DatabaseLock(settings.monitor.database):
        MonitorScheduler(app).run_forever()


def register(group: click.Group) -> None:
    group.add_command(run_command)

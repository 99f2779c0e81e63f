"""`monitor status [--json]`."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

import click

from monitor.cli import app_context, common_options
from monitor.runner.status import JobStatus, SourceStatus, Status, collect_status, status_json


class _At(Protocol):
    """Formats a moment as local time, or `never` for None."""

    def __call__(self, moment: datetime | None, never: str = "never") -> str: ...


@click.command("status")
@click.option("--json", "as_json", is_flag=True, help="One JSON document instead of text.")
@common_options
@click.pass_context
def status_command(ctx: click.Context, as_json: bool) -> None:
    """Show the health of the sources, the digest and the scheduled jobs; exit 1 when a job
    is failing or overdue, so it doubles as a health check.

    Per source: the last successful poll, the last error, since when it has been failing and
    how many signals are stored. The last digest sent: its day, to whom and when. Per job:
    its schedule, last run, last success and next due time. A job is overdue when one of its
    scheduled times passed more than its misfire grace ago without a successful run; in a
    fresh database jobs show "never run" and are not overdue yet.

    \b
    Examples:
      monitor status
      monitor status --json | jq '.jobs["poll-sentry"]'
      monitor status >/dev/null || echo "the monitor needs attention"
    """
    app = app_context(ctx)
    settings = app.settings()
    status = collect_status(settings, app.db(), app.now())
    if as_json:
        click.echo(json.dumps(status_json(status), indent=2))
    else:
        click.echo("\n".join(status_lines(status, settings.zone)))
    if not status.healthy:
        ctx.exit(1)


def status_lines(status: Status, zone: ZoneInfo) -> list[str]:
    """The text form: local times in the configured zone."""

    def at(moment: datetime | None, never: str = "never") -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else never

    lines = [f"Status at {at(status.now)} {status.timezone}, database {status.database}", "", "Sources"]
    for source in status.sources:
        lines.extend(_source_lines(source, at))
    lines += ["", "Digest"]
    digest = status.last_digest
    if digest is None:
        lines.append("  last sent   never")
    else:
        to = ", ".join(digest.recipients)
        lines.append(f"  last sent   the digest of {digest.day} to {to}, at {at(digest.sent_at)}")
    lines += ["", "Jobs", f"  {'job':<18} {'schedule':<16} {'last run':<16} {'last success':<16} next due"]
    for job in status.jobs:
        lines.extend(_job_lines(job, at))
    lines.append("")
    if status.healthy:
        lines.append("Healthy.")
    else:
        lines.append(f"Needs attention: {'; '.join(status.problems)}.")
    return lines


def _source_lines(source: SourceStatus, at: _At) -> list[str]:
    if not source.configured and not source.signals:
        return [f"  {source.name:<10}  not configured"]
    lines = [f"  {source.name:<10}  last success {at(source.last_success)}, {source.signals} signals stored"]
    if source.dated_by_issue:
        lines.append(
            f"  {'':<10}  {source.dated_by_issue} events came without a time of their own and are "
            "dated by their issue (shown as uncertain in the digest)"
        )
    if source.failing_since:
        lines.append(f"  {'':<10}  failing since {at(source.failing_since)}")
    if source.last_error:
        lines.append(f"  {'':<10}  last error at {at(source.last_error_at)}: {source.last_error}")
    return lines


def _job_lines(job: JobStatus, at: _At) -> list[str]:
    last = job.last_run.started_at if job.last_run else None
    success = job.last_success.started_at if job.last_success else None
    lines = [
        f"  {job.name:<18} {job.schedule:<16} {at(last, 'never run'):<16} "
        f"{at(success):<16} {at(job.next_due, '-')}"
    ]
    if job.failing:
        error = job.last_run.error if job.last_run else ""
        lines.append(f"  {'':<18} FAILING since {at(job.failing_since)}: {error}")
    if job.overdue:
        lines.append(f"  {'':<18} OVERDUE: the run due at {at(job.missed)} did not succeed")
    return lines


def register(group: click.Group) -> None:
    group.add_command(status_command)

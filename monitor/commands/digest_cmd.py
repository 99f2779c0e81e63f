"""`monitor digest`: build one day's digest, write it, or deliver it once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import click

from monitor.cli import app_context, common_options
from monitor.config.context import AppContext
from monitor.core.errors import AlreadySentError, InputError, JobFailed
from monitor.core.timeutil import today, yesterday
from monitor.digest.delivery import write_private
from monitor.digest.job import build_day, deliver_day
from monitor.digest.render import FORMATS, render
from monitor.runner.jobs import JobResult, run_job

SUFFIXES = {"html": "html", "text": "txt", "json": "json", "eml": "eml"}


def _parse_day(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-23 (YYYY-MM-DD).") from None


@click.command("digest")
@click.option(
    "--date", "day", callback=_parse_day, metavar="YYYY-MM-DD", help="The day (default: yesterday)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="Output form (default: from --out's suffix, else text).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="File or folder to write (mode 0600); '-' or none: standard output.",
)
@click.option("--send", is_flag=True, help="Deliver through digest.transport, once per day and recipient.")
@click.option("--resend", is_flag=True, help="Deliver again although it was already sent (implies --send).")
@common_options
@click.pass_context
def digest_command(
    ctx: click.Context, day: date | None, fmt: str | None, out: Path | None, send: bool, resend: bool
) -> None:
    """Build the digest of one day from the stored signals: the customers most likely hit by
    purchase errors or mail problems, ranked, plus unlinked and late signals and source health.

    Without --send it only writes the digest (to standard output or --out) and delivers
    nothing; run it for any past day, the same data gives the same bytes. With --send it
    mails it to digest.recipients; a second --send for the same day is refused (exit 1)
    unless --resend. A failed delivery exits 1 and records nothing as sent.

    \b
    Examples:
      monitor digest                                  yesterday, as text
      monitor digest --date 2026-11-23 --format html --out digest.html
      monitor digest --date 2026-11-23 --format json | jq '.customers[0]'
      monitor digest --send                           what the scheduled job does
    """
    app = app_context(ctx)
    settings = app.settings()
    now = app.now()
    day = day or yesterday(now, settings.zone)
    _check_day(day, today(now, settings.zone), settings.monitor.retention_days)
    if send or resend:
        result = _send_recorded(app, day, now, resend)
        click.echo(result.summary, err=out is None or str(out) == "-")
        if out is None:
            return
    fmt = fmt or _format_from(out)
    data = render(build_day(app, day, now), settings, fmt, now)
    _write(data, out, day, fmt)


def _check_day(day: date, local_today: date, retention_days: int) -> None:
    """A day with no data to hold: after today, or older than what retention keeps."""
    if day > local_today:
        raise InputError(f"{day} is in the future (today is {local_today}); choose a past --date.")
    # The purge deletes what is older than now - retention_days: part of the day that many days
    # back is gone already, so the oldest whole day is one later.
    if day <= local_today - timedelta(days=retention_days):
        raise InputError(
            f"{day} is older than the {retention_days} days the database keeps (monitor.retention_days);"
            " its signals are purged, so choose a later --date."
        )


def _send_recorded(app: AppContext, day: date, now: datetime, resend: bool) -> JobResult:
    """Deliver through `run_job`, so a send from cron or a timer shows in `monitor status` and
    in the digest's health like the daemon's. A refused second send is no failed run: it
    is recorded as done and still exits 1 with its sentence."""
    refused: list[AlreadySentError] = []

    def deliver(app: AppContext, now: datetime) -> JobResult:
        try:
            return deliver_day(app, day, now, resend=resend)
        except AlreadySentError as err:
            refused.append(err)
            return JobResult(ok=True, summary=f"already sent: {err}")

    result = run_job(app, "digest", now, deliver, quiet=True)
    if refused:
        raise refused[0]
    if not result.ok:
        raise JobFailed(result.error or result.summary, result.exit_code or 1)
    return result


def _format_from(out: Path | None) -> str:
    if out is not None and out.suffix:
        by_suffix = {suffix: fmt for fmt, suffix in SUFFIXES.items()} | {"htm": "html", "txt": "text"}
        return by_suffix.get(out.suffix.lstrip(".").lower(), "text")
    return "text"


def _write(data: bytes, out: Path | None, day: date, fmt: str) -> None:
    if out is None or str(out) == "-":
        click.echo(data, nl=False)  # bytes go to the binary stream untouched
        return
    target = out / f"digest-{day}.{SUFFIXES[fmt]}" if out.is_dir() else out
    try:
        write_private(target, data)
    except OSError as err:
        raise InputError(f"Cannot write {target} ({err.strerror}); choose another --out.") from None
    click.echo(f"Wrote the {fmt} digest of {day} to {target}.", err=True)


def register(group: click.Group) -> None:
    group.add_command(digest_command)

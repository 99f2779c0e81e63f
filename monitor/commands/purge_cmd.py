"""`monitor purge`."""

from __future__ import annotations

import click

from monitor.cli import app_context, common_options
from monitor.store.retention import purge


@click.command("purge")
@click.option("--dry-run", is_flag=True, help="Only count what would be deleted.")
@common_options
@click.pass_context
def purge_command(ctx: click.Context, dry_run: bool) -> None:
    """Delete signals and other personal data older than `retention_days` (default 90).

    The imported customer directory is kept, and so are suppressions still on a Mailgun
    list. The scheduled digest runs this after each successful send; run it by hand to
    purge now, or with --dry-run to see what would go.

    \b
    Example:
      monitor purge --dry-run
    """
    app = app_context(ctx)
    settings = app.settings()
    result = purge(app.db(), settings, app.now(), dry_run=dry_run)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} {result.total} rows older than {result.cutoff:%Y-%m-%d %H:%M} UTC:")
    for what, count in result.deleted.items():
        click.echo(f"  {count:>8}  {what}")


def register(group: click.Group) -> None:
    group.add_command(purge_command)

"""`monitor customers import FILE`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from monitor.cli import app_context, common_options
from monitor.core.errors import InputError
from monitor.store.customer_import import import_customers

SHOWN_BAD_ROWS = 50


@click.group("customers")
@common_options
def customers() -> None:
    """The customer directory that signals are linked to."""


@customers.command("import")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@common_options
@click.pass_context
def import_command(ctx: click.Context, file: Path) -> None:
    """Upsert customers from FILE: CSV with a header row, or JSON Lines.

    Columns: id,email,first_name,last_name and optionally company. Rows are matched on id;
    the email is kept as given for display and lower-cased for matching. Bad rows are
    reported by line number and skipped; the good ones are imported. Signals stored
    earlier are linked again afterwards, so a customer imported late still shows up.

    \b
    Examples:
      monitor customers import customers.csv
      monitor customers import export.jsonl
    """
    app = app_context(ctx)
    if not file.is_file():
        raise InputError(f"Cannot read {file}: no such file.")
    settings = app.settings()
    db = app.db()
    extra = settings.mailgun.public_domains if settings.mailgun else ()
    if sys.stdout.isatty():
        with click.progressbar(length=file.stat().st_size, label=f"Importing {file.name}") as bar:
            result = import_customers(db, file, app.now(), extra_public_domains=extra, on_bytes=bar.update)
    else:
        result = import_customers(db, file, app.now(), extra_public_domains=extra)
    for bad in result.bad[:SHOWN_BAD_ROWS]:
        click.echo(f"{file}:{bad.line}: skipped: {bad.reason}", err=True)
    if result.bad_total > SHOWN_BAD_ROWS:
        click.echo(f"... and {result.bad_total - SHOWN_BAD_ROWS} more bad rows", err=True)
    click.echo(f"Imported {result.imported} customers from {file}; skipped {result.bad_total} bad rows.")
    if result.relinked:
        click.echo(f"Linked {result.relinked} stored signals to customers.")


def register(group: click.Group) -> None:
    group.add_command(customers)

"""`monitor suppressions remove EMAIL`: the runbook's "remove the suppression when appropriate"."""

from __future__ import annotations

import getpass
from collections.abc import Mapping
from typing import Any

import click

from monitor.cli import app_context, common_options
from monitor.config.settings import MailgunSettings
from monitor.poll.mailgun_lists import record_removal
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_client import client_for, delete_entry, lookup_entry, section
from monitor.sources.mailgun_entries import entry_title, parse_entry
from monitor.sources.mailgun_parse import LISTS

CAUTION = {
    "complaints": "remove it only with the customer's consent",
    "unsubscribes": "the customer's own choice: remove it only when they ask for mail again",
}


@click.group("suppressions")
@common_options
def suppressions() -> None:
    """Mailgun's suppression lists (bounces, complaints, unsubscribes) of the sending domain.

    Mailgun sends nothing to an address on one of these lists: no password resets, no
    receipts. `monitor suppressions remove` takes an address off them once the cause is fixed.
    """


@suppressions.command("remove")
@click.argument("email")
@click.option(
    "--list",
    "list_name",
    type=click.Choice(LISTS),
    help="Only this list (default: every list the address is on).",
)
@click.option("--yes", "-y", is_flag=True, help="Remove without asking for confirmation.")
@click.option("--dry-run", is_flag=True, help="Only show what would be removed.")
@common_options
@click.pass_context
def remove_command(ctx: click.Context, email: str, list_name: str | None, yes: bool, dry_run: bool) -> None:
    """Remove EMAIL from Mailgun's suppression lists so mail reaches it again.

    First shows each list the address is on, with the date and reason, then asks before
    removing (unless --yes). Each removal is recorded in the database, with who ran it.
    Remove a bounce only after the customer confirmed the address; a complaint only with
    their consent. Exit status 1 when Mailgun cannot be reached or refuses.

    \b
    Examples:
      monitor suppressions remove jane@acme.example --dry-run
      monitor suppressions remove jane@acme.example --list bounces
      monitor suppressions remove jane@acme.example --yes
    """
    if "@" not in email.strip():
        raise click.BadParameter(f"{email!r} is not an email address", param_hint="EMAIL")
    app = app_context(ctx)
    mailgun = section(app.settings())
    client = client_for(app.settings(), app.secrets(required=False), app.stop)
    try:
        found = _entries(client, mailgun, email, [list_name] if list_name else list(LISTS))
        if not found:
            where = f"the {list_name} list" if list_name else "none of the lists (" + ", ".join(LISTS) + ")"
            click.echo(f"{email} is on {where} of {mailgun.domain}; nothing to remove.")
            return
        click.echo(f"{email} is on these suppression lists of {mailgun.domain}:")
        for name, entry in found.items():
            click.echo(f"  {name}: {_describe(name, entry)}")
        names = " and ".join(found)
        if dry_run:
            click.echo(f"Dry run: would remove {email} from the {names} list(s); nothing was removed.")
            return
        if not yes and not click.confirm(f"Remove {email} from the {names} list(s)?", default=False):
            click.echo("Nothing was removed.")
            return
        for name in found:
            message = delete_entry(client, mailgun, name, email)
            record_removal(app.db(), name, email, app.now(), _removed_by())
            click.echo(f"Removed {email} from the {name} list of {mailgun.domain} (Mailgun: {message}).")
    finally:
        client.close()


def _entries(client: HttpClient, mailgun: MailgunSettings, email: str, lists: list[str]) -> dict[str, Any]:
    found = {}
    for name in lists:
        entry = lookup_entry(client, mailgun, name, email)
        if entry is not None:
            found[name] = entry
    return found


def _describe(name: str, raw: Any) -> str:
    """`since 2026-11-23 09:12 UTC: 550 5.1.1 mailbox unavailable`, or the raw answer if odd."""
    if not isinstance(raw, Mapping):
        return "on the list"
    try:
        entry = parse_entry(name, raw)
    except ValueError:
        return f"on the list (created_at {raw.get('created_at')!r})"
    caution = f"; {CAUTION[name]}" if name in CAUTION else ""
    return f"since {entry.created_at:%Y-%m-%d %H:%M} UTC: {entry_title(entry)}{caution}"


def _removed_by() -> str:
    try:
        user = getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        user = "unknown user"
    return f"monitor suppressions remove, run by {user}"


def register(group: click.Group) -> None:
    group.add_command(suppressions)

"""`monitor ack` and `monitor unack`: follow-up state, so the digest tells who is new."""

from __future__ import annotations

import getpass
import json
import os
from typing import Any

import click

from monitor.cli import app_context, common_options
from monitor.config.context import AppContext
from monitor.core.errors import InputError
from monitor.core.models import normalize_email
from monitor.core.timeutil import to_public
from monitor.digest.model import AckRow
from monitor.store.acks import acknowledge, recent, reopened, withdraw
from monitor.store.lookup import FoundCustomer, Query, find_customers


@click.command("ack")
@click.argument("query", required=False)
@click.option("--days", type=int, default=7, show_default=True, help="How long it holds: 1 to 90 days.")
@click.option("--note", default="", help="What was done, shown in the digest (e.g. 'wrote 1 Dec').")
@click.option("--by", "by", default=None, help="Who acknowledged (default: your login name).")
@click.option("--list", "list_", is_flag=True, help="Show acknowledgements in force and recently ended.")
@click.option("--json", "as_json", is_flag=True, help="With --list: one JSON object.")
@common_options
@click.pass_context
def ack_command(
    ctx: click.Context, query: str | None, days: int, note: str, by: str | None, list_: bool, as_json: bool
) -> None:
    """Acknowledge a customer: support follows them up, so the digest moves them to its last,
    collapsed section until --days have passed, unless a new kind of problem reopens them.

    QUERY is a customer ID or an email address, found as `monitor lookup` finds them; more
    than one match is refused with the candidates. An acknowledgement counts for a digest day
    only if it was made before that day ended: past digests regenerate unchanged.

    \b
    Examples:
      monitor ack 48213 --note "called, card replaced" --days 3
      monitor ack jane@acme.example --by alice
      monitor ack --list
      monitor unack 48213
    """
    app = app_context(ctx)
    if list_:
        _print_list(app, as_json)
        return
    if not query:
        raise InputError("Give a customer ID or an email address to acknowledge, or --list.")
    if not 1 <= days <= 90:
        raise InputError(f"--days must be from 1 to 90, not {days}.")
    who = by if by is not None else (os.environ.get("SUDO_USER") or getpass.getuser())
    if "\r" in who or "\n" in who:
        raise InputError("--by must be one line.")
    customer = resolve(app, query)
    ack = acknowledge(app.db(), customer.id, app.now(), days, note, who)
    known = ", ".join(sorted(ack.categories)) or "no signal yet"
    click.echo(
        f"Acknowledged customer {customer.id} ({customer.email or customer.name or 'no address'}) "
        f"until {to_public(ack.until)}, for: {known}. A new kind of problem reopens them."
    )


@click.command("unack")
@click.argument("query")
@common_options
@click.pass_context
def unack_command(ctx: click.Context, query: str) -> None:
    """Take back a customer's acknowledgement: from now on the digest shows them as new or
    ongoing again. Digests of days before now stay as they were.

    \b
    Example:
      monitor unack 48213
    """
    app = app_context(ctx)
    customer = resolve(app, query)
    ended = withdraw(app.db(), customer.id, app.now())
    if not ended:
        raise InputError(f"Customer {customer.id} has no acknowledgement in force.")
    click.echo(f"Took back the acknowledgement of customer {customer.id}.")


def resolve(app: AppContext, query: str) -> FoundCustomer:
    """Exactly one customer by ID or email, or InputError naming the candidates."""
    text = query.strip()
    email = normalize_email(text) if "@" in text else None
    found, _more = find_customers(app.db(), Query(text, email=email))
    if not found:
        raise InputError(f"No customer has the ID or email {text!r}; see `monitor lookup {text}`.")
    if len(found) > 1:
        names = "; ".join(f"{c.id} <{c.email}>" for c in found[:10])
        raise InputError(f"{text!r} matches {len(found)} customers ({names}); acknowledge one by its ID.")
    return found[0]


def _print_list(app: AppContext, as_json: bool) -> None:
    now = app.now()
    rows = [_document(app, ack, now) for ack in recent(app.db(), now)]
    if as_json:
        click.echo(json.dumps({"now": to_public(now), "acknowledgements": rows}, indent=2))
        return
    if not rows:
        click.echo("No acknowledgement in force or ended in the last 14 days.")
    for row in rows:
        note = f": {row['note']}" if row["note"] else ""
        click.echo(
            f"  {row['customer_id']:<10} {row['state']:<10} by {row['by'] or '?'} until {row['until']}{note}"
        )


def _document(app: AppContext, ack: AckRow, now: Any) -> dict[str, Any]:
    if ack.withdrawn_at is not None and ack.withdrawn_at <= now:
        state = "withdrawn"
    elif ack.until <= now:
        state = "expired"
    else:
        state = "reopened" if reopened(app.db(), ack, now) else "in force"
    return {
        "customer_id": ack.customer_id,
        "state": state,
        "at": to_public(ack.at),
        "until": to_public(ack.until),
        "note": ack.note,
        "by": ack.by,
        "categories": sorted(ack.categories),
        "withdrawn_at": to_public(ack.withdrawn_at) if ack.withdrawn_at else None,
    }


def register(group: click.Group) -> None:
    group.add_command(ack_command)
    group.add_command(unack_command)

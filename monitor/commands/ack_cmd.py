"""`monitor ack` and `monitor unack`: follow-up state, so the digest tells who is new."""

from __future__ import annotations

import getpass
import json
import os
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import click

from monitor.cli import app_context, common_options
from monitor.config.context import AppContext
from monitor.core.errors import InputError
from monitor.core.models import normalize_email
from monitor.core.timeutil import to_public
from monitor.digest.model import AckRow
from monitor.digest.render import clip
from monitor.store.acks import FOLLOW_UP_DAYS, acknowledge, recent, reopened, withdraw
from monitor.store.lookup import FoundCustomer, Query, find_customers


@click.command("ack")
@click.argument("query", required=False)
@click.option("--days", type=int, default=7, show_default=True, help="How long it holds: 1 to 90 days.")
@click.option("--note", default="", help="What was done, shown in the digest (e.g. 'wrote 1 Dec').")
@click.option(
    "--by", "by", default=None, help="Who acknowledged, one line (default: $SUDO_USER, else your login name)."
)
@click.option("--list", "list_", is_flag=True, help="Show acknowledgements in force and recently ended.")
@click.option("--json", "as_json", is_flag=True, help="With --list: one JSON object.")
@common_options
@click.pass_context
def ack_command(
    ctx: click.Context, query: str | None, days: int, note: str, by: str | None, list_: bool, as_json: bool
) -> None:
    """Acknowledge a customer: support follows them up, so the digest moves them to its last,
    collapsed section for --days digest days, unless a new kind of problem reopens them.

    QUERY is a customer ID or an email address (any case), found as `monitor lookup` finds
    them; an email several customers share is refused with their IDs. An acknowledgement
    counts for each digest day it is in force at the end of (local midnight): the day you run
    it and the --days - 1 after. Days that have ended never change: past digests regenerate
    as they were sent. The kinds of problem the customer had in the last 14 days are
    recorded; a signal of another kind reopens them until you acknowledge them again.

    --list shows the acknowledgements in force (or reopened) and those that expired or were
    taken back in the last 14 days; with --json as one document.

    \b
    Examples:
      monitor ack 48213 --note "called, card replaced" --days 3
      monitor ack jane@acme.example --by alice
      monitor ack --list
      monitor unack 48213
    """
    app = app_context(ctx)
    if list_:
        if query is not None:
            raise InputError(f"--list shows every acknowledgement; leave out {query!r}, or drop --list.")
        _print_list(app, as_json)
        return
    if as_json:
        raise InputError("--json goes with --list: monitor ack --list --json.")
    if not query or not query.strip():
        raise InputError("Give a customer ID or an email address to acknowledge, or --list.")
    if not 1 <= days <= 90:
        raise InputError(f"--days must be from 1 to 90, not {days}.")
    who = by if by is not None else default_by()
    if "\r" in who or "\n" in who:
        raise InputError("--by must be one line: a name without line breaks.")
    customer = resolve(app, query)
    ack = acknowledge(app.db(), customer.id, app.now(), days, note, who)
    known = ", ".join(sorted(ack.categories)) or "no signal yet, so any signal reopens them"
    click.echo(
        f"Acknowledged customer {customer.id} ({clip(customer.email or customer.name or 'no address')}) "
        f"until {local(ack.until, app.settings().zone)}, for: {known}. A new kind of problem reopens them."
    )


def default_by() -> str:
    """Who runs the command: the user behind sudo, else the login name."""
    try:
        return os.environ.get("SUDO_USER") or getpass.getuser()
    except (OSError, KeyError):  # no login name in some containers
        return ""


@click.command("unack")
@click.argument("query")
@common_options
@click.pass_context
def unack_command(ctx: click.Context, query: str) -> None:
    """Take back a customer's acknowledgement: from today's digest on they show as new or
    ongoing again. Days that have ended stay as they were; the acknowledgement stays in
    `monitor lookup` and `monitor ack --list` as withdrawn.

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
    if not text:
        raise InputError("Give a customer ID or an email address.")
    email = normalize_email(text) if "@" in text else None
    found, _more = find_customers(app.db(), Query(text, email=email))
    if not found:
        raise InputError(
            f"No customer has the ID or email {clip(text, 80)!r}; find them with monitor lookup."
        )
    if len(found) > 1:
        names = "; ".join(f"{clip(c.id, 40)} <{clip(c.email, 80)}>" for c in found[:10])
        more = f" and {len(found) - 10} more" if len(found) > 10 else ""
        raise InputError(f"{clip(text, 80)!r} matches {len(found)} customers ({names}{more}); give one ID.")
    return found[0]


def _print_list(app: AppContext, as_json: bool) -> None:
    now, zone = app.now(), app.settings().zone
    acks = recent(app.db(), now)
    rows = [ack_document(ack, now, reopened(app.db(), ack, now)) for ack in acks]
    if as_json:
        click.echo(
            json.dumps({"now": to_public(now), "acknowledgements": rows}, indent=2, ensure_ascii=False)
        )
        return
    if not rows:
        click.echo(f"No acknowledgement in force or ended in the last {FOLLOW_UP_DAYS} days.")
    for ack, row in zip(acks, rows, strict=True):
        click.echo(f"  {clip(ack.customer_id, 20):<10} {row['state']:<9} {ack_line(ack, zone)}")


def ack_state(ack: AckRow, now: datetime, reopened: bool) -> str:
    """withdrawn | expired | reopened | in force | later (made after `now`)."""
    if ack.withdrawn_at is not None and ack.withdrawn_at <= now:
        return "withdrawn"
    if ack.until <= now:
        return "expired"
    if ack.at > now:
        return "later"
    return "reopened" if reopened else "in force"


def ack_document(ack: AckRow, now: datetime, reopened: bool) -> dict[str, Any]:
    """One acknowledgement as `ack --list --json` and `lookup --json` show it."""
    return {
        "customer_id": ack.customer_id,
        "state": ack_state(ack, now, reopened),
        "at": to_public(ack.at),
        "until": to_public(ack.until),
        "note": ack.note,
        "by": ack.by,
        "categories": sorted(ack.categories),
        "withdrawn_at": to_public(ack.withdrawn_at) if ack.withdrawn_at else None,
        "reopened": reopened,
    }


def ack_line(ack: AckRow, zone: ZoneInfo) -> str:
    """`2026-12-01 09:00 by alice until 2026-12-08 09:00 (CET), taken back ...: note`, one
    line whatever the note holds."""
    ended = f", taken back {local(ack.withdrawn_at, zone)}" if ack.withdrawn_at else ""
    note = f": {clip(ack.note)}" if ack.note else ""
    by = clip(ack.by, 60) or "?"
    return f"{local(ack.at, zone)} by {by} until {local(ack.until, zone)}{ended}{note}"


def local(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def register(group: click.Group) -> None:
    group.add_command(ack_command)
    group.add_command(unack_command)

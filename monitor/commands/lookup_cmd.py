"""`monitor lookup QUERY [--days N] [--json]`."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import click

from monitor.cli import app_context, common_options
from monitor.commands.ack_cmd import ack_document, ack_line, ack_state
from monitor.config.settings import Settings
from monitor.core.timeutil import to_public
from monitor.store.acks import history as ack_history
from monitor.store.acks import reopened
from monitor.store.lookup import FoundCustomer, FoundSignal, LookupResult, lookup

TITLE_WIDTH = 70


@click.command("lookup")
@click.argument("query")
@click.option(
    "--days", default=30, show_default=True, type=click.IntRange(min=1), help="Signals of the last N days."
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document (for scripts).")
@common_options
@click.pass_context
def lookup_command(ctx: click.Context, query: str, days: int, as_json: bool) -> None:
    """Everything known about a customer: by customer ID, email, email domain or name.

    QUERY is matched as the portal's admin search does: an exact customer ID, an exact
    email (any case), a domain (acme.com or @acme.com), or part of a first, last or full
    name (any case). Each customer is listed with its admin and Sentry `user.id:` search
    links, then its Sentry and Mailgun signals, newest first, each with its evidence link
    and how it was linked. Signals linked to no customer whose address or domain matches
    are listed as well. Exits 0 also when nothing matches.

    \b
    Examples:
      monitor lookup 48213
      monitor lookup jane@acme.example
      monitor lookup @acme.example --days 7
      monitor lookup "jane doe" --json
    """
    app = app_context(ctx)
    settings = app.settings()
    now = app.now()
    result = lookup(app.db(), query, now=now, days=days)
    acks = {customer.id: ack_history(app.db(), customer.id) for customer in result.customers}
    if as_json:
        document = as_document(result, settings)
        for customer in document["customers"]:
            customer["acknowledgements"] = [
                ack_document(ack, now, reopened(app.db(), ack, now)) for ack in acks[customer["customer_id"]]
            ]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
    elif result.empty:
        click.echo(f"No customer or signal matches {result.query}.")
    else:
        for line in as_text(result, settings):
            click.echo(line)
        for customer_id, history in acks.items():
            for ack in history:
                state = ack_state(ack, now, reopened(app.db(), ack, now))
                click.echo(f"Customer {customer_id} acknowledged ({state}): {ack_line(ack, settings.zone)}")


def mailgun_logs_url(settings: Settings, email: str | None) -> str:
    """The Mailgun logs of one recipient, from [links] mailgun_logs and the sending domain."""
    if not email or settings.mailgun is None:
        return ""
    return settings.links.mailgun_logs.format(
        domain=quote(settings.mailgun.domain, safe=""), email=quote(email, safe="")
    )


def admin_url(settings: Settings, customer_id: str) -> str:
    return settings.links.customer.format(customer_id=quote(customer_id, safe=""))


def signal_document(signal: FoundSignal, settings: Settings) -> dict[str, Any]:
    logs = mailgun_logs_url(settings, signal.email) if signal.source == "mailgun" else ""
    return {
        "source": signal.source,
        "key": signal.key,
        "category": signal.category,
        "occurred_at": to_public(signal.occurred_at),
        "title": signal.title,
        "url": signal.url or logs,
        "logs_url": logs,
        "email": signal.email,
        "customer_ref": signal.customer_ref,
        "name": signal.name,
        "action": signal.action,
        "match": signal.match,
        "confidence": signal.confidence,
        "detail": signal.detail,
    }


def customer_document(customer: FoundCustomer, settings: Settings) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "email": customer.email,
        "name": customer.name,
        "first_name": customer.first_name,
        "last_name": customer.last_name,
        "company": customer.company,
        "origin": customer.origin,
        "found_by": customer.found_by,
        "admin_url": admin_url(settings, customer.id),
        "sentry_search_url": settings.sentry_user_search_url(customer.id),
        "signal_total": customer.signal_total,
        "signals": [signal_document(signal, settings) for signal in customer.signals],
    }


def as_document(result: LookupResult, settings: Settings) -> dict[str, Any]:
    """The stable JSON form of `monitor lookup --json`."""
    return {
        "query": result.query,
        "days": result.days,
        "since": to_public(result.since),
        "customers": [customer_document(customer, settings) for customer in result.customers],
        "more_customers": result.more_customers,
        "unlinked": [signal_document(signal, settings) for signal in result.unlinked],
    }


def as_text(result: LookupResult, settings: Settings) -> list[str]:
    lines: list[str] = []
    for customer in result.customers:
        who = f"{customer.name} <{customer.email}>" if customer.name else f"<{customer.email}>"
        company = f", {customer.company}" if customer.company else ""
        lines.append(f"Customer {customer.id}: {who}{company} (found by {', '.join(customer.found_by)})")
        lines.append(f"  admin   {admin_url(settings, customer.id)}")
        search = settings.sentry_user_search_url(customer.id)
        if search:
            lines.append(f"  sentry  {search}")
        if not customer.signals:
            lines.append(f"  no signals in the last {result.days} days")
        else:
            shown = len(customer.signals)
            more = f" (the newest {shown} shown)" if customer.signal_total > shown else ""
            lines.append(f"  {customer.signal_total} signal(s) in the last {result.days} days{more}:")
            lines.extend(line for signal in customer.signals for line in _signal_lines(signal, settings))
        lines.append("")
    if result.more_customers:
        lines.append(f"... and {result.more_customers} more customers; narrow the query.")
    if result.unlinked:
        lines.append(f"Linked to no customer, matching {result.query}: {len(result.unlinked)} signal(s)")
        lines.extend(line for signal in result.unlinked for line in _signal_lines(signal, settings))
    return lines


def _signal_lines(signal: FoundSignal, settings: Settings) -> list[str]:
    when = signal.occurred_at.astimezone(settings.zone).strftime("%Y-%m-%d %H:%M %Z")
    title = " ".join(signal.title.split())
    title = title if len(title) <= TITLE_WIDTH else title[: TITLE_WIDTH - 3] + "..."
    how = f"  [{signal.match}]" if signal.match else f"  [{signal.email}]" if signal.email else ""
    lines = [f"    {when}  {signal.source:<7}  {signal.category:<20}  {title}{how}"]
    detail = signal.detail if isinstance(signal.detail, dict) else {}
    facts = {
        "rule": detail.get("rule"),  # Sentry: what filed it (`monitor classify` explains)
        "enhanced code": detail.get("enhanced_code"),
        "mx host": detail.get("mx_host"),
        "mail": detail.get("subject"),
    }
    shown = "; ".join(f"{name}: {value}" for name, value in facts.items() if value)
    if shown:
        lines.append(f"      {shown}")
    logs = mailgun_logs_url(settings, signal.email) if signal.source == "mailgun" else ""
    for url in dict.fromkeys(u for u in (signal.url, logs) if u):
        lines.append(f"      {url}")
    return lines


def register(group: click.Group) -> None:
    group.add_command(lookup_command)

"""`monitor classify`: the operator's test bench for the classification rules."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import click

from monitor.cli import app_context, common_options
from monitor.core.classify import ErrorText, classify, rules_from_settings
from monitor.core.errors import InputError
from monitor.core.models import NOT_PURCHASE
from monitor.store.reclassify import Reclassified, reclassify


@click.command("classify")
@click.option("--title", help="The error's title, as Sentry shows it (`Zuora::APIError: ...`).")
@click.option("--culprit", default="", help="Where it happened: `SubscriptionsController#create`.")
@click.option("--transaction", default="", help="The `transaction` tag: `POST /subscriptions`.")
@click.option("--type", "exception_type", default="", help="The exception type: `Stripe::CardError`.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--stored", is_flag=True, help="Re-read the stored Sentry signals instead of one error.")
@click.option(
    "--days", type=click.IntRange(1, 3650), default=30, show_default=True, help="With --stored: how far back."
)
@click.option("--apply", is_flag=True, help="With --stored: re-file the signals whose category changed.")
@common_options
@click.pass_context
def classify_command(
    ctx: click.Context,
    title: str | None,
    culprit: str,
    transaction: str,
    exception_type: str,
    as_json: bool,
    stored: bool,
    days: int,
    apply: bool,
) -> None:
    """Show how a Sentry error would be classified, or re-file stored ones under the current rules.

    With --title (and optionally --culprit, --transaction, --type) it prints the category,
    the rule that decided and why, and the next step support would get. Operator rules from
    [[classification.rules]] in the config come first, as in a poll.

    With --stored it re-reads the stored Sentry signals of the last --days and prints how many
    would change category, with examples; nothing changes unless --apply is given. After
    --apply, regenerated digests of past days use the new categories.

    \b
    Examples:
      monitor classify --title "Zuora::APIError: Your card was declined." \\
                       --culprit SubscriptionsController#create
      monitor classify --title "Redis::CannotConnectError" --transaction Sidekiq/SyncWorker --json
      monitor classify --stored --days 14
      monitor classify --stored --days 14 --apply
    """
    app = app_context(ctx)
    rules = rules_from_settings(app.settings().classification.rules)
    if stored:
        result = reclassify(
            app.db(), app.now() - timedelta(days=days), lambda t: classify(t, rules), apply=apply
        )
        _print_stored(result, days, as_json)
        return
    if apply:
        raise InputError("--apply re-files stored signals: use it with --stored.")
    if not title:
        raise InputError("Give --title (and optionally --culprit, --transaction, --type), or --stored.")
    text = ErrorText(title=title, culprit=culprit, exception_type=exception_type, transaction=transaction)
    verdict = classify(text, rules)
    action = verdict.action if verdict.category != NOT_PURCHASE else ""
    report = {
        "category": verdict.category,
        "reported": verdict.category != NOT_PURCHASE,
        "rule": verdict.rule,
        "action": action,
    }
    if as_json:
        click.echo(json.dumps(report, indent=2))
        return
    click.echo(f"category   {verdict.category}{'' if report['reported'] else ' (stored, never reported)'}")
    click.echo(f"rule       {verdict.rule or '(none)'}")
    click.echo(f"next step  {action or '-'}")


def _print_stored(result: Reclassified, days: int, as_json: bool) -> None:
    changes: list[dict[str, Any]] = [
        {"from": old, "to": new, "signals": count, "examples": result.examples.get((old, new), [])}
        for (old, new), count in sorted(result.changes.items())
    ]
    if as_json:
        payload = {
            "examined": result.examined,
            "changed": result.changed,
            "applied": result.applied,
            "changes": changes,
        }
        click.echo(json.dumps(payload, indent=2))
        return
    verb = "changed" if result.applied else "would change"
    click.echo(f"{result.examined} Sentry signals of the last {days} days; {result.changed} {verb} category.")
    for change in changes:
        click.echo(f"  {change['from']} -> {change['to']}: {change['signals']}")
        for example in change["examples"]:
            click.echo(f"      e.g. {example[:120]}")
    if result.changed and not result.applied:
        click.echo("Nothing was changed; run again with --apply to re-file them.")


def register(group: click.Group) -> None:
    group.add_command(classify_command)

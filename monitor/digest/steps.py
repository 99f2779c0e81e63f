"""The digest's suggested next steps for one customer: what the signals themselves suggest,
most serious first, then where to look (Sentry, Mailgun's logs) with links. Pure."""

from __future__ import annotations

from collections.abc import Sequence

from monitor.config.settings import Settings
from monitor.core.models import MAIL_CATEGORIES, PURCHASE_CATEGORIES, email_domain
from monitor.core.urlparts import quote_part
from monitor.digest.model import SignalRow

# The next step when a signal carries none of its own.
DEFAULT_ACTIONS: dict[str, str] = {
    "address_or_card": "Check the billing address (city, state, postal code) and the payment method "
    "with the customer; a rejected card or address blocks the purchase.",
    "expired_subscription": "The subscription has expired and blocks the purchase: help the customer "
    "renew it first.",
    "other_purchase_error": "Read the Sentry event; if the purchase did not go through, contact the "
    "customer.",
    "bounce": "Mail to this address bounces: confirm the address through another channel, then remove "
    "it from the Mailgun bounce list.",
    "complaint": "The customer marked our mail as spam: do not remove the complaint without their consent.",
    "failed_delivery": "Mail to this address failed permanently: confirm the address with the customer.",
    "unsubscribe": "The customer unsubscribed and misses notices: ask whether they want billing mail.",
}


def signal_actions(groups: Sequence[Sequence[SignalRow]]) -> list[str]:
    """Distinct suggested actions, in the order of the lines (most serious first)."""
    actions: list[str] = []
    for group in groups:
        for row in sorted(group, key=lambda r: (r.occurred_at, r.stored_at, r.title), reverse=True):
            action = row.action.strip() or DEFAULT_ACTIONS.get(row.category, "")
            if action and action not in actions:
                actions.append(action)
    return actions


def next_steps(
    customer_id: str, rows: Sequence[SignalRow], strongest: SignalRow, settings: Settings
) -> list[dict[str, str]]:
    """Concrete next steps with their links: where to look next for this customer."""
    steps: list[dict[str, str]] = []
    if strongest.match == "domain":
        domain = email_domain(strongest.email_norm) or ""
        steps.append(
            {
                "text": f"Weak match by the company domain {domain}: make sure this is the right "
                "customer before contacting them",
                "url": "",
            }
        )
    if any(row.category in PURCHASE_CATEGORIES for row in rows):
        url = settings.sentry_user_search_url(customer_id)
        if url:
            steps.append({"text": f"Search Sentry for user.id:{customer_id}", "url": url})
    if settings.mailgun is not None:
        mailed = sorted(
            {row.email_norm for row in rows if row.category in MAIL_CATEGORIES and row.email_norm}
        )
        for address in mailed:
            url = settings.links.mailgun_logs.format(
                domain=quote_part(settings.mailgun.domain), email=quote_part(address)
            )
            steps.append({"text": f"Open the Mailgun logs for {address}", "url": url})
    return steps

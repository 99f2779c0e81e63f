"""Suppression list entries (bounces, complaints, unsubscribes) as records and signals. Pure."""

from __future__ import annotations

from typing import Any

from monitor.config.settings import MailgunSettings
from monitor.core.models import Signal, email_domain, normalize_email
from monitor.core.timeutil import parse_rfc2822
from monitor.sources.mailgun_parse import CATEGORY_OF_LIST, Entry, clean_text, logs_url, mail_signal, tags_of


def parse_entry(list_name: str, item: Any) -> Entry:
    """One list item; ValueError when it has no address or no readable `created_at`."""
    if not isinstance(item, dict):
        raise ValueError("not an object")
    address = clean_text(item.get("address"))
    norm = normalize_email(address)
    if not norm:
        raise ValueError(f"entry without an address on {list_name}")
    raw_created = clean_text(item.get("created_at"))
    try:
        created_at = parse_rfc2822(raw_created)
    except (TypeError, ValueError, IndexError):
        raise ValueError(f"{address} on {list_name}: created_at {raw_created!r} is not a date") from None
    detail: dict[str, object] = {"list": list_name, "created_at": raw_created}
    if email_domain(norm) is None:  # no domain: kept, shown as what it is, never matched
        detail["invalid_address"] = True
    if list_name == "bounces":
        detail.update(
            code=clean_text(item.get("code")), error=" ".join(clean_text(item.get("error")).split())
        )
    elif list_name == "unsubscribes":
        detail["tags"] = tags_of(item)
    return Entry(list_name, address, norm, created_at, detail)


def entry_title(entry: Entry) -> str:
    if entry.detail.get("invalid_address"):
        return f"Invalid address on the {entry.list} list (no domain): never matched to a customer"
    if entry.list == "complaints":
        return "Spam complaint"
    if entry.list == "unsubscribes":
        tags = [str(tag) for tag in entry.detail.get("tags") or []]  # type: ignore[attr-defined]
        if not tags or "*" in tags:
            return "Unsubscribed (all mail)"
        return f"Unsubscribed from {', '.join(tags)}"
    code, error = str(entry.detail.get("code") or ""), str(entry.detail.get("error") or "")
    return " ".join(part for part in (code, error) if part) or "On the bounce list"


def entry_to_signal(
    entry: Entry, mailgun: MailgunSettings, logs_template: str, *, backfill: bool = False
) -> Signal:
    """`backfill`: the entry came with a list's first snapshot (its whole history), marked so
    reports can tell old entries from news."""
    return mail_signal(
        CATEGORY_OF_LIST[entry.list],
        entry.address,
        entry.created_at,
        entry_title(entry),
        logs_url(logs_template, mailgun.domain, entry.address),
        {**entry.detail, "backfill": True} if backfill else dict(entry.detail),
    )

"""The pure half of the Mailgun source: wire records in, Signals out. No I/O, no clock.

Mailgun reports the same trouble in two places: the Events API (`failed` with severity
`permanent`, `complained`, `unsubscribed`) and the suppression lists (bounces, complaints,
unsubscribes). Both become signals keyed `{category}:{address}:{UTC date}`, so one address
gets one signal per category and day, and the same bounce seen by the events poll and by the
list reconciliation is stored once (the second insert is ignored).

Parsing is lenient (Mailgun's types drift: `code` as text or number, `delivery-status` null,
`tags` as list, string or the legacy `tag`); a record without a recipient or a time raises
`ValueError` and is counted as skipped by the caller.

Wire objects are tested with `isinstance(x, dict)`: JSON objects always decode to dict, and
the exact test costs a fraction of the `Mapping` ABC's (a backfill makes a million of them).
"""

from __future__ import annotations

import json
from collections.abc import Container, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from monitor.config.settings import MailgunSettings
from monitor.core.models import Signal, normalize_email
from monitor.core.timeutil import from_db, from_epoch, parse_iso
from monitor.core.urlparts import quote_part

CURSOR = "mailgun-events"
LISTS = ("bounces", "complaints", "unsubscribes")
CATEGORY_OF_LIST = {"bounces": "bounce", "complaints": "complaint", "unsubscribes": "unsubscribe"}
TITLE_MAX = 200

ACTIONS = {
    "bounce": (
        "Confirm the address with the customer (through another channel); once fixed, remove the "
        "bounce with `monitor suppressions remove {email}`."
    ),
    "complaint": (
        "The customer marked our mail as spam, so Mailgun stops mailing them; don't remove the "
        "complaint without the customer's consent."
    ),
    "unsubscribe": (
        "The customer unsubscribed; password resets and confirmations will not arrive until they resubscribe."
    ),
    "failed_delivery": (
        "Mail to this address failed permanently but it is not on the bounce list; check the "
        "address and the receiving server's answer in the Mailgun logs."
    ),
}

# A permanent failure's `reason`: a hard bounce, or (`suppress-*`) Mailgun did not even try
# because the address is already on one of its lists. Any other reason is a failed delivery.
REASON_CATEGORY = {
    "bounce": "bounce",
    "suppress-bounce": "bounce",
    "suppress-complaint": "complaint",
    "suppress-unsubscribe": "unsubscribe",
}


@dataclass(frozen=True)
class Parsed:
    """What one page turned into: signals, records not reported (temporary failures, other
    event types) and records that could not be parsed (with the reason, for the log)."""

    signals: list[Signal] = field(default_factory=list)
    ignored: int = 0
    skipped: list[str] = field(default_factory=list)


class Entry(NamedTuple):
    """One suppression list entry, parsed (a NamedTuple: a list of a million makes a million)."""

    list: str
    address: str  # as given
    address_norm: str
    created_at: datetime
    detail: dict[str, object]


# --- the events window -------------------------------------------------------------------


def poll_window(cursor: str | None, now: datetime, mailgun: MailgunSettings) -> tuple[datetime, datetime]:
    """[cursor - overlap, now - trust], or [now - lookback, now - trust] on the first poll.
    Whole seconds, because the API takes epoch seconds. Events younger than `trust_minutes`
    may still be stored out of order (Mailgun's polling guidance), so they wait for the next
    poll; the overlap re-reads what was stored late behind the last window's end."""
    end = (now - timedelta(minutes=mailgun.trust_minutes)).replace(microsecond=0)
    if cursor is None:
        begin = now - timedelta(days=mailgun.lookback_days)
    else:
        begin = from_db(cursor) - timedelta(minutes=mailgun.overlap_minutes)
    return begin.replace(microsecond=0), end


# --- shared signal parts --------------------------------------------------------------------


def signal_key(category: str, address_norm: str, occurred_at: datetime) -> str:
    """One trouble per category, address and UTC day. The UTC day is deliberate: a key must
    not change with the configured zone (a database outlives a config change). It is never
    shown; the digest dates signals in the configured zone."""
    return f"{category}:{address_norm}:{occurred_at.date().isoformat()}"


def logs_url(template: str, domain: str, email: str) -> str:
    return template.format(domain=domain, email=quote_part(email.strip()))


def mail_signal(
    category: str,
    email: str,
    occurred_at: datetime,
    title: str,
    logs: str,
    detail: dict[str, object],
    customer_ref: str | None = None,
) -> Signal:
    norm = normalize_email(email) or ""
    return Signal(
        source="mailgun",
        key=signal_key(category, norm, occurred_at),
        category=category,
        occurred_at=occurred_at,
        title=title[:TITLE_MAX],
        group=f"{category}:{norm}",
        url=logs,
        customer_ref=customer_ref,
        email=email.strip(),
        # The normalized address: every record of one trouble suggests the same command.
        action=ACTIONS[category].format(email=norm),
        detail={name: value for name, value in detail.items() if value or _kept(value)},
    )


def _kept(value: object) -> bool:
    """Whether a false value stays in a detail: a zero or False does; None, "", [] and {} do not."""
    return value is not None and not isinstance(value, str | list | dict)


def clean_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def tags_of(record: Mapping[str, Any]) -> list[str]:
    """`tags` as a list or a bare string, or the legacy singular `tag`."""
    raw = record.get("tags", record.get("tag"))
    if raw is None:
        return []
    if isinstance(raw, str):
        return [raw] if raw.strip() else []
    if isinstance(raw, list | tuple):
        return [str(tag) for tag in raw if tag is not None and str(tag).strip()]
    return [str(raw)]


# --- events ---------------------------------------------------------------------------------


def event_category(event: Mapping[str, Any], bounced: Container[str]) -> str | None:
    """The category of an event, None when it is not reported (a temporary failure, another
    event type). `bounced` holds the normalized addresses now on the bounce list."""
    kind = clean_text(event.get("event")).lower()
    if kind == "complained":
        return "complaint"
    if kind == "unsubscribed":
        return "unsubscribe"
    if kind != "failed" or clean_text(event.get("severity")).lower() != "permanent":
        return None
    reason = clean_text(event.get("reason")).lower()
    if reason in REASON_CATEGORY:
        return REASON_CATEGORY[reason]
    return "bounce" if normalize_email(recipient_of(event)) in bounced else "failed_delivery"


def recipient_of(event: Mapping[str, Any]) -> str | None:
    recipient = event.get("recipient")
    if isinstance(recipient, str) and "@" in recipient:
        return recipient.strip()
    return None


def event_time(event: Mapping[str, Any]) -> datetime:
    """The Events API's float epoch `timestamp` (sometimes sent as text), or the Logs API's
    ISO-8601 `@timestamp`."""
    raw = event.get("timestamp")
    if raw is None and isinstance(event.get("@timestamp"), str):
        try:
            return parse_iso(event["@timestamp"])
        except ValueError:
            raise ValueError(f"@timestamp {event['@timestamp']!r} is not ISO-8601") from None
    if isinstance(raw, bool) or raw is None:
        raise ValueError("no timestamp")
    try:
        return from_epoch(float(raw))
    except (TypeError, ValueError, OverflowError, OSError):
        raise ValueError(f"timestamp {raw!r} is not epoch seconds") from None


def failure_title(status: Mapping[str, Any] | None, reason: str) -> str:
    """`550 5.1.1 mailbox unavailable`: the code and the server's message (or Mailgun's description)."""
    status = status if isinstance(status, dict) else {}
    code = clean_text(status.get("code"))
    text = clean_text(status.get("message")) or clean_text(status.get("description"))
    title = " ".join(part for part in (code, " ".join(text.split())) if part)
    return title or f"Permanent failure ({reason or 'no reason given'})"


def user_variables(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """`user-variables`: an object in the Events API, a JSON-encoded string in the Logs API.
    Anything unreadable is no variables at all."""
    raw = event.get("user-variables")
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except ValueError:
            return {}
    return raw if isinstance(raw, dict) else {}


def subject_of(event: Mapping[str, Any]) -> str:
    """The subject of the mail the event is about ("Reset password instructions")."""
    message = event.get("message")
    headers = message.get("headers") if isinstance(message, dict) else None
    return " ".join(clean_text(headers.get("subject")).split()) if isinstance(headers, dict) else ""


def event_to_signal(
    event: Mapping[str, Any], mailgun: MailgunSettings, logs_template: str, bounced: Container[str]
) -> Signal | None:
    """One event as a signal; None when it is not reported; ValueError when it cannot be read."""
    if not isinstance(event, dict):
        raise ValueError("not an object")
    category = event_category(event, bounced)
    if category is None:
        return None
    email = recipient_of(event)
    if email is None:
        raise ValueError(f"event {event.get('id')!r} has no recipient")
    occurred_at = event_time(event)
    status = event.get("delivery-status")
    reason = clean_text(event.get("reason"))
    status = status if isinstance(status, dict) else {}
    titles = {"complaint": "Spam complaint", "unsubscribe": "Unsubscribed"}
    title = titles.get(category) or failure_title(status, reason)
    subject = subject_of(event)
    if subject:  # which mail did not arrive: a password reset is not a newsletter
        title = f"{title} (mail: {subject})"
    variables = user_variables(event)
    customer = clean_text(variables.get(mailgun.customer_id_variable)) or None
    detail: dict[str, object] = {
        "event": clean_text(event.get("event")),
        "event_id": clean_text(event.get("id")),
        "reason": reason,
        "severity": clean_text(event.get("severity")),
        "code": clean_text(status.get("code")),
        "enhanced_code": clean_text(status.get("enhanced-code")),
        "mx_host": clean_text(status.get("mx-host")),
        "subject": subject,
        "tags": tags_of(event),
        "timestamp": occurred_at.timestamp(),  # one form, whichever API the event came from
    }
    logs = logs_url(logs_template, mailgun.domain, email)
    return mail_signal(category, email, occurred_at, title, logs, detail, customer)


def parse_events(
    items: list[Any], mailgun: MailgunSettings, logs_template: str, bounced: Container[str]
) -> Parsed:
    signals: list[Signal] = []
    skipped: list[str] = []
    ignored = 0
    for item in items:
        try:
            signal = event_to_signal(item, mailgun, logs_template, bounced)
        except ValueError as err:
            skipped.append(str(err))
            continue
        if signal is None:
            ignored += 1
        else:
            signals.append(signal)
    return Parsed(signals, ignored, skipped)

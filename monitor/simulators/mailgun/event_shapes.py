"""The JSON of one Events-API item, shaped like the ones Mailgun's clients recorded:
the common fields, then what the outcome (failed, delivered, rejected) adds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import cast

from monitor.simulators.mailgun.wire import JSON

# Mailgun's internal codes for sends it drops because the address is already suppressed.
_SUPPRESSED_STATUS = {
    "suppress-bounce": (605, "Not delivering to previously bounced address"),
    "suppress-unsubscribe": (606, "Not delivering to unsubscribed address"),
    "suppress-complaint": (607, "Not delivering to a user who marked your messages as spam"),
}


def build_event(
    event: str,
    recipient: str,
    timestamp: float,
    event_id: str,
    sender_domain: str,
    *,
    severity: str | None,
    reason: str | None,
    code: int | str | None,
    message: str | None,
    description: str | None,
    subject: str | None,
    tags: list[str] | None,
) -> JSON:
    """One event; None fields get the defaults Mailgun would most often have sent."""
    recipient_domain = recipient.rpartition("@")[2].lower()
    if event == "failed":
        severity = severity or "permanent"
    data: JSON = {
        "id": event_id,
        "event": event,
        "timestamp": float(timestamp),
        "log-level": _log_level(event, severity),
        "recipient": recipient,
        "recipient-domain": recipient_domain,
        "tags": list(tags or []),
        "campaigns": [],
        "user-variables": {},
        "flags": {
            "is-authenticated": True,
            "is-routed": False,
            "is-system-test": False,
            "is-test-mode": False,
        },
        "message": _message_summary(recipient, timestamp, event_id, sender_domain, subject),
    }
    if event in ("accepted", "delivered", "failed"):
        data["envelope"] = _envelope(recipient, sender_domain)
    if event == "failed":
        failure = _failure_fields(recipient_domain, cast(str, severity), reason, code, message, description)
        data.update(failure)
    elif event == "delivered":
        data["delivery-status"] = _delivered_status(recipient_domain, code, message, description)
    elif event == "rejected":
        data["reject"] = {"reason": reason or "", "description": description or ""}
    return data


def _log_level(event: str, severity: str | None) -> str:
    if event == "failed":
        return "error" if severity == "permanent" else "warn"
    return "warn" if event in ("rejected", "complained") else "info"


def _message_summary(
    recipient: str, timestamp: float, event_id: str, sender_domain: str, subject: str | None
) -> JSON:
    stamp = datetime.fromtimestamp(timestamp, UTC).strftime("%Y%m%d%H%M%S")
    digest = hashlib.sha256(event_id.encode()).hexdigest()[:16].upper()
    return {
        "headers": {
            "message-id": f"{stamp}.1.{digest}@{sender_domain}",  # events drop the <>
            "from": f"CustomersDot <noreply@{sender_domain}>",
            "to": recipient,
            "subject": subject if subject is not None else "Your purchase",
        },
        "attachments": [],
        "size": 2048,
    }


def _envelope(recipient: str, sender_domain: str) -> JSON:
    return {
        "sender": f"noreply@{sender_domain}",
        "transport": "smtp",
        "sending-ip": "198.51.100.7",
        "targets": recipient,
    }


def _delivered_status(
    recipient_domain: str, code: int | str | None, message: str | None, description: str | None
) -> JSON:
    return {
        "attempt-no": 1,
        "code": 250 if code is None else code,
        "message": message or "OK",
        "description": description or "",
        "mx-host": f"mx.{recipient_domain}",
        "tls": True,
        "utf8": True,
        "certificate-verified": True,
        "session-seconds": 0.42,
    }


def _failure_fields(
    recipient_domain: str,
    severity: str,
    reason: str | None,
    code: int | str | None,
    message: str | None,
    description: str | None,
) -> JSON:
    permanent = severity == "permanent"
    reason = reason or ("bounce" if permanent else "generic")
    if reason in _SUPPRESSED_STATUS:
        status = _suppressed_status(reason, code, message, description)
    else:
        status = _smtp_failure_status(recipient_domain, permanent, code, message, description)
    return {"severity": severity, "reason": reason, "delivery-status": status}


def _suppressed_status(
    reason: str, code: int | str | None, message: str | None, description: str | None
) -> JSON:
    # Dropped before any SMTP session: no mx-host, no enhanced code.
    default_code, default_description = _SUPPRESSED_STATUS[reason]
    return {
        "attempt-no": 1,
        "code": default_code if code is None else code,
        "message": message or "",
        "description": default_description if description is None else description,
        "session-seconds": 0.0,
    }


def _smtp_failure_status(
    recipient_domain: str,
    permanent: bool,
    code: int | str | None,
    message: str | None,
    description: str | None,
) -> JSON:
    enhanced = "5.1.1" if permanent else "4.7.1"
    default_message = (
        "5.1.1 The email account that you tried to reach does not exist."
        if permanent
        else "4.7.1 Try again later"
    )
    status: JSON = {
        "attempt-no": 1,
        "code": (550 if permanent else 451) if code is None else code,
        "message": default_message if message is None else message,
        "description": description or "",
        "enhanced-code": enhanced,
        "bounce-code": enhanced,
        "mx-host": f"mx.{recipient_domain}",
        "session-seconds": 0.42,
        "tls": True,
        "utf8": True,
        "certificate-verified": True,
        "first-delivery-attempt-seconds": 0.12,
    }
    if not permanent:
        status["retry-seconds"] = 600
    return status

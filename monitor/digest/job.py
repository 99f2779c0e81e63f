"""The digest as a unit of work: build a day from the store, render it, deliver it once.

`digest_job` is the scheduled job (yesterday in the configured time zone); `send_day` is the
same for any day; `deliver_day` is what `monitor digest --send` runs, which refuses (exit 1)
a day that every recipient already got instead of calling it a success."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Mapping
from dataclasses import replace
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from monitor.config.settings import Settings
from monitor.core.errors import AlreadySentError, DeliveryError, MonitorError
from monitor.core.timeutil import day_window, yesterday
from monitor.digest.build import build_digest, is_quiet
from monitor.digest.delivery import Transport, listing, transport_for
from monitor.digest.render import build_message, message_id
from monitor.runner.jobs import JobResult
from monitor.store.digest import digest_input
from monitor.store.sends import Claim, claim, mark_sent, release

if TYPE_CHECKING:
    from sqlite_utils import Database

    from monitor.config.context import AppContext

log = logging.getLogger(__name__)


def build_day(app: AppContext, day: date, now: datetime) -> dict[str, Any]:
    """The digest of `day` from what is stored now. The same data gives the same digest."""
    settings = app.settings()
    return build_digest(digest_input(app.db(), settings, day, now), settings)


def digest_job(app: AppContext, now: datetime) -> JobResult:
    """The scheduled job: yesterday's digest, in the configured time zone."""
    return send_day(app, yesterday(now, app.settings().zone), now)


def send_day(
    app: AppContext, day: date, now: datetime, *, resend: bool = False, transport: Transport | None = None
) -> JobResult:
    """Build, render and deliver the digest of `day` once per recipient. A day everyone
    already got is an ok result ("already sent"): the scheduler's catch-up may ask twice."""
    try:
        return deliver_day(app, day, now, resend=resend, transport=transport)
    except AlreadySentError as err:
        return JobResult(
            ok=True,
            summary=f"already sent: {err}",
            counts={"sent": 0},
            window=day_window(day, app.settings().zone),
        )


def deliver_day(
    app: AppContext, day: date, now: datetime, *, resend: bool = False, transport: Transport | None = None
) -> JobResult:
    """Like `send_day`, but AlreadySentError (exit 1) when there is nobody left to send to.
    DeliveryError when a delivery failed: nothing of it is recorded as sent."""
    settings = app.settings()
    window = day_window(day, settings.zone)
    digest = build_day(app, day, now)
    counts: dict[str, object] = {k: digest["totals"][k] for k in ("customers", "unlinked", "late")}
    if settings.digest.skip_empty and is_quiet(digest):
        summary = f"Nothing sent for {day}: no signals, every source healthy, and digest.skip_empty is on."
        return JobResult(ok=True, summary=summary, counts={**counts, "sent": 0}, window=window)
    transport = transport or transport_for(settings, app.secrets(required=False))
    sent, resumed = deliver(app.db(), digest, settings, transport, now, resend=resend)
    _purge_after_send(app, now)
    summary = (
        f"Sent the digest of {day} ({digest['totals']['customers']} customers) to "
        f"{', '.join(sent)} via {transport.name}."
    )
    if resumed:
        summary += f" {', '.join(resumed)} may get it twice: an earlier attempt was interrupted."
    return JobResult(ok=True, summary=summary, counts={**counts, "sent": len(sent)}, window=window)


def deliver(
    db: Database,
    digest: Mapping[str, Any],
    settings: Settings,
    transport: Transport,
    now: datetime,
    *,
    resend: bool = False,
) -> tuple[list[str], list[str]]:
    """Claim, deliver, record. Returns (recipients sent to, of those re-sent after a crash)."""
    day = digest["date"]
    sender = settings.digest.sender
    tag = f"resend-{now:%Y%m%dT%H%M%S}" if resend else ""
    claimed = claim(
        db,
        day,
        settings.digest.recipients,
        now=now,
        transport=transport.name,
        message_id=lambda recipients: message_id(day, recipients, sender, tag),
        resend=resend,
    )
    sent: list[str] = []
    resumed: list[str] = []
    failures: list[str] = []
    for index, entry in enumerate(claimed.claims):
        try:
            delivered, problem = _deliver_one(db, digest, settings, transport, entry, now)
        except BaseException:
            for pending in claimed.claims[index:]:  # a bug or an interrupt: leave nothing claimed
                release(db, day, pending, pending.recipients)
            raise
        sent.extend(delivered)
        resumed.extend(delivered if entry.resumed else [])
        failures.extend([problem] if problem else [])
    if failures:
        done = f" It was sent to {', '.join(sent)}." if sent else " Nothing was recorded as sent."
        raise DeliveryError(" ".join(failures) + done)
    return sent, resumed


def _deliver_one(
    db: Database,
    digest: Mapping[str, Any],
    settings: Settings,
    transport: Transport,
    entry: Claim,
    now: datetime,
) -> tuple[list[str], str]:
    """One message to one claim's recipients: (delivered recipients, the failure or '')."""
    day = digest["date"]
    message = build_message(
        digest,
        sender=settings.digest.sender,
        recipients=entry.recipients,
        now=now,
        msgid=entry.message_id,
        max_customers=settings.digest.max_customers,
    )
    try:
        refused = transport.send(message, entry.recipients)
    except DeliveryError as err:
        release(db, day, entry, entry.recipients)
        return [], str(err)
    delivered = [r for r in entry.recipients if r not in refused]
    mark_sent(db, day, replace(entry, recipients=tuple(delivered)), now)
    if not refused:
        return delivered, ""
    release(db, day, entry, list(refused))
    return delivered, f"The {transport.name} server refused {listing(refused)}."


def _purge_after_send(app: AppContext, now: datetime) -> None:
    """Retention runs after each successful send; its failure must not undo the send."""
    try:
        from monitor.store.retention import purge
    except ImportError:  # a build without retention
        return
    try:
        purge(app.db(), app.settings(), now)
    except (MonitorError, sqlite3.Error) as err:
        log.warning("The retention purge after the digest failed: %s", err)

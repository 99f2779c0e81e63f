"""The digest's sent-log (`digest_sends`): what makes "once per day and recipient" hold.

A send claims its recipients in ONE write transaction (BEGIN IMMEDIATE, so two processes
take turns), delivers outside it, then marks the claims sent, or releases them when the
delivery failed. A claim left 'sending' by a process that is gone (a crash between delivery
and marking) is taken over and re-sent with the SAME Message-ID: the recipient may then get
the digest twice, but mail clients that thread by Message-ID show it once. That is the one
documented way to a duplicate; losing a digest silently would be worse."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlite_utils import Database

from monitor.core.errors import AlreadySentError, LockedError
from monitor.core.timeutil import from_db, to_db, to_public
from monitor.store import write_tx

# A claim older than this is stale whoever holds it: a send takes seconds (SMTP and HTTP
# timeouts are 30 s), and a process id may have been reused since.
CLAIM_EXPIRES = timedelta(hours=1)


def this_process() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim_is_live(claimed_by: str, claimed_at: datetime, now: datetime) -> bool:
    """Whether the claiming process may still be delivering."""
    if now - claimed_at > CLAIM_EXPIRES:
        return False
    host, _, pid = claimed_by.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True  # another machine: trust its claim until it expires
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


@dataclass(frozen=True)
class Claim:
    """Recipients to deliver one message to. `resumed`: taken over from a crashed attempt."""

    message_id: str
    recipients: tuple[str, ...]
    resumed: bool = False
    # For --resend: the 'sent' rows this claim replaced, restored if the delivery fails.
    previous: dict[str, tuple[str, str, str]] = field(default_factory=dict)


@dataclass(frozen=True)
class ClaimResult:
    claims: list[Claim]
    already_sent: dict[str, datetime]  # recipient -> when it was sent


@dataclass
class _Sorted:
    """Each wanted recipient, sorted by what the sent-log says about it."""

    fresh: list[str] = field(default_factory=list)
    resumed: dict[str, list[str]] = field(default_factory=dict)  # message_id -> recipients
    already: dict[str, datetime] = field(default_factory=dict)
    previous: dict[str, tuple[str, str, str]] = field(default_factory=dict)


def claim(
    db: Database,
    day: str,
    recipients: Sequence[str],
    *,
    now: datetime,
    transport: str,
    message_id: Callable[[Sequence[str]], str],
    resend: bool = False,
    me: str | None = None,
    live: Callable[[str, datetime, datetime], bool] = claim_is_live,
) -> ClaimResult:
    """Claim `recipients` for `day` in one transaction.

    Raises AlreadySentError when every recipient already got it (and not `resend`), and
    LockedError when a live process is sending to one of them right now."""
    me = me or this_process()
    wanted = sorted({r.strip().lower() for r in recipients})
    with write_tx(db) as conn:
        rows = {
            row[0]: row
            for row in conn.execute(
                "SELECT recipient, status, message_id, claimed_by, claimed_at, sent_at, transport"
                " FROM digest_sends WHERE day = ?",
                (day,),
            )
        }
        found = _sort_out(day, wanted, rows, now=now, resend=resend, live=live)
        if not found.fresh and not found.resumed:
            raise AlreadySentError(_already_sent_sentence(day, found.already))
        claims = [Claim(mid, tuple(rcpts), resumed=True) for mid, rcpts in sorted(found.resumed.items())]
        if found.fresh:
            claims.append(Claim(message_id(found.fresh), tuple(found.fresh), previous=found.previous))
        for entry in claims:
            conn.executemany(
                "INSERT INTO digest_sends (day, recipient, message_id, status, claimed_at, claimed_by,"
                " sent_at, transport) VALUES (?, ?, ?, 'sending', ?, ?, NULL, ?)"
                " ON CONFLICT(day, recipient) DO UPDATE SET message_id = excluded.message_id,"
                " status = 'sending', claimed_at = excluded.claimed_at, claimed_by = excluded.claimed_by,"
                " sent_at = NULL, transport = excluded.transport",
                [(day, r, entry.message_id, to_db(now), me, transport) for r in entry.recipients],
            )
    return ClaimResult(claims=claims, already_sent=found.already)


def _sort_out(
    day: str,
    wanted: Sequence[str],
    rows: dict[str, tuple[str, ...]],
    *,
    now: datetime,
    resend: bool,
    live: Callable[[str, datetime, datetime], bool],
) -> _Sorted:
    found = _Sorted()
    for recipient in wanted:
        row = rows.get(recipient)
        if row is None:
            found.fresh.append(recipient)
            continue
        _recipient, status, message_id, claimed_by, claimed_at, sent_at, transport = row
        if status == "sending":
            if live(claimed_by, from_db(claimed_at), now):
                raise LockedError(
                    f"Another process ({claimed_by}) is sending the digest of {day} to {recipient} "
                    f"right now (since {to_public(from_db(claimed_at))}); let it finish."
                )
            found.resumed.setdefault(message_id, []).append(recipient)  # its sender crashed
        elif resend:
            found.fresh.append(recipient)
            found.previous[recipient] = (message_id, sent_at, transport)
        else:
            found.already[recipient] = from_db(sent_at)
    return found


def _already_sent_sentence(day: str, already: dict[str, datetime]) -> str:
    if len(already) == 1:
        (recipient, sent), *_ = already.items()
        return (
            f"The digest of {day} was already sent to {recipient} at {to_public(sent)}; "
            "use --resend to send it again."
        )
    first = min(already.values())
    return (
        f"The digest of {day} was already sent to {', '.join(already)} (first at {to_public(first)}); "
        "use --resend to send it again."
    )


def mark_sent(db: Database, day: str, entry: Claim, now: datetime, me: str | None = None) -> None:
    """The delivery succeeded: the claim becomes the record that it was sent."""
    me = me or this_process()
    with write_tx(db) as conn:
        conn.executemany(
            "UPDATE digest_sends SET status = 'sent', sent_at = ?"
            " WHERE day = ? AND recipient = ? AND claimed_by = ? AND status = 'sending'",
            [(to_db(now), day, r, me) for r in entry.recipients],
        )


def release(db: Database, day: str, entry: Claim, recipients: Sequence[str], me: str | None = None) -> None:
    """The delivery to `recipients` failed: nothing is recorded as sent (a resent digest's
    earlier record comes back), so a later attempt sends it once."""
    me = me or this_process()
    with write_tx(db) as conn:
        for recipient in recipients:
            conn.execute(
                "DELETE FROM digest_sends WHERE day = ? AND recipient = ? AND claimed_by = ?"
                " AND status = 'sending'",
                (day, recipient, me),
            )
            if recipient in entry.previous:
                message_id, sent_at, transport = entry.previous[recipient]
                conn.execute(
                    "INSERT OR IGNORE INTO digest_sends (day, recipient, message_id, status, claimed_at,"
                    " claimed_by, sent_at, transport) VALUES (?, ?, ?, 'sent', ?, ?, ?, ?)",
                    (day, recipient, message_id, sent_at, me, sent_at, transport),
                )

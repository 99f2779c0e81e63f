"""Floor clients: the least a client must do to fetch the same pages and store the same rows.

Plain `requests` + `json` + `sqlite3.executemany`: no retries, no classification, no linking,
no bookkeeping. Rows carry what the monitor's rows carry from the wire (times, titles,
addresses, an evidence URL, a JSON detail of the record's context), built with plain string
formatting, into the same `signals` table (same schema, indexes and pragmas); a suppression
list entry is also one row of the `suppressions` table, as the monitor keeps it (the snapshot
it diffs). Each page is committed as it arrives: a streaming client's natural unit, which
stores every page it read."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

# The floors' insert into the monitor's `signals` table: a repeated key is skipped, nothing more.
INSERT_SIGNAL = """
INSERT OR IGNORE INTO signals
  (source, key, category, occurred_at, stored_at, title, grp, url, customer_ref, email, email_norm,
   domain, name, action, detail)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
"""


SENTRY_PAGE = 100
MAILGUN_EVENTS_PAGE = 300
MAILGUN_LIST_PAGE = 1000
LOGS = "https://app.mailgun.com/app/sending/domains/mg.example.test/logs?search={email}"


INSERT_ENTRY = """
INSERT INTO suppressions (list, address_norm, address, created_at, first_seen_at, last_seen_at, detail)
VALUES (?, ?, ?, ?, ?, ?, ?)
"""


def _store(
    conn: sqlite3.Connection, rows: list[tuple[Any, ...]], entries: Sequence[tuple[Any, ...]] = ()
) -> None:
    conn.execute("BEGIN")
    conn.executemany(INSERT_SIGNAL, rows)
    if entries:
        conn.executemany(INSERT_ENTRY, entries)
    conn.execute("COMMIT")


def _email_parts(email: str | None) -> tuple[str | None, str | None]:
    norm = email.strip().lower() if email else None
    return norm, norm.rpartition("@")[2] if norm and "@" in norm else None


def sentry_pages(session: requests.Session, url: str, params: dict[str, Any] | None) -> Iterator[list[Any]]:
    """Pages of one Sentry list, following the Link header while it says there are results."""
    next_url: str | None = url
    while next_url:
        response = session.get(next_url, params=params, timeout=60)
        response.raise_for_status()
        yield json.loads(response.content)
        link = response.links.get("next", {})
        next_url, params = (link.get("url") if link.get("results") == "true" else None), None


def sentry_floor(
    base_url: str, token: str, org: str, project: str, now: datetime, db: sqlite3.Connection
) -> int:
    """The issues pages of the last seven days, then each issue's events pages; rows stored."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S")
    window = {"start": (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S"), "end": stamp}
    api = f"{base_url}/api/0/organizations/{org}"
    stored = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        issues: dict[str, str] = {}  # id -> permalink
        listing = {"project": project, "query": "", "sort": "date", "limit": SENTRY_PAGE, **window}
        for page in sentry_pages(session, f"{api}/issues/", listing):
            issues.update((issue["id"], issue["permalink"]) for issue in page)
        for issue_id, permalink in issues.items():
            events = f"{api}/issues/{issue_id}/events/"
            for page in sentry_pages(session, events, {**window, "per_page": SENTRY_PAGE}):
                rows = [_sentry_row(event, issue_id, permalink, stamp) for event in page]
                _store(db, rows)
                stored += len(rows)
    return stored


def _sentry_row(event: dict[str, Any], issue_id: str, permalink: str, stored_at: str) -> tuple[Any, ...]:
    user = event.get("user") or {}
    email = user.get("email")
    norm, domain = _email_parts(email)
    tags = {tag["key"]: tag["value"] for tag in event.get("tags") or []}
    detail = {
        "issue_id": issue_id,
        "culprit": event.get("culprit"),
        "level": tags.get("level"),
        "environment": tags.get("environment"),
    }
    return (
        "sentry",
        event["eventID"],
        "",
        event["dateCreated"],
        stored_at,
        event["title"],
        issue_id,
        f"{permalink}events/{event['eventID']}/",
        user.get("id"),
        email,
        norm,
        domain,
        user.get("username"),
        "",
        json.dumps(detail),
    )


def _mailgun_pages(
    session: requests.Session, url: str, params: dict[str, Any] | None, page_size: int
) -> Iterator[list[Any]]:
    """Pages of one Mailgun listing, following `paging.next` until an empty or short page."""
    next_url: str | None = url
    while next_url:
        response = session.get(next_url, params=params, timeout=60)
        response.raise_for_status()
        data = json.loads(response.content)
        items = data["items"]
        yield items
        next_url, params = (data["paging"]["next"] if len(items) >= page_size else None), None


def mailgun_floor(base_url: str, key: str, domain: str, now: datetime, db: sqlite3.Connection) -> int:
    """The events pages of the last seven days, then the bounces pages; rows stored."""
    stamp = now.strftime("%Y-%m-%dT%H:%M:%S")
    api = f"{base_url}/v3/{domain}"
    params = {
        "begin": int((now - timedelta(days=7)).timestamp()),
        "end": int(now.timestamp()),
        "ascending": "yes",
        "limit": MAILGUN_EVENTS_PAGE,
        "event": "failed OR complained OR unsubscribed",
    }
    stored = 0
    with requests.Session() as session:
        session.auth = ("api", key)
        for items in _mailgun_pages(session, f"{api}/events", params, 1):
            rows = [_mailgun_event_row(item, stamp) for item in items if _reported(item)]
            _store(db, rows)
            stored += len(rows)
        for items in _mailgun_pages(
            session, f"{api}/bounces", {"limit": MAILGUN_LIST_PAGE}, MAILGUN_LIST_PAGE
        ):
            rows = [_bounce_row(item, stamp) for item in items]
            _store(db, rows, [_entry_row(row, stamp) for row in rows])
            stored += len(rows)
    return stored


def _reported(item: dict[str, Any]) -> bool:
    return item["event"] != "failed" or item.get("severity") == "permanent"


def _mailgun_event_row(item: dict[str, Any], stored_at: str) -> tuple[Any, ...]:
    email = item["recipient"]
    norm, domain = _email_parts(email)
    at = datetime.fromtimestamp(item["timestamp"], UTC).isoformat()
    status = item.get("delivery-status") or {}
    detail = {
        "event": item["event"],
        "event_id": item["id"],
        "reason": item.get("reason"),
        "severity": item.get("severity"),
        "code": status.get("code"),
        "timestamp": item["timestamp"],
    }
    return (
        "mailgun",
        f"{item['event']}:{norm}:{at[:10]}",
        item["event"],
        at,
        stored_at,
        str(status.get("message") or item["event"]),
        f"{item['event']}:{norm}",
        LOGS.format(email=email),
        None,
        email,
        norm,
        domain,
        None,
        "",
        json.dumps(detail),
    )


def _bounce_row(item: dict[str, Any], stored_at: str) -> tuple[Any, ...]:
    email = item["address"]
    norm, domain = _email_parts(email)
    detail = {
        "list": "bounces",
        "created_at": item["created_at"],
        "code": item.get("code"),
        "error": item.get("error"),
    }
    return (
        "mailgun",
        f"bounce:{norm}",
        "bounce",
        item["created_at"],
        stored_at,
        item.get("error") or "",
        f"bounce:{norm}",
        LOGS.format(email=email),
        None,
        email,
        norm,
        domain,
        None,
        "",
        json.dumps(detail),
    )


def _entry_row(bounce: tuple[Any, ...], seen_at: str) -> tuple[Any, ...]:
    """The suppressions row of a bounce-list entry, from its signal row's columns."""
    return ("bounces", bounce[10], bounce[9], bounce[3], seen_at, seen_at, bounce[14])

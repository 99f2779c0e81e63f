"""The plain floor: a client written from scratch, the simplest honest one.

Plain `requests` + `json` + `sqlite3.executemany`: the organization issue list, each issue's
events, the Mailgun events and the bounce list, the same pages the monitor reads; each page
parsed with `json` and written with one `executemany` into ONE table with no index, no
constraint and no other work (no classification, linking, deduplication, cursors or
bookkeeping). What the monitor costs beyond this is the price of everything it promises."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import requests

from benchmarks.floors import sentry_pages

CREATE = "CREATE TABLE records (source TEXT, id TEXT, at TEXT, kind TEXT, title TEXT, who TEXT)"
INSERT = "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?)"


def open_plain(path: Path) -> sqlite3.Connection:
    for stale in (path, path.with_name(path.name + "-journal")):
        stale.unlink(missing_ok=True)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(CREATE)
    return conn


def _store(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
    conn.execute("BEGIN")
    conn.executemany(INSERT, rows)
    conn.execute("COMMIT")


def sentry_plain(
    base_url: str, token: str, org: str, project_id: str, now: datetime, conn: sqlite3.Connection
) -> int:
    window = {
        "start": (now - timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%S"),
        "end": now.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    stored = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        issues = [
            issue["id"]
            for page in sentry_pages(
                session,
                f"{base_url}/api/0/organizations/{org}/issues/",
                {"project": project_id, "query": "", "limit": 100},
            )
            for issue in page
        ]
        for issue_id in issues:
            url = f"{base_url}/api/0/issues/{issue_id}/events/"
            for page in sentry_pages(session, url, {**window, "per_page": 100}):
                rows = [
                    (
                        "sentry",
                        e["eventID"],
                        e["dateCreated"],
                        issue_id,
                        e["title"],
                        (e.get("user") or {}).get("id"),
                    )
                    for e in page
                ]
                _store(conn, rows)
                stored += len(rows)
    return stored


def mailgun_plain(base_url: str, key: str, domain: str, now: datetime, conn: sqlite3.Connection) -> int:
    params: dict[str, Any] | None = {
        "begin": int((now - timedelta(days=7)).timestamp()),
        "end": int(now.timestamp()),
        "ascending": "yes",
        "limit": 300,
        "event": "failed OR complained OR unsubscribed",
    }
    stored = 0
    with requests.Session() as session:
        session.auth = ("api", key)
        next_url: str | None = f"{base_url}/v3/{domain}/events"
        while next_url:
            response = session.get(next_url, params=params, timeout=60)
            response.raise_for_status()
            items = json.loads(response.content)["items"]
            rows = [
                ("mailgun", i["id"], str(i["timestamp"]), i["event"], i.get("reason"), i["recipient"])
                for i in items
            ]
            _store(conn, rows)
            stored += len(rows)
            next_url = json.loads(response.content)["paging"]["next"] if items else None
            params = None
        next_url, params = f"{base_url}/v3/{domain}/bounces", {"limit": 1000}
        while next_url:
            response = session.get(next_url, params=params, timeout=60)
            response.raise_for_status()
            data = json.loads(response.content)
            rows = [
                ("bounce", b["address"], b["created_at"], b.get("code"), b.get("error"), b["address"])
                for b in data["items"]
            ]
            _store(conn, rows)
            stored += len(rows)
            next_url, params = (data["paging"]["next"] if len(data["items"]) >= 1000 else None), None
    return stored

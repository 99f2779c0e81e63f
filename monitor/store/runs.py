"""The record of every job run: what `monitor status`, catch-up and the digest's source health read."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

from sqlite_utils import Database

from monitor.core.timeutil import from_db, to_db
from monitor.store import write_tx


@dataclass(frozen=True)
class RunRecord:
    job: str
    started_at: datetime
    finished_at: datetime | None
    outcome: str
    counts: dict[str, object]
    error: str | None


def _window_texts(window: tuple[datetime, datetime] | None) -> tuple[str | None, str | None]:
    return (to_db(window[0]), to_db(window[1])) if window else (None, None)


def record_start(
    db: Database, job: str, now: datetime, window: tuple[datetime, datetime] | None = None
) -> int:
    with write_tx(db) as conn:
        cursor = conn.execute(
            "INSERT INTO job_runs (job, started_at, window_start, window_end, outcome)"
            " VALUES (?, ?, ?, ?, 'running')",
            (job, to_db(now), *_window_texts(window)),
        )
        return int(cursor.lastrowid or 0)


def record_finish(
    db: Database,
    run_id: int,
    now: datetime,
    *,
    ok: bool,
    counts: dict[str, object] | None = None,
    error: str | None = None,
    window: tuple[datetime, datetime] | None = None,
    outcome: str | None = None,
) -> None:
    """`outcome` defaults to 'ok' or 'failed' from `ok`; 'stopped' marks a run a stop request
    ended early, which status and source health count as neither."""
    with write_tx(db) as conn:
        started = conn.execute("SELECT started_at FROM job_runs WHERE id = ?", (run_id,)).fetchone()[0]
        conn.execute(
            "UPDATE job_runs SET finished_at = ?, outcome = ?, counts = ?, error = ?, duration_s = ?,"
            " window_start = COALESCE(?, window_start), window_end = COALESCE(?, window_end) WHERE id = ?",
            (
                to_db(now),
                outcome or ("ok" if ok else "failed"),
                json.dumps(counts or {}, sort_keys=True),
                error,
                (now - from_db(started)).total_seconds(),
                *_window_texts(window),
                run_id,
            ),
        )


def _record(row: dict[str, object]) -> RunRecord:
    finished = row["finished_at"]
    return RunRecord(
        job=str(row["job"]),
        started_at=from_db(str(row["started_at"])),
        finished_at=from_db(str(finished)) if finished else None,
        outcome=str(row["outcome"]),
        counts=json.loads(str(row["counts"])),
        error=row["error"] if row["error"] is None else str(row["error"]),
    )


def last_run(db: Database, job: str, outcome: str | None = None) -> RunRecord | None:
    where, params = "job = ? AND finished_at IS NOT NULL", [job]
    if outcome:
        where, params = where + " AND outcome = ?", [job, outcome]
    sql = f"SELECT * FROM job_runs WHERE {where} ORDER BY finished_at DESC, id DESC LIMIT 1"
    rows = list(db.query(sql, params))
    return _record(rows[0]) if rows else None


def failing_since(db: Database, job: str, last_ok: RunRecord | None) -> datetime | None:
    """When the current run of failures began; None when the last finished run succeeded.
    `last_ok` is the job's last successful run, which callers have already read."""
    params: list[object] = [job]
    where = "job = ? AND outcome = 'failed'"
    if last_ok and last_ok.finished_at:
        where += " AND finished_at > ?"
        params.append(to_db(last_ok.finished_at))
    row = db.execute(f"SELECT MIN(started_at) FROM job_runs WHERE {where}", params).fetchone()
    return from_db(row[0]) if row and row[0] else None

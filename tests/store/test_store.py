"""The SQLite store: migrated on open, owner-only files, WAL, and all-or-nothing writes."""

from __future__ import annotations

import sqlite3
import stat
from pathlib import Path

import pytest

from monitor.store import open_db, write_tx
from monitor.store.schema import migrations

TABLES = {
    "customers",
    "signals",
    "links",
    "cursors",
    "sentry_issues",
    "suppressions",
    "suppression_removals",
    "job_runs",
    "digest_sends",
}


ALL_MIGRATIONS = [m.name for m in migrations.pending(open_db(":memory:", migrate=False))]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _applied(db_path: Path) -> list[str]:
    with sqlite3.connect(db_path) as conn:
        return [row[0] for row in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY id")]


def test_opening_an_empty_file_creates_every_table(tmp_path: Path) -> None:
    db = open_db(tmp_path / "data" / "monitor.db")

    assert set(db.table_names()) >= TABLES
    assert _applied(tmp_path / "data" / "monitor.db") == ALL_MIGRATIONS


def test_opening_again_applies_nothing_twice_and_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    db = open_db(path)
    with write_tx(db) as conn:
        conn.execute("INSERT INTO cursors VALUES ('sentry', 'abc', '2026-11-24T08:00:00.000000+00:00')")
    db.close()

    again = open_db(path)

    assert _applied(path) == ALL_MIGRATIONS  # each step once
    assert again.execute("SELECT value FROM cursors").fetchall() == [("abc",)]


def test_an_older_schema_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    old = open_db(path, migrate=False)
    migrations.apply(old, stop_before="m002_sentry_issue_event_count")  # the schema of release 1
    with write_tx(old) as conn:
        conn.execute("INSERT INTO sentry_issues (issue_id, updated_at) VALUES ('42', '2026-01-01')")
    old.close()

    upgraded = open_db(path)

    assert _applied(path) == ALL_MIGRATIONS
    assert "event_count" in upgraded["sentry_issues"].columns_dict
    assert upgraded.execute("SELECT issue_id, event_count FROM sentry_issues").fetchall() == [("42", None)]


def test_the_database_and_its_wal_file_are_owner_only(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    db = open_db(path)
    with write_tx(db) as conn:
        conn.execute("INSERT INTO cursors VALUES ('mailgun', 'x', '2026-11-24T08:00:00.000000+00:00')")

    assert _mode(path) == 0o600
    wal = tmp_path / "monitor.db-wal"
    assert wal.exists()
    assert _mode(wal) == 0o600


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    db = open_db(tmp_path / "monitor.db")

    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_failed_write_transaction_leaves_nothing_behind(tmp_path: Path) -> None:
    db = open_db(tmp_path / "monitor.db")

    with pytest.raises(RuntimeError), write_tx(db) as conn:
        conn.execute("INSERT INTO cursors VALUES ('sentry', 'half', '2026-11-24T08:00:00.000000+00:00')")
        raise RuntimeError("crash mid-page")

    assert db.execute("SELECT COUNT(*) FROM cursors").fetchone()[0] == 0
    assert not db.conn.in_transaction
    with write_tx(db) as conn:  # and the connection is usable again
        conn.execute("INSERT INTO cursors VALUES ('sentry', 'whole', '2026-11-24T08:00:00.000000+00:00')")
    assert db.execute("SELECT value FROM cursors").fetchall() == [("whole",)]


def test_a_second_process_sees_committed_writes_only(tmp_path: Path) -> None:
    path = tmp_path / "monitor.db"
    writer = open_db(path)
    reader = open_db(path)

    with write_tx(writer) as conn:
        conn.execute("INSERT INTO cursors VALUES ('sentry', 'v1', '2026-11-24T08:00:00.000000+00:00')")
        assert reader.execute("SELECT COUNT(*) FROM cursors").fetchone()[0] == 0

    assert reader.execute("SELECT value FROM cursors").fetchall() == [("v1",)]


def test_a_database_file_this_user_may_not_write_is_named_before_sqlite_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI turns the PermissionError into whose file it is and what to run (as root here,
    every file is writable: the access check is what is replaced)."""
    path = tmp_path / "monitor.db"
    open_db(path).conn.close()
    monkeypatch.setattr("monitor.store.os.access", lambda *_args: False)
    with pytest.raises(PermissionError) as raised:
        open_db(path)
    assert raised.value.filename == str(path)


def test_opening_the_database_again_keeps_the_first_connections_locks(tmp_path: Path) -> None:
    """Closing any descriptor of a file drops all of this process's POSIX locks on it. Opening a
    second connection must not: another process's last close would then take the file for its
    own and delete the WAL under the first connection (disk I/O error)."""
    import subprocess
    import sys

    path = tmp_path / "monitor.db"
    first = open_db(path)
    first.execute("CREATE TABLE t (x)")
    open_db(path)  # a second connection in this process, as a daemon's job would open
    code = (
        f"import sqlite3; c = sqlite3.connect({str(path)!r}, isolation_level=None); "
        "c.execute('INSERT INTO t VALUES (1)'); c.close()"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
    assert (tmp_path / "monitor.db-wal").exists()
    assert first.execute("SELECT COUNT(*) FROM t").fetchone()[0] == 1

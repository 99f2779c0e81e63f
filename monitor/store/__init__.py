"""SQLite storage through sqlite-utils: opening, pragmas, migrations and write transactions.

Queries live beside this file, one module per subject (customers, signals, runs, digests)."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlite_utils import Database

from monitor.store.schema import migrations

BUSY_TIMEOUT_MS = 30_000
WAL_CHECKPOINT_PAGES = 10_000
WAL_SIZE_LIMIT = 64 << 20


def open_db(path: Path | str, *, migrate: bool = True) -> Database:
    """Open (creating with mode 0600) the database, in WAL mode, migrated to the latest schema.

    Autocommit mode: every write goes through `write_tx`, so a transaction's extent is
    visible in the code, not implied by the driver."""
    path = Path(path)
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
        _create_owner_only(path)
    conn = sqlite3.connect(
        str(path), isolation_level=None, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
    )
    for pragma in connection_pragmas(file=str(path) != ":memory:"):
        conn.execute(pragma)
    db = Database(conn)
    if migrate:
        migrate_db(db)
    return db


def connection_pragmas(*, file: bool = True) -> list[str]:
    """The settings of every connection that writes: `open_db`'s, and a poll's writer process's."""
    pragmas = [
        f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}",
        "PRAGMA foreign_keys = ON",
        # Deleted rows (a retention purge) are overwritten with zeros, not left in free pages of
        # the file, whatever the SQLite build's default is.
        "PRAGMA secure_delete = ON",
    ]
    if file:
        pragmas += [
            "PRAGMA journal_mode = WAL",
            "PRAGMA synchronous = NORMAL",  # durable at checkpoints; WAL keeps it consistent
            # A checkpoint syncs the file twice. At SQLite's default (every 1,000 pages, 4 MB) a
            # backfill, whose every batch writes more than that, checkpointed after each commit
            # and waited on the disk for a third of its SQL time. Every 10,000 pages (40 MB)
            # keeps the same consistency (a power cut loses at most commits since the last
            # checkpoint, which the next poll reads again: the cursors move in the same
            # transactions), and the WAL file is cut back to 64 MB once checkpointed rather
            # than kept at its largest.
            f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}",
            f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT}",
        ]
    return pragmas


def _create_owner_only(path: Path) -> None:
    """Create the file ourselves so it is born owner-only; SQLite gives its -wal and -shm files
    the same mode as the database file. Only a file that does not exist yet: closing a
    descriptor of a file drops every POSIX lock this process holds on it, including the
    shared lock of another open connection, which would let a second process take the file
    for its own (its last close then deletes the WAL under the first connection's feet)."""
    try:
        fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR, 0o600)
    except FileExistsError:
        # Asked without opening it: a file this user may not write is named now (the CLI says
        # whose it is and what to run), not later as SQLite's "unable to open database file".
        if not os.access(path, os.R_OK | os.W_OK):
            raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path)) from None
        return
    try:
        _give_to_folder_owner(fd, path.parent)
    finally:
        os.close(fd)


def _give_to_folder_owner(fd: int, folder: Path) -> None:
    """A database root creates in another user's folder (`sudo monitor customers import` in
    the units' state directory) belongs to the folder's owner, or that user's daemon could no
    longer open it. SQLite gives its -wal and -shm files the database file's owner itself."""
    if os.geteuid() != 0 or os.fstat(fd).st_uid != 0:
        return
    owner = os.stat(folder)
    if owner.st_uid != 0:
        os.fchown(fd, owner.st_uid, owner.st_gid)


def migrate_db(db: Database) -> None:
    """Apply pending migrations under the write lock: two processes opening a fresh database
    at once must not both run a step (the loser re-reads what is pending inside the lock)."""
    if not _pending(db):
        return
    with write_tx(db):
        migrations.apply(db)


def _pending(db: Database) -> bool:
    try:
        return bool(list(migrations.pending(db)))
    except sqlite3.OperationalError:  # no migrations table yet
        return True


@contextmanager
def write_tx(db: Database) -> Iterator[sqlite3.Connection]:
    """One write transaction. IMMEDIATE takes the write lock up front, so two processes
    never both read-then-write on stale data; a second writer waits (busy timeout)."""
    conn = db.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")

"""Personal data past `retention_days` is gone after a purge, from the database file itself, not
only from its tables: a copy of the file taken afterwards (a backup, a disk image) does not
hold the purged addresses and names. The imported customer directory stays."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.signals import save_signals
from tests.reliability.helpers import run_monitor
from tests.store_helpers import save_customers

OLD_EMAIL = "purge-me-7c1e@old-customer.example"
OLD_NAME = "Purgeable Person 7c1e"
KEPT_EMAIL = "directory-3b9d@acme.example"  # an imported customer: the operator's own data, kept


def _seed(database: Path, now: datetime) -> None:
    db = open_db(database)
    save_customers(db, [Customer("48213", KEPT_EMAIL, "Jane", "Doe", "Acme")], now)
    old = now - timedelta(days=120)
    signals = [
        Signal(
            source="mailgun",
            key=f"bounce:{number}{OLD_EMAIL}:{old.date()}",
            category="bounce",
            occurred_at=old,
            title=f"550 no such user {OLD_EMAIL}",
            group=f"bounce:{number}{OLD_EMAIL}",
            email=f"{number}{OLD_EMAIL}",
            name=OLD_NAME,
            customer_ref=f"9{number}",
        )
        for number in range(200)  # enough rows to span several database pages
    ]
    save_signals(db, signals, now=old)
    db.close()


def _files(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in folder.glob("monitor.db*")}


def test_a_purge_removes_old_personal_data_from_the_database_file_and_keeps_the_directory(
    tmp_path: Path, write_config: object
) -> None:
    config = write_config()  # type: ignore[operator]
    _seed(tmp_path / "monitor.db", datetime.now(UTC))
    assert any(OLD_EMAIL.encode() in data for data in _files(tmp_path).values())
    run = run_monitor(config, "purge")
    assert run.returncode == 0, run.stderr
    assert "200" in run.stdout  # the old signals were deleted
    for name, data in _files(tmp_path).items():
        assert OLD_EMAIL.encode() not in data, name
        assert OLD_NAME.encode() not in data, name
    assert any(KEPT_EMAIL.encode() in data for data in _files(tmp_path).values())


def test_every_connection_zeroes_deleted_content_whatever_the_sqlite_default(tmp_path: Path) -> None:
    db = open_db(tmp_path / "monitor.db")
    try:
        assert db.execute("PRAGMA secure_delete").fetchone()[0] == 1
    finally:
        db.close()

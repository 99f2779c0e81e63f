"""A poll's writer process: the same rows as writing in-process, one transaction per batch,
and every way it can fail raised as a StoreError that loses nothing already written."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Hashable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlite_utils import Database

from monitor.core.errors import StoreError
from monitor.core.models import Customer, Signal
from monitor.store import open_db
from monitor.store.batch import Saved, SignalBatch
from monitor.writer.tx import Statement
from tests.paths import ROOT
from tests.store_helpers import save_customers

NOW = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
COUNT_ROWS = "UPDATE customers SET company = company WHERE id IN (?, ?)"


def _signals(count: int, *, prefix: str = "e") -> list[Signal]:
    """Events of customers 0-9 (some imported, some only seen), bounces by address, repeats."""
    out = []
    for n in range(count):
        if n % 3 == 0:
            out.append(Signal("mailgun", f"bounce:{prefix}{n % 7}@acme.example", "bounce",
                              NOW - timedelta(minutes=n), "550 mailbox unavailable", f"b{n % 7}",
                              email=f"{prefix}{n % 7}@acme.example", detail={"n": n}))  # fmt: skip
        else:
            out.append(Signal("sentry", f"{prefix}{n}", "address_or_card", NOW - timedelta(minutes=n),
                              "Zuora: invalid postal code", "issue-1", customer_ref=str(n % 10),
                              email=f"c{n % 10}@initech.example", name="Ann Lee"))  # fmt: skip
    return out


def _write(db: Database, signals: list[Signal], *, use_writer: bool, max_rows: int = 7) -> list[Saved]:
    heard: list[Saved] = []
    batch = SignalBatch(db, now=NOW, on_saved=heard.append, max_rows=max_rows, use_writer=use_writer)
    try:
        for start in range(0, len(signals), 5):  # pages of 5
            batch.add(signals[start : start + 5], also=[Statement(COUNT_ROWS, ("1", "2"), counted="touched")])
        batch.add([], cursors={"test": "end"})
    finally:
        batch.flush()
    return heard


def _contents(db: Database) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: db.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for table in ("signals", "links", "customers")
    } | {"cursors": db.execute("SELECT name, value FROM cursors").fetchall()}


def _db(folder: Path) -> Database:
    db = open_db(folder / "monitor.db")
    save_customers(db, [Customer(str(n), f"c{n}@initech.example") for n in range(5)]
                   + [Customer("42", "e3@acme.example")], NOW)  # fmt: skip
    return db


def _until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def _alive(pid: int) -> bool:
    """Running: neither gone nor a zombie left for its new parent to reap."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _children_running(entry: str = "monitor.writer.tx") -> list[int]:
    """Processes started by this one whose command line names the writer."""
    found = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if stat[1] == str(os.getpid()) and stat[0] != "Z" and entry.encode() in command:
            found.append(int(pid))
    return found


def test_the_writer_process_stores_exactly_what_writing_here_stores(tmp_path: Path) -> None:
    signals = _signals(60)
    here, there = _db(tmp_path / "here"), _db(tmp_path / "there")
    heard_here = _write(here, signals, use_writer=False)
    heard_there = _write(there, signals, use_writer=True)
    assert _contents(there) == _contents(here)
    assert heard_there == heard_here
    assert (
        sum(saved.new.total() for saved in heard_there)
        == here.execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    )
    assert sum(saved.counted.get("touched", 0) for saved in heard_there) == 2 * 12  # 12 pages, 2 rows each
    assert _children_running() == []  # flush ended it


def test_counts_are_by_label_and_a_repeat_is_not_new(tmp_path: Path) -> None:
    db = _db(tmp_path)
    labels: list[Hashable] = []
    heard: list[Saved] = []
    batch = SignalBatch(db, now=NOW, on_saved=heard.append, label=lambda s: (s.source, s.category))
    batch.add(_signals(9))
    batch.flush()
    batch = SignalBatch(db, now=NOW, on_saved=heard.append, label=lambda s: labels.append(s.key) or s.source)
    batch.add(_signals(9))
    batch.flush()
    first, again = heard
    assert first.new == {("sentry", "address_or_card"): 6, ("mailgun", "bounce"): 3}
    # e3@acme.example is customer 42's address; the only customer at acme.example owns the rest
    assert first.linked == {("sentry", "address_or_card"): 6, ("mailgun", "bounce"): 3}
    assert again.new.total() == 0 and len(labels) == 9


def test_a_failed_batch_is_raised_and_nothing_after_it_is_written(tmp_path: Path) -> None:
    """Batches before it stay whole; it is rolled back whole; none after it is written, not
    even the last one with the cursor, which would move past rows that were never stored."""
    db = _db(tmp_path)
    batch = SignalBatch(db, now=NOW, max_rows=5)
    batch.add(_signals(5, prefix="ok"))
    batch.add(_signals(5, prefix="bad"), also=[Statement("INSERT INTO no_such_table VALUES (1)", ())])
    with (
        pytest.raises(
            StoreError, match=r"Writing to the database failed \(OperationalError: .*no such table"
        ),
        batch,
    ):
        batch.add(_signals(5, prefix="late"))
        batch.add(_signals(2, prefix="last"), cursors={"test": "end"})
    assert _children_running() == []
    keys = {row[0] for row in db.execute("SELECT key FROM signals")}
    assert {s.key for s in _signals(5, prefix="ok")} <= keys
    assert not any(key.startswith(("bad", "late", "last")) or "@bad" in key or "@late" in key for key in keys)
    assert db.execute("SELECT COUNT(*) FROM cursors").fetchone()[0] == 0


def test_a_store_error_while_another_error_leaves_does_not_hide_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = _db(tmp_path)
    # the poll's own error, then the flush on the way out fails as well
    with pytest.raises(KeyError), caplog.at_level(logging.WARNING), SignalBatch(db, now=NOW) as batch:
        batch.add(_signals(2), also=[Statement("INSERT INTO no_such_table VALUES (1)", ())])
        raise KeyError("the source failed")
    assert "Storing the pages read before the error failed too" in caplog.text
    assert "no such table" in caplog.text


def test_bookkeeping_rows_count_towards_a_batch(tmp_path: Path) -> None:
    """A list snapshot with nothing new still brings its entries' rows: they are written as
    they come, not all at the end."""
    db = _db(tmp_path)
    heard: list[Saved] = []
    rows = [("bounces", f"a{n}@acme.example", f"a{n}@acme.example", "t", "t", "t", "{}") for n in range(6)]
    upsert = (
        "INSERT INTO suppressions (list, address_norm, address, created_at, first_seen_at, last_seen_at,"
        " detail) VALUES (?, ?, ?, ?, ?, ?, ?)"
    )
    batch = SignalBatch(db, now=NOW, on_saved=heard.append, max_rows=10)
    for page in range(3):
        batch.add([], also=[Statement(upsert, [(r[0], f"p{page}{r[1]}", *r[2:]) for r in rows], many=True)])
    assert db.execute("SELECT COUNT(*) FROM suppressions").fetchone()[0] >= 0  # readable meanwhile
    before_flush = len(heard) + (1 if batch.writer_pid else 0)
    batch.flush()
    assert before_flush >= 1 and len(heard) == 2  # pages 1-2 as one batch, page 3 at the flush
    assert db.execute("SELECT COUNT(*) FROM suppressions").fetchone()[0] == 18


def test_a_writer_from_another_release_refuses_and_says_to_restart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daemon running since before an upgrade starts writers from the new files."""
    monkeypatch.setattr("monitor.writer.process.VERSION", "the release before")
    db = _db(tmp_path)
    with (
        pytest.raises(StoreError, match=r"changed since this process started.*restart"),
        SignalBatch(db, now=NOW) as batch,
    ):
        batch.add(_signals(3))
    assert db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] == 0
    assert _children_running() == []


def test_a_writer_that_dies_is_raised_and_what_it_committed_stays(tmp_path: Path) -> None:
    db = _db(tmp_path)
    batch = SignalBatch(db, now=NOW, max_rows=5)
    batch.add(_signals(5, prefix="first"))
    pid = batch.writer_pid
    assert pid is not None
    batch.add(_signals(5, prefix="second"))  # waits for nothing yet: two may be in flight
    time.sleep(0.5)
    os.kill(pid, signal.SIGKILL)
    with pytest.raises(StoreError, match="writer process ended unexpectedly"):
        for n in range(20):
            batch.add(_signals(5, prefix=f"more{n}"))
        batch.flush()
    assert _children_running() == []
    assert db.execute("SELECT COUNT(*) FROM signals WHERE key LIKE 'first%'").fetchone()[0] > 0
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_the_writer_ignores_a_terminal_interrupt_and_a_service_stop(tmp_path: Path) -> None:
    """Ctrl-C and systemd's stop signal the whole group; the poll decides when writing ends."""
    db = _db(tmp_path)
    heard: list[Saved] = []
    batch = SignalBatch(db, now=NOW, on_saved=heard.append, max_rows=5)
    batch.add(_signals(5, prefix="a"))
    pid = batch.writer_pid
    assert pid is not None
    _until(lambda: db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] > 0)  # up and writing
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    batch.add(_signals(5, prefix="b"))
    batch.flush()
    assert len(heard) == 2 and sum(s.new.total() for s in heard) > 0


def test_without_a_writer_process_the_poll_writes_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    db = _db(tmp_path)
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))
    with caplog.at_level(logging.WARNING):
        heard = _write(db, _signals(20), use_writer=True)
    assert "No writer process" in caplog.text
    assert (
        sum(saved.new.total() for saved in heard) == db.execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    )


def test_an_in_memory_database_is_written_here() -> None:
    db = open_db(":memory:")
    batch = SignalBatch(db, now=NOW)
    batch.add(_signals(3))
    assert batch.writer_pid is None
    batch.flush()
    assert db.execute("SELECT COUNT(*) FROM signals").fetchone()[0] == 3


def test_the_writer_ends_when_the_poll_is_killed(tmp_path: Path) -> None:
    """SIGKILL of the poll's process: the writer finishes its batch, sees the pipe close, ends."""
    _db(tmp_path).conn.close()
    script = textwrap.dedent(f"""
        import sys, time
        from datetime import UTC, datetime
        from monitor.core.models import Signal
        from monitor.store import open_db
        from monitor.store.batch import SignalBatch
        now = datetime(2026, 11, 24, tzinfo=UTC)
        db = open_db({str(tmp_path / "monitor.db")!r})
        batch = SignalBatch(db, now=now, max_rows=1)
        batch.add([Signal("sentry", "k1", "address_or_card", now, "t", "g")])
        while not db.execute("SELECT COUNT(*) FROM signals").fetchone()[0]:
            time.sleep(0.01)
        print(batch.writer_pid, flush=True)
        time.sleep(60)
    """)
    poll = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert poll.stdout is not None
    writer = int(poll.stdout.readline())
    poll.kill()
    poll.wait()
    _until(lambda: not _alive(writer))
    check = open_db(tmp_path / "monitor.db")
    assert check.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert check.execute("SELECT COUNT(*) FROM signals WHERE key = 'k1'").fetchone()[0] == 1

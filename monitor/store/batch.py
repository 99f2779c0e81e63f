"""Pages of signals written together: one transaction per ~BATCH_ROWS signals, not per page,
written by the poll's writer process while the poll reads on.

A commit writes every database page its rows touched to the WAL. Signals are indexed several
ways (key, time, address, domain) and linked through another index, each insert landing at a
random place in each, so a page of 100 events dirties hundreds of index pages; committed
page by page, a backfill rewrites the same index pages over and over. Gathering about ten
pages per transaction writes each touched page once per batch. Larger batches save little
more now that the writer process commits while the poll reads, and every batch in flight is
memory: at 2,000 signals a backfill's peak memory grew by a third.

Nothing is held across a network wait: pages are gathered in memory (about BATCH_ROWS
signals and bookkeeping rows, a few MB) and the transaction opens only to write them. A full
batch goes to the writer process (`writer.process`), which writes it while the next one is
read; two batches are in flight at most. A poll leaves a `with SignalBatch(...)` block on its
way out, error or not: every page read before a failure is stored, and the writer has ended.
A crash loses at most the batch being gathered and the two in flight, which the next poll
reads again (signal keys make that harmless; the cursors move in the transaction of the rows
they cover). After a failed batch nothing more is written."""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import NamedTuple

from sqlite_utils import Database

from monitor.core.models import Signal
from monitor.store import connection_pragmas
from monitor.store.signals import SAVE_SQL, batch_of
from monitor.writer.process import WriterProcess, start_writer
from monitor.writer.tx import Statement, Written, write_batch

log = logging.getLogger(__name__)

BATCH_ROWS = 1_000


class Saved(NamedTuple):
    """What one write stored, counted by the labels the poll gave its signals."""

    new: Counter[Hashable]  # signals not stored before, by label
    linked: Counter[Hashable]  # of those, the ones linked to a customer, by label
    counted: Mapping[str, int]  # rows changed by the counted statements


OnSaved = Callable[[Saved], None]
Label = Callable[[Signal], Hashable]


def by_category(signal: Signal) -> Hashable:
    return signal.category


class SignalBatch:
    """Gathers pages (`add`) and writes them once `max_rows` signals and bookkeeping rows
    are waiting, or on `flush`. `on_saved(saved)` hears about each write, in order, for counting, with the new
    signals counted by `label(signal)` (their category unless told otherwise): only the
    labels of a batch in flight are kept, not its signals.
    `use_writer`: write from a writer process (a database file only); False writes here."""

    def __init__(
        self,
        db: Database,
        *,
        now: datetime,
        extra_public_domains: Iterable[str] = (),
        on_saved: OnSaved | None = None,
        label: Label = by_category,
        max_rows: int = BATCH_ROWS,
        use_writer: bool = True,
    ) -> None:
        self.db, self.now, self.max_rows, self.on_saved, self.label = db, now, max_rows, on_saved, label
        self.extra_public_domains = tuple(extra_public_domains)
        # The database file a writer process writes to; None: written in this process.
        self._path = _file_of(db) if use_writer else None
        self._writer: WriterProcess | None = None
        self._signals: list[Signal] = []
        self._cursors: dict[str, str] = {}
        self._before: list[Statement] = []
        self._also: list[Statement] = []
        self._rows = 0  # gathered: signals and bookkeeping rows

    def add(
        self,
        signals: Sequence[Signal],
        *,
        cursors: Mapping[str, str] | None = None,
        before: Sequence[Statement] = (),
        also: Sequence[Statement] = (),
    ) -> None:
        """One page: its signals, the cursors it moves and its own bookkeeping, run in the same
        transaction as its rows: `before` ahead of them, `also` after them."""
        self._signals.extend(signals)
        self._cursors.update(cursors or {})
        self._before.extend(before)
        self._also.extend(also)
        # Bookkeeping rows count too: a list snapshot with few changes still brings 1,000
        # suppression rows a page, which must not pile up until the end.
        self._rows += len(signals) + sum(len(s.params) if s.many else 1 for s in (*before, *also))
        if self._rows >= self.max_rows:
            self._write()

    def __enter__(self) -> SignalBatch:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, err: BaseException | None, tb: TracebackType | None
    ) -> None:
        """`flush` on the way out, error or not. A flush that fails while another error is on
        its way out is logged, not raised: that first error (a source failing, a stop) is what
        went wrong, and what the run records."""
        try:
            self.flush()
        except Exception as failed:
            if err is None:
                raise
            log.warning("Storing the pages read before the error failed too: %s", failed)

    @property
    def writer_pid(self) -> int | None:
        """The writer process's ID while it runs (for diagnostics); None when there is none."""
        return self._writer.process.pid if self._writer is not None else None

    def flush(self) -> None:
        """Write what is gathered and wait until everything handed over is written; the writer
        process has ended when this returns, also when it raises."""
        try:
            self._write()
        finally:
            writer, self._writer = self._writer, None
            if writer is not None:
                writer.close()

    def _write(self) -> None:
        """Hand what is gathered to the writer (or write it here). Taken before writing, so a
        failed write is not attempted twice by a `finally`."""
        if not (self._signals or self._cursors or self._before or self._also):
            return
        labels = [self.label(signal) for signal in self._signals] if self.on_saved else []
        batch = batch_of(self._signals, now=self.now, cursors=self._cursors,
                         extra_public_domains=self.extra_public_domains,
                         before=self._before, also=self._also)  # fmt: skip
        self._signals, self._cursors, self._before, self._also, self._rows = [], {}, [], [], 0
        writer = self._writer_process()
        if writer is None:
            self._saved(labels, write_batch(self.db.conn, SAVE_SQL, batch))
        else:
            writer.write(batch, lambda written: self._saved(labels, written))

    def _saved(self, labels: Sequence[Hashable], written: Written) -> None:
        if self.on_saved is not None:
            new = Counter(labels[at] for at in written.new_at)
            self.on_saved(Saved(new, Counter(labels[at] for at in written.linked_at), written.counted))

    def _writer_process(self) -> WriterProcess | None:
        if self._writer is None and self._path is not None:
            self._writer = start_writer(self._path, connection_pragmas(), SAVE_SQL)
            if self._writer is None:
                self._path = None  # none could start: no second attempt in this poll
        return self._writer


def _file_of(db: Database) -> str | None:
    """The database's file; None for an in-memory or temporary one (no other process sees it)."""
    for _seq, name, file in db.conn.execute("PRAGMA database_list").fetchall():
        if name == "main":
            return str(file) or None
    return None

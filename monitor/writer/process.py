"""A poll's writer process: its batches are written by a second process while it reads on.

Python's `sqlite3` takes the interpreter lock back between every row it steps, so a writer
thread beside the threads that read and parse pages waits for the lock at every row (a
100,000-row batch took minutes instead of two seconds). A process has its own interpreter: the
poll reads, parses and builds the next batch while the previous one is written, on another
core. The writer is a bare interpreter running `writer.tx` (the standard library and the
core's records; about 12 MB, started in a few milliseconds); batches cross a pipe, pickled.

At most two batches are in flight (`IN_FLIGHT`): `write` first reads the oldest answer when
two are, so memory stays at a few batches and a failure is raised at a later write or at
`close`, never lost; after a failure the writer refuses every later batch, so nothing is
written past rows that were not (a cursor, an issue marked read). The guarantees stay
those of one transaction per batch: the writer finishes (commits or rolls back) the batch it
has, then ends when the pipe closes, also when the poll's process was killed."""

from __future__ import annotations

import contextlib
import logging
import pickle
import queue
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import monitor
from monitor.core.errors import StoreError
from monitor.writer.tx import VERSION, Batch, SaveSql, Written

log = logging.getLogger(__name__)

Done = Callable[[Written], None]
CLOSE_TIMEOUT_S = 60  # a batch of a few thousand rows takes well under a second
# Batches handed over and not yet answered: the one being written and the one arriving. The
# poll gathers the next meanwhile, so it is at most three batches ahead of the database.
IN_FLIGHT = 2
# The package's folder, put on the bare interpreter's path: no site-packages, no environment.
PACKAGE_ROOT = str(Path(monitor.__file__).resolve().parent.parent)
ENTRY = f"import sys; sys.path.insert(0, {PACKAGE_ROOT!r}); from monitor.writer.tx import main; main()"


class WriterProcess:
    """Writes batches into the database at `path` from a child process (see the module)."""

    def __init__(self, path: str, pragmas: list[str], sql: SaveSql) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", ENTRY],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self._requests: IO[bytes] = self.process.stdin  # type: ignore[assignment]
        self._replies: IO[bytes] = self.process.stdout  # type: ignore[assignment]
        self._pending: deque[Done] = deque()
        self._greeted = False
        # Set when the answers can no longer be matched to their batches (an interrupt while
        # one was being read, the writer gone): nothing more is read, the writer is only ended.
        self._broken: StoreError | None = None
        # Pickled batches go down the pipe from a thread: the writer reads a batch while it
        # arrives, and the poll goes on reading pages meanwhile instead of waiting for it.
        self._outbox: queue.Queue[bytes | None] = queue.Queue(maxsize=1)
        self._sender = threading.Thread(target=self._send_all, name="writer-pipe", daemon=True)
        self._sender.start()
        self._outbox.put(pickle.dumps((VERSION, path, pragmas, sql), protocol=pickle.HIGHEST_PROTOCOL))

    def write(self, batch: Batch, done: Done) -> None:
        """Hand `batch` to the writer; `done(written)` runs when its answer is read, in order,
        at a later `write`, `wait` or `close`. Raises StoreError when an earlier batch failed
        (the writer then refuses every later one, this one included)."""
        while len(self._pending) >= IN_FLIGHT:
            self._answer()
        data = pickle.dumps(batch, protocol=pickle.HIGHEST_PROTOCOL)
        self._pending.append(done)  # before it is sent: an interrupt must not unpair the answers
        self._outbox.put(data)

    def wait(self) -> None:
        """Until every batch handed over is written (or raise StoreError for one that was not)."""
        while self._pending:
            self._answer()

    def close(self) -> None:
        """Wait for the batches in flight, then let the writer end. Always ends the child."""
        try:
            if self._broken is None:
                self.wait()
        finally:
            self._pending.clear()
            self._outbox.put(None)  # the pipe closes once what is queued is sent
            self._sender.join(CLOSE_TIMEOUT_S)
            try:
                self.process.wait(timeout=CLOSE_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self._replies.close()

    def _answer(self) -> None:
        """Read the answer about the oldest batch in flight (after the writer's greeting)."""
        if self._broken is not None:
            raise self._broken
        if not self._greeted:
            self._check(self._read())
            self._greeted = True
        reply = self._read()
        done = self._pending.popleft()  # only once its answer is read whole
        self._check(reply)
        done(reply[1])

    def _read(self) -> tuple[Any, ...]:
        try:
            reply: tuple[Any, ...] = pickle.load(self._replies)  # noqa: S301 (our own child, a private pipe)
        except (EOFError, OSError, pickle.UnpicklingError) as err:
            self._broken = self._ended(err)
            raise self._broken from err
        except BaseException:  # an interrupt part-way through an answer: the rest is unreadable
            self._broken = StoreError(
                "Writing was interrupted; what was not written is read again by the next poll."
            )
            raise
        return reply

    @staticmethod
    def _check(reply: tuple[Any, ...]) -> None:
        if reply[0] == "error":
            raise StoreError(f"Writing to the database failed ({reply[1]}: {reply[2]}).")

    def _send_all(self) -> None:
        """The sending thread: each queued message down the pipe, until None. Once the pipe is
        broken (the writer is gone) the rest is dropped, so the queue never fills for good;
        the poll learns what happened from the answers."""
        broken = False
        while (message := self._outbox.get()) is not None:
            if broken:
                continue
            try:
                self._requests.write(message)
                self._requests.flush()
            except Exception:
                broken = True
        with contextlib.suppress(OSError):
            self._requests.close()

    def _ended(self, err: BaseException) -> StoreError:
        try:
            how = f"exit status {self.process.wait(timeout=1)}"
        except subprocess.TimeoutExpired:
            how = type(err).__name__
        return StoreError(f"The database writer process ended unexpectedly ({how}); nothing more "
                          "of this poll is written, and its cursor does not move past it.")  # fmt: skip


def start_writer(path: str, pragmas: list[str], sql: SaveSql) -> WriterProcess | None:
    """A writer for the database file at `path`; None when no process can be started here
    (the poll then writes in its own process, as it would with one core)."""
    if not sys.executable:
        return None
    try:
        return WriterProcess(path, pragmas, sql)
    except OSError as err:
        log.warning("No writer process (%s); writing from the poll's own process", err)
        return None

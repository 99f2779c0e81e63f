"""Reading the events of several Sentry issues at once, written in the order they were asked.

Real Sentry answers in 50 to 200 ms, so a first poll of a thousand issues spends most of its
time waiting. Up to `workers` issues are read at the same time (`[sentry] max_concurrency`),
each by one thread that fetches all of its pages; the poll's thread takes the results in the
order the issues were listed and writes them, so what is stored and when the cursor moves do
not depend on which answer came first. At most `workers` issues are in flight: a crash
repeats only their pages, and memory stays bounded. All threads share one HttpClient, so a
rate-limit window or a 429 slows every thread rather than each retrying on its own, and a
stop (SIGTERM) ends every thread at its next request."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from monitor.sources.sentry_parse import IssueRef

Result = TypeVar("Result")


def read_in_order(
    issues: Iterable[IssueRef], read: Callable[[IssueRef], Result], workers: int
) -> Generator[tuple[IssueRef, Result], None, None]:
    """`read(issue)` for each issue, at most `workers` at a time, yielded in the issues' order.
    An exception of one read is raised when its turn comes, after the in-flight reads are
    abandoned (their threads finish their current request and stop)."""
    if workers <= 1:
        for issue in issues:
            yield issue, read(issue)
        return
    pending: deque[tuple[IssueRef, Future[Result]]] = deque()
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sentry-read")
    try:
        for issue in issues:
            pending.append((issue, pool.submit(read, issue)))
            if len(pending) >= workers:
                done, future = pending.popleft()
                yield done, future.result()
        while pending:
            done, future = pending.popleft()
            yield done, future.result()
    finally:
        pool.shutdown(wait=True, cancel_futures=True)

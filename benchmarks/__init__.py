"""Scale and overhead measurements of the monitor, printed as one JSON object (`make bench`).

Every figure is a ratio measured in the same run against a floor on the same data: the same
simulators, the same machine, the same SQLite build. Machine noise and the simulators' own
cost then fall on both sides of the ratio. See the README's Performance section for the figures and how
to read them.

This module holds what the topics share: the two scales, timing, the simulator timer and
the shape of one figure."""

from __future__ import annotations

import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from monitor.simulators.base import App, Reply, Request, SimulatorServer


@dataclass(frozen=True)
class Scale:
    """Data sizes of one run. `full` is the issue's; `small` is a quick check of the machinery."""

    name: str
    sentry_issues: int  # x sentry_events_per_issue events
    sentry_events_per_issue: int
    mailgun_events: int
    mailgun_bounces: int
    poll_customers: int  # the directory the polls link against
    rss_fraction: int  # the small RSS poll has 1/rss_fraction of the large one's data
    import_rows: int
    linking_customers: int
    linking_signals: int
    digest_customers: int
    repeats: int  # timed runs per side; the fastest counts (noise only ever adds time)


SCALES = {
    "small": Scale("small", 10, 100, 1_000, 1_000, 2_000, 5, 20_000, 20_000, 2_000, 200, 1),
    "full": Scale("full", 1_000, 100, 50_000, 50_000, 100_000, 100, 1_000_000, 1_000_000, 100_000, 10_000, 3),
}


def progress(message: str) -> None:
    """Progress goes to stderr: stdout carries only the JSON."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = action()
    return time.perf_counter() - started, result


def cpu_timed(action: Callable[[], Any]) -> tuple[float, float, Any]:
    """(wall seconds, CPU seconds, result). CPU: user + system of this process (all threads)
    and of the child processes that ended meanwhile (a poll's writer process)."""
    cpu = _cpu_seconds()
    seconds, result = timed(action)
    return seconds, _cpu_seconds() - cpu, result


def _cpu_seconds() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


@dataclass(frozen=True)
class Run:
    """One timed run: wall-clock seconds, and CPU seconds of this process (all its threads)."""

    seconds: float
    cpu: float


def measure(action: Callable[[], Any]) -> tuple[Run, Any]:
    seconds, cpu, result = cpu_timed(action)
    return Run(seconds, cpu), result


def versus(monitor: list[Run], floor: list[Run], target: float) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figure, details) of the monitor against its floor. The figure is the wall-clock ratio of
    each side's fastest run; the CPU ratio, less swayed by other work on a shared machine, is
    in the details."""
    wall, floor_wall = min(r.seconds for r in monitor), min(r.seconds for r in floor)
    cpu, floor_cpu = min(r.cpu for r in monitor), min(r.cpu for r in floor)
    details = {
        "seconds": round(wall, 3),
        "floor_seconds": round(floor_wall, 3),
        "cpu_seconds": round(cpu, 3),
        "floor_cpu_seconds": round(floor_cpu, 3),
        "cpu_ratio": round(ratio(cpu, floor_cpu), 3),
    }
    return figure(ratio(wall, floor_wall), target), details


def figure(value: float, target: float | None, *, at_most: bool = True, digits: int = 3) -> dict[str, Any]:
    """One figure: its value, its target (None: reported only) and whether it holds."""
    out: dict[str, Any] = {"value": round(value, digits)}
    if target is not None:
        out["target"] = target
        out["ok"] = bool(value <= target) if at_most else bool(value >= target)
    return out


def ratio(measured: float, floor: float) -> float:
    return measured / floor if floor > 0 else float("inf")


class TimedApp:
    """Wraps a simulator app to add up the wall time spent inside it (its share of a poll)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.seconds = 0.0
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, request: Request) -> Reply:
        started = time.perf_counter()
        try:
            return self.app(request)
        finally:
            elapsed = time.perf_counter() - started
            with self._lock:
                self.seconds += elapsed
                self.calls += 1

    def reset(self) -> None:
        with self._lock:
            self.seconds, self.calls = 0.0, 0


def timed_server(server: SimulatorServer) -> TimedApp:
    """Put a TimedApp around a started server's app; the handler looks the app up per request."""
    timer = server.app if isinstance(server.app, TimedApp) else TimedApp(server.app)
    server.app = timer
    return timer

"""The child of the RSS benchmark: one poll of each source, then its peak RSS as JSON: its own
plus its writer processes' (the largest of them; they run one at a time).

python -m benchmarks.rss_child '{"sentry": URL, "mailgun": URL, "database": PATH, "now": ISO}'
"""

from __future__ import annotations

import json
import os
import sys
import threading
from datetime import datetime
from pathlib import Path

from benchmarks.simulators import ORGANIZATION, PROJECT, SENTRY_TOKEN
from monitor.config.context import AppContext
from monitor.config.load import Secrets
from monitor.config.secrets import Secret
from monitor.config.settings import MailgunSettings, MonitorSettings, SentrySettings, Settings
from monitor.runner.jobs import run_job
from monitor.simulators.mailgun import DEFAULT_API_KEY, DEFAULT_DOMAIN
from monitor.store import open_db


def peak_rss_kb(pid: int | str = "self") -> int:
    """VmHWM (the resident set's high-water mark) of a process; 0 once it is gone. Linux only:
    the benchmark measures the machine it runs on."""
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


class ChildPeaks:
    """The largest VmHWM of this process's children (the polls' writer processes), sampled
    every few milliseconds while they run: a child's own peak is gone with it, and the
    kernel's ru_maxrss for children also counts the copy of this process they start as."""

    def __init__(self) -> None:
        self.peak = 0
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def __enter__(self) -> ChildPeaks:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._done.set()
        self._thread.join()

    def _sample(self) -> None:
        me = str(os.getpid())
        while not self._done.wait(0.005):
            for pid in _children(me):
                self.peak = max(self.peak, peak_rss_kb(pid))


def _children(parent: str) -> list[str]:
    found = []
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", encoding="ascii") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if fields[1] == parent:  # state, ppid, ...
                found.append(entry.name)
    return found


def main(spec_text: str) -> None:
    spec = json.loads(spec_text)
    database = Path(spec["database"])
    settings = Settings(
        monitor=MonitorSettings(database=database),
        sentry=SentrySettings(base_url=spec["sentry"], organization=ORGANIZATION, project=PROJECT),
        mailgun=MailgunSettings(base_url=spec["mailgun"], domain=DEFAULT_DOMAIN),
    )
    secrets = Secrets(sentry_token=Secret(SENTRY_TOKEN), mailgun_key=Secret(DEFAULT_API_KEY))
    app = AppContext(config_path=database.parent / "schedules.toml", _settings=settings, _secrets=secrets)
    app._db = open_db(database)
    now = datetime.fromisoformat(spec["now"])
    with ChildPeaks() as children:
        for job in ("poll-sentry", "poll-mailgun"):
            result = run_job(app, job, now)
            if not result.ok:
                raise SystemExit(f"{job} failed: {result.error}")
    records = app.db().execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    poll, writer = peak_rss_kb(), children.peak
    # Both at their peaks at once: an upper bound of what the poll held in memory.
    print(
        json.dumps({"records": records, "peak_rss_kb": poll + writer, "poll_kb": poll, "writer_kb": writer})
    )


if __name__ == "__main__":
    main(sys.argv[1])

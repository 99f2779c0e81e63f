"""Peak memory of a full poll (both sources) at the full data size against the same poll at
a hundredth of it: pages stream through, so nothing may grow with the backlog.

The poll runs in a child process (`python -m benchmarks.rss_child`) against the simulators
served from this one, so the child's peak RSS (VmHWM) is the monitor's alone: neither the
simulators' data nor the benchmark's own state count. Each child starts with the same
customer directory already in its database."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

from benchmarks import Scale, figure, progress
from benchmarks.data import insert_customers
from benchmarks.simulators import DataSize, Simulators
from monitor.store import open_db

TARGET = 1.2


def child_poll(sims: Simulators, folder: Path, now: datetime) -> dict[str, Any]:
    """Run both polls in a fresh process; its peak RSS and what it stored."""
    database = folder / f"rss-{sims.size.events}.db"
    db = open_db(database)
    insert_customers(db.conn, sims.size.customers, now)
    db.conn.close()
    spec = {
        "sentry": sims.sentry.base_url,
        "mailgun": sims.mailgun.base_url,
        "database": str(database),
        "now": now.isoformat(),
    }
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.rss_child", json.dumps(spec)],
        capture_output=True,
        text=True,
        check=False,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"the RSS child failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def run(
    scale: Scale, now: datetime, large: Simulators | None = None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, details). `large`: simulators already serving the full size (from the poll topic)."""
    with tempfile.TemporaryDirectory(prefix="bench-rss-") as name:
        folder = Path(name)
        with Simulators(DataSize.of(scale, scale.rss_fraction), now) as small_sims:
            small = child_poll(small_sims, folder, now)
        if large is None:
            with Simulators(DataSize.of(scale), now) as large_sims:
                big = child_poll(large_sims, folder, now)
        else:
            big = child_poll(large, folder, now)
    progress(
        f"rss: {small['records']:,} records {small['peak_rss_kb']:,} KB, "
        f"{big['records']:,} records {big['peak_rss_kb']:,} KB"
    )
    details = {"small": small, "large": big}
    # The name: 100,000 Sentry events (with 100,000 Mailgun records) against 1,000 (and 1,000).
    return {"rss_100k_vs_1k": figure(big["peak_rss_kb"] / small["peak_rss_kb"], TARGET)}, details

"""`python -m benchmarks [--scale small|full] [--only TOPIC ...]` (`make bench`): one JSON object
of figures on stdout, progress on stderr.

    {"scale": "full", "machine": {...}, "ok": true,
     "figures": {"poll_vs_floor": {"value": 1.07, "target": 1.2, "ok": true}, ...},
     "details": {"poll": {...}, "rss": {...}, ...}}

A figure with a target holds when its value is at most the target; one without is reported only.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sqlite3
import sys
import time
from datetime import UTC, datetime
from typing import Any

from benchmarks import SCALES, Scale, progress

TOPICS = ("poll", "latency", "rss", "import", "linking", "digest")


def machine() -> dict[str, Any]:
    """Where the figures come from."""
    model = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), ""
            )
    except OSError:
        model = platform.processor()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": model or platform.machine(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "system": f"{platform.system()} {platform.release()}",
    }


def run_topic(topic: str, scale: Scale, now: datetime, sims: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """(figures, details) of one topic; imported lazily so `--only` loads only what it runs."""
    if topic == "poll":
        from benchmarks import poll

        return poll.run(scale, sims, now)
    if topic == "latency":
        from benchmarks import latency

        return latency.run(scale, now)
    if topic == "rss":
        from benchmarks import rss

        return rss.run(scale, now, large=sims)
    if topic == "import":
        from benchmarks import customer_import

        return customer_import.run(scale, now)
    if topic == "linking":
        from benchmarks import linking

        return linking.run(scale, now)
    from benchmarks import digest

    return digest.run(scale, now)


def run_topics(topics: list[str], scale: Scale, now: datetime) -> tuple[dict[str, Any], dict[str, Any]]:
    figures: dict[str, Any] = {}
    details: dict[str, Any] = {}
    with contextlib.ExitStack() as stack:
        sims = None
        if {"poll", "rss"} & set(topics):  # both poll the same full-size data: generated once
            from benchmarks.simulators import DataSize, Simulators

            sims = stack.enter_context(Simulators(DataSize.of(scale), now))
        for topic in TOPICS:
            if topic in topics:
                progress(f"{topic} ({scale.name} scale)")
                figures_of, details[topic] = run_topic(topic, scale, now, sims)
                figures.update(figures_of)
    return figures, details


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        default="full",
        help="full: the sizes of the performance targets (minutes); small: a quick check",
    )
    parser.add_argument(
        "--only", nargs="+", choices=TOPICS, default=list(TOPICS), help="run only these topics"
    )
    args = parser.parse_args(argv)
    scale = SCALES[args.scale]
    now = datetime.now(UTC).replace(microsecond=0)
    started = time.perf_counter()
    figures, details = run_topics(args.only, scale, now)
    report = {
        "scale": scale.name,
        "machine": machine(),
        "seconds": round(time.perf_counter() - started, 1),
        "ok": all(f.get("ok", True) for f in figures.values()),
        "figures": figures,
        "details": details,
    }
    json.dump(report, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())

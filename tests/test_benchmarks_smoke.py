"""`make bench` keeps working: the small scale runs end to end and reports every figure.

No timing is asserted here (a shared CI machine is no place for thresholds); the figures
and their targets are for `make bench` and the README's Performance section."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIGURES = {
    "poll_sentry_vs_floor",
    "poll_mailgun_vs_floor",
    "poll_vs_floor",
    "poll_vs_plain_floor",
    "latency_poll_vs_sequential_floor",
    "simulator_share_of_poll",
    "simulator_share_of_plain_floor",
    "same_rows_floor_vs_plain_floor",
    "requests_nothing_new_sentry",
    "requests_nothing_new_mailgun",
    "rss_100k_vs_1k",
    "import_vs_executemany",
    "linking_vs_join",
    "digest_vs_jinja2",
}


def test_the_small_benchmark_prints_one_json_object_with_every_figure_as_a_number() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--scale", "small"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=110,
        check=False,
    )

    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout)  # stdout is the JSON alone; progress went to stderr
    assert report["scale"] == "small"
    assert set(report["figures"]) == FIGURES
    for name, figure in report["figures"].items():
        value = figure["value"]
        assert isinstance(value, int | float) and not isinstance(value, bool), name
        assert value > 0, name
    assert report["machine"]["cpus"] and report["machine"]["sqlite"]
    assert "[bench" in done.stderr

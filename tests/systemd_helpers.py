"""What the tests that compare our schedules with systemd's own calendar share:
`systemd-analyze calendar`, its answer parsed to UTC instants, and ours to set beside it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import UTC, datetime

import pytest
from apscheduler.triggers.cron import CronTrigger

from monitor.runner.schedule import first_fire_after

ANALYZE = shutil.which("systemd-analyze")
needs_systemd = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
ELAPSE = re.compile(r"(?:Next elapse|Iter\. #\d+): \w{3} (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) UTC")
# Fridays before the digest, a spring and an autumn DST weekend. Not the repeated hour itself:
# systemd skips it for `*:00/10` too, where the daemon keeps polling.
BASES = ["2026-11-20 06:55:30", "2026-03-27 12:00:30", "2026-10-23 12:00:30", "2026-10-25 03:00:30"]


def analyze(*args: str, check: bool = False) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze ARGS` in UTC, without pager or colours."""
    assert ANALYZE is not None
    env = {**os.environ, "TZ": "UTC", "SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0"}
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, env=env, check=check)


def elapses(output: str) -> list[datetime]:
    """The instants `systemd-analyze calendar` printed, in its order."""
    return [datetime.fromisoformat(text).replace(tzinfo=UTC) for text in ELAPSE.findall(output)]


def our_fires(trigger: CronTrigger, base: str, count: int = 6) -> list[datetime]:
    """The next `count` fires of our trigger after `base` (UTC, as systemd's base time)."""
    fires, moment = [], datetime.fromisoformat(base).replace(tzinfo=UTC)
    for _ in range(count):
        fire = first_fire_after(trigger, moment)
        assert fire is not None
        fires.append(fire.astimezone(UTC))
        moment = fire
    return fires

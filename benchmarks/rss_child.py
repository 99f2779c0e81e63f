"""The child of the RSS benchmark: one poll of each source, then its own peak RSS as JSON.

python -m benchmarks.rss_child '{"sentry": URL, "mailgun": URL, "database": PATH, "now": ISO}'
"""

from __future__ import annotations

import json
import resource
import sys
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


def peak_rss_kb() -> int:
    """VmHWM (the resident set's high-water mark) on Linux; ru_maxrss elsewhere."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KB elsewhere


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
    for job in ("poll-sentry", "poll-mailgun"):
        result = run_job(app, job, now)
        if not result.ok:
            raise SystemExit(f"{job} failed: {result.error}")
    records = app.db().execute("SELECT COUNT(*) FROM signals").fetchone()[0]
    print(json.dumps({"records": records, "peak_rss_kb": peak_rss_kb()}))


if __name__ == "__main__":
    main(sys.argv[1])

"""Inside the test container: the bundled Sentry and Mailgun simulators and an SMTP sink on
loopback, seeded with the demo's sample. Writes their addresses to /run/monitor-sims.env and
the number of mails received to /run/monitor-sims.mails, until SIGTERM."""

import signal
import threading
from datetime import UTC, datetime
from pathlib import Path

from monitor.demo.run import local_services
from monitor.demo.sample import build_sample, customers_csv

stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
sample = build_sample(datetime.now(UTC).date())
Path("/run/monitor-customers.csv").write_text(customers_csv(sample), encoding="utf-8")
with local_services(sample) as (sentry_url, mailgun_url, smtp):
    Path("/run/monitor-sims.env").write_text(
        f"SENTRY_URL={sentry_url}\nMAILGUN_URL={mailgun_url}\nSMTP_PORT={smtp.port}\n", encoding="utf-8"
    )
    while not stop.wait(1):
        Path("/run/monitor-sims.mails").write_text(str(len(smtp.raw_messages)), encoding="utf-8")

#!/bin/sh
# Regenerates docs/digest.png: the digest of the demo's sample day, rendered to HTML and
# photographed by headless Chromium (Debian: apt-get install chromium).
# Usage: docs/make_screenshot.sh   (from anywhere; writes docs/digest.png in this checkout;
#        HTML_OUT=/tmp/digest.html also keeps the rendered HTML)
set -eu

repo=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-$repo/.venv/bin/python}
chromium=${CHROMIUM:-chromium}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$python" - "$work" <<'EOF'
"""Seed a database with the demo's sample (same data as `monitor demo`) and render a digest."""
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitor.config.load import load_settings
from monitor.digest.build import build_digest
from monitor.core.models import Customer, Signal
from monitor.digest.render import render_html
from monitor.demo.sample import build_sample
from monitor.store import open_db, write_tx
from monitor.store.customers import customer_row, upsert_imported
from monitor.store.acks import acknowledge
from monitor.store.digest import digest_input
from monitor.store.runs import record_finish, record_start
from monitor.store.signals import save_signals
from monitor.core.timeutil import to_db

work = Path(sys.argv[1])
(work / "schedules.toml").write_text(
    '[monitor]\ntimezone = "Europe/Amsterdam"\ndatabase = "monitor.db"\n'
    '[sentry]\norganization = "gitlab"\nproject = "customersgitlabcom"\n'
    '[mailgun]\ndomain = "customers.gitlab.com"\n'
    '[digest]\nrecipients = ["billing-support@example.com"]\n'
    'sender = "CustomersDot monitor <monitor@example.com>"\ntransport = "file"\n'
)
settings = load_settings(work / "schedules.toml")
db = open_db(settings.monitor.database)
today = date(2026, 11, 24)
now = datetime(2026, 11, 24, 7, 0, tzinfo=UTC)
sample = build_sample(today)
with write_tx(db) as conn:
    upsert_imported(
        conn, [customer_row(Customer(c.id, c.email, c.first_name, c.last_name, c.company), to_db(now)) for c in sample.customers]
    )
CATEGORY = {"4101": "address_or_card", "4102": "address_or_card", "4103": "address_or_card",
            "4104": "expired_subscription", "4105": "other_purchase_error", "4106": "other_purchase_error"}
titles = {issue.issue_id: issue.title for issue in sample.issues}
signals = []
for event in sample.events:
    user = event.user or {}
    signals.append(Signal(
        source="sentry", key=event.event_id, category=CATEGORY.get(event.issue_id, "not_purchase"),
        occurred_at=event.at, title=titles[event.issue_id], group=event.issue_id,
        url=f"https://sentry.io/organizations/gitlab/issues/{event.issue_id}/events/{event.event_id}/",
        customer_ref=user.get("id"), email=user.get("email"), name=user.get("name"),
    ))
KIND = {"bounce": "bounce", "complaint": "complaint", "unsubscribe": "unsubscribe", "failed": "failed_delivery"}
TITLE = {"complaint": "Marked the mail as spam", "unsubscribe": "Unsubscribed from all mail"}
for n, item in enumerate(sample.mail):
    category = KIND[item.kind]
    signals.append(Signal(
        source="mailgun", key=f"mail-{n}", category=category, occurred_at=item.at,
        title=TITLE.get(item.kind, f"{item.code} {item.message}".strip()), group=f"{category}:{item.address}",
        url=f"https://app.mailgun.com/app/sending/domains/customers.gitlab.com/logs?search={item.address}",
        email=item.address,
    ))
save_signals(db, signals, now=now - timedelta(hours=1))
for job, minutes in (("poll-sentry", 8), ("poll-mailgun", 12)):
    run = record_start(db, job, now - timedelta(minutes=minutes))
    record_finish(db, run, now - timedelta(minutes=minutes - 1), ok=True)
day = today - timedelta(days=1)
first = build_digest(digest_input(db, settings, day, now), settings)
# Follow-up state: support acknowledged two customers during the day, so the digest shows
# them in its collapsed last section; the others carry new/ongoing badges.
for customer in first["customers"][3:5]:
    acknowledge(db, customer["customer_id"], now - timedelta(hours=8, minutes=5), 7, "wrote to the customer", "alice")
# Jane Doe (48200) was acknowledged for her card error at 11:00; her bounce at 13:37 is a new
# kind of problem, so her card shows her reopened.
acknowledge(db, "48200", datetime(2026, 11, 23, 10, 0, tzinfo=UTC), 7, "asked for a new card", "bob")
digest = build_digest(digest_input(db, settings, day, now), settings)
# Three cards, so the picture reaches the collapsed section of acknowledged customers.
(work / "digest.html").write_text(render_html(digest, 3), encoding="utf-8")
EOF

"$chromium" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --hide-scrollbars \
  --user-data-dir="$work/profile" --screenshot="$repo/docs/digest.png" \
  --window-size=1000,2300 "file://$work/digest.html" 2>/dev/null
[ -z "${HTML_OUT:-}" ] || cp "$work/digest.html" "$HTML_OUT"  # to look at the HTML itself
echo "wrote $repo/docs/digest.png"

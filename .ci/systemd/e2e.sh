#!/bin/bash
# Inside the booted bookworm container (started by .ci/test-systemd): the README's install
# steps, then the daemon and the timers against the bundled simulators on loopback.
set -u
FAILED=0
ok() { echo "ok   $*"; }
bad() { echo "FAIL $*"; FAILED=1; }
check() { local what=$1; shift; if "$@" >/tmp/check.out 2>&1; then ok "$what"; else bad "$what"; sed 's/^/     /' /tmp/check.out; fi; }
wait_for() { local what=$1 seconds=$2; shift 2
    for _ in $(seq "$seconds"); do "$@" >/dev/null 2>&1 && { ok "$what"; return 0; }; sleep 1; done
    bad "$what (not within ${seconds}s)"; return 1; }
status_json() { monitor status --json --config /etc/monitor/schedules.toml 2>/dev/null; }
succeeded() { status_json | /opt/monitor/bin/python -c "import json,sys; j=json.load(sys.stdin)['jobs']['$1']; sys.exit(0 if j.get('last_success') else 1)"; }
mails() { cat /run/monitor-sims.mails 2>/dev/null || echo 0; }
mails_above() { [ "$(mails)" -gt "$1" ]; }  # re-read on every try of wait_for
grep -qs "$(hostname)" /etc/hosts || echo "127.0.1.1 $(hostname)" >>/etc/hosts  # sudo wants its name
echo "systemd $(systemctl --version | head -1 | cut -d' ' -f2), $(. /etc/os-release; echo "$PRETTY_NAME")"

# README, Deployment step 1 (the wheels stand in for PyPI)
export PIP_NO_INDEX=1 PIP_FIND_LINKS=/root/wheels
cd /root/monitor || exit 1
check "python3 -m venv /opt/monitor" sudo python3 -m venv /opt/monitor
check "pip install . (the checkout)" sudo --preserve-env=PIP_NO_INDEX,PIP_FIND_LINKS /opt/monitor/bin/pip install --quiet .
check "monitor on /usr/local/bin" sudo ln -sf /opt/monitor/bin/monitor /usr/local/bin/monitor

# The simulators and the SMTP sink on loopback, as a transient service
systemd-run --quiet --unit=monitor-sims /opt/monitor/bin/python /root/sims.py
wait_for "simulators listening" 30 test -s /run/monitor-sims.env
. /run/monitor-sims.env

# Step 2: the config, the shipped example pointed at the simulators, every job each minute
sudo install -D -m 0644 systemd/schedules.toml /etc/monitor/schedules.toml
sed -i -e "s|https://sentry.io|$SENTRY_URL|" -e "s|https://api.mailgun.net|$MAILGUN_URL|" \
    -e 's|customers.gitlab.com|customers.gitlab.example|' -e 's|smtp.example.com|127.0.0.1|' \
    -e "s|^port = 587|port = $SMTP_PORT|" -e 's|"starttls"|"none"|' -e 's|^username = .*|username = ""|' \
    -e 's|^schedule = "[^"]*"|schedule = "* * * * *"|' /etc/monitor/schedules.toml

# Step 3: the secrets this config needs (no SMTP login: no smtp_password)
sudo install -d -m 0700 /etc/monitor/credentials
sudo sh -c 'umask 077; printf demo-sentry-token > /etc/monitor/credentials/sentry_auth_token'
sudo sh -c 'umask 077; printf demo-mailgun-key > /etc/monitor/credentials/mailgun_api_key'

# Step 4: render, check, reload
check "monitor systemd render --out /etc/systemd/system" \
    sudo monitor systemd render --config /etc/monitor/schedules.toml --out /etc/systemd/system
check "no smtp_password credential without an SMTP login" bash -c '! grep -q smtp_password /etc/systemd/system/monitor*.service'
check "monitor check-config --deployment" sudo monitor check-config --deployment --config /etc/monitor/schedules.toml
sudo systemctl daemon-reload
check "systemd-analyze verify" systemd-analyze verify /etc/systemd/system/monitor*.service /etc/systemd/system/monitor-*.timer
for unit in /etc/systemd/system/monitor*.service; do
    echo "     $(systemd-analyze security "$(basename "$unit")" 2>/dev/null | tail -1)"
done

# The daemon
check "systemctl enable --now monitor.service" sudo systemctl enable --now monitor.service
sudo monitor customers import /run/monitor-customers.csv --config /etc/monitor/schedules.toml >/dev/null
wait_for "the daemon polled Sentry" 90 succeeded poll-sentry
wait_for "the daemon polled Mailgun" 90 succeeded poll-mailgun
wait_for "the daemon's digest arrived at the SMTP sink" 120 mails_above 0
check "monitor status without sudo says to use sudo" bash -c \
    "env -u INVOCATION_ID setpriv --reuid=nobody --regid=nogroup --clear-groups monitor status --config /etc/monitor/schedules.toml 2>&1 | tee /dev/stderr | grep -q 'run \`sudo monitor status'"
start=$(date +%s.%N); sudo systemctl stop monitor.service; stop=$(date +%s.%N)
echo "     systemctl stop took $(echo "$stop - $start" | bc 2>/dev/null || python3 -c "print(round($stop-$start,2))") s"
check "the daemon stopped cleanly (exit 0)" bash -c '[ "$(systemctl show -P ExecMainStatus monitor.service)" = 0 ] && [ "$(systemctl show -P Result monitor.service)" = success ]'
echo "     journalctl -u monitor (as it really is):"; journalctl -u monitor.service -o short-iso --no-pager | sed 's/^/       /' | head -30

# A missing credential is a failed start, not a silent retry loop
sudo mv /etc/monitor/credentials/mailgun_api_key /root/mailgun_api_key
check "without a credential, systemctl start fails" bash -c '! sudo systemctl start monitor.service'
echo "     $(systemctl show -P ExecMainStatus monitor.service) / $(systemctl status monitor.service --no-pager 2>&1 | grep -m1 -o 'status=.*')"
check "check-config --deployment names the missing file" bash -c \
    "sudo monitor check-config --deployment --config /etc/monitor/schedules.toml 2>&1 | tee /dev/stderr | grep -q 'mailgun_api_key'"
sudo mv /root/mailgun_api_key /etc/monitor/credentials/mailgun_api_key
sudo systemctl disable --quiet monitor.service; sudo systemctl reset-failed monitor.service

# The timers, on a fresh database (yesterday's digest went out above)
sudo rm -rf /var/lib/private/monitor
before=$(mails)
check "systemctl enable --now the timers" sudo systemctl enable --now monitor-poll-sentry.timer monitor-poll-mailgun.timer monitor-digest.timer
systemctl list-timers 'monitor-*' --no-pager | sed 's/^/     /'
for job in poll-sentry poll-mailgun digest; do
    wait_for "monitor-$job.timer fired and its service succeeded" 150 \
        bash -c "[ \"\$(systemctl show -P ExecMainExitTimestampMonotonic monitor-$job.service)\" != 0 ] && [ \"\$(systemctl show -P Result monitor-$job.service)\" = success ]"
done
wait_for "the timer's digest arrived at the SMTP sink" 30 mails_above "$before"
echo "     journalctl -u monitor-poll-sentry (as it really is):"
journalctl -u monitor-poll-sentry.service -o short-iso --no-pager | sed 's/^/       /' | head -8
sudo systemctl disable --now --quiet monitor-poll-sentry.timer monitor-poll-mailgun.timer monitor-digest.timer
[ "$FAILED" = 0 ] && echo "PASSED" || echo "FAILED"
exit "$FAILED"

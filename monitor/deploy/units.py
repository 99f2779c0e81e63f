"""The systemd units of one config (`monitor systemd render`). Pure: settings in, texts out.

- `monitor.service`: the daemon (`monitor run`), `Type=exec` so a start that fails to exec
  fails `systemctl start`, restarted on failure.
- per scheduled poll and the digest: a oneshot service and a timer whose `OnCalendar=` is the
  job's crontab schedule in `[monitor] timezone` (see `calendar`).
- `LoadCredential=` only for the secrets this config needs: the Sentry token with [sentry],
  the Mailgun key with [mailgun] (or the mailgun transport), the SMTP password only with
  `smtp.username`.
"""

from __future__ import annotations

from monitor.config.settings import Settings
from monitor.deploy.calendar import on_calendar, skipped_in_spring

CONFIG = "/etc/monitor/schedules.toml"
BINARY = "/usr/local/bin/monitor"
CREDENTIALS = "/etc/monitor/credentials"
MODES = ("daemon", "timers")

HARDENING = """\
# Sandbox: a dynamic user that may write only /var/lib/monitor (`systemd-analyze security`:
# 1.2 OK). Every monitor unit uses the same User=, so they share one UID and the database.
User=monitor
Group=monitor
DynamicUser=yes
StateDirectory=monitor
StateDirectoryMode=0700
UMask=0077
CapabilityBoundingSet=
AmbientCapabilities=
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
PrivateDevices=yes
PrivateUsers=yes
DevicePolicy=closed
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
ProcSubset=pid
RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
RemoveIPC=yes
LockPersonality=yes
# Nothing here needs writable+executable memory: the test suite passes under the kernel's
# per-process equivalent (prctl PR_SET_MDWE).
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallFilter=~@privileged @resources
SystemCallErrorNumber=EPERM
"""

# job -> (command, what the service does, what the timer says, start time limit)
JOBS = {
    "poll-sentry": ("poll sentry", "poll Sentry for purchase errors", "poll Sentry", "1h"),
    "poll-mailgun": ("poll mailgun", "poll Mailgun for undeliverable mail", "poll Mailgun", "1h"),
    "digest": ("digest --send", "send the daily digest", "send the daily digest", "15min"),
}


def credentials(settings: Settings) -> list[str]:
    """The secrets this config needs, as credential names (the variables in lower case)."""
    needed = []
    if settings.sentry is not None:
        needed.append("sentry_auth_token")
    if settings.mailgun is not None or settings.digest.transport == "mailgun":
        needed.append("mailgun_api_key")
    if settings.digest.transport == "smtp" and settings.smtp.username:
        needed.append("smtp_password")
    return needed


def job_credentials(settings: Settings, job: str) -> list[str]:
    wanted = {"poll-sentry": {"sentry_auth_token"}, "poll-mailgun": {"mailgun_api_key"}}.get(
        job, {"mailgun_api_key", "smtp_password"}
    )
    return [name for name in credentials(settings) if name in wanted]


def render_units(settings: Settings, modes: tuple[str, ...] = MODES) -> dict[str, str]:
    """File name -> unit text."""
    units: dict[str, str] = {}
    if "daemon" in modes:
        units["monitor.service"] = _daemon(settings)
    if "timers" in modes:
        for job in scheduled_jobs(settings):
            units[f"monitor-{job}.service"] = _oneshot(settings, job)
            units[f"monitor-{job}.timer"] = _timer(settings, job)
    return units


def scheduled_jobs(settings: Settings) -> list[str]:
    """The jobs with a timer: each configured source's poll, and the digest. Mailgun's list
    reconcile has none: `monitor poll mailgun` runs it when its own schedule is due."""
    jobs = []
    if settings.sentry is not None:
        jobs.append("poll-sentry")
    if settings.mailgun is not None:
        jobs.append("poll-mailgun")
    return [*jobs, "digest"]


def _load_credentials(names: list[str]) -> str:
    return "".join(f"LoadCredential={name}:{CREDENTIALS}/{name}\n" for name in names)


def _daemon(settings: Settings) -> str:
    return (
        "# The long-running scheduler: every job of schedules.toml on its schedule, with catch-up\n"
        "# after downtime. Use this OR the monitor-*.timer units, not both (see README.md).\n"
        "# Written by `monitor systemd render`; render again after changing the config.\n"
        "[Unit]\n"
        "Description=CustomersDot monitor (scheduler)\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "# exec: `systemctl start` fails when the command cannot start.\n"
        "Type=exec\n"
        f"ExecStart={BINARY} run\n"
        f"Environment=MONITOR_CONFIG={CONFIG}\n"
        "# Read by monitor from $CREDENTIALS_DIRECTORY: only the secrets this config needs.\n"
        f"{_load_credentials(credentials(settings))}"
        "Restart=on-failure\n"
        "RestartSec=30s\n"
        "# SIGTERM lets the running job finish its current page; it exits within seconds.\n"
        "TimeoutStopSec=30s\n"
        f"{HARDENING}"
        "\n"
        "[Install]\n"
        "WantedBy=multi-user.target\n"
    )


def _oneshot(settings: Settings, job: str) -> str:
    command, what, _timer_text, limit = JOBS[job]
    return (
        f"# One run of the {job} job, started by monitor-{job}.timer. Use the timers OR monitor.service.\n"
        "# Written by `monitor systemd render`; render again after changing the config.\n"
        "[Unit]\n"
        f"Description=CustomersDot monitor: {what}\n"
        "Wants=network-online.target\n"
        "After=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={BINARY} {command}\n"
        f"Environment=MONITOR_CONFIG={CONFIG}\n"
        f"{_load_credentials(job_credentials(settings, job))}"
        "# A oneshot has no start timeout by default: a hung run would block every later one.\n"
        f"TimeoutStartSec={limit}\n"
        f"{HARDENING}"
    )


def _timer(settings: Settings, job: str) -> str:
    schedule = settings.schedule_of(job)
    skipped = skipped_in_spring(schedule, settings.zone)
    if skipped:
        raise ValueError(
            f"jobs.{job}.schedule: {skipped} does not exist on the day the clocks go forward in "
            f"{settings.monitor.timezone}; cron runs the job just after, a timer skips that day. "
            "Choose a time outside the skipped hour, or render --mode daemon"
        )
    calendars = on_calendar(schedule, settings.monitor.timezone)
    lines = "".join(f"OnCalendar={calendar}\n" for calendar in calendars)
    return (
        f'# {JOBS[job][2]} as jobs.{job}.schedule = "{schedule}" in {settings.monitor.timezone}:\n'
        "# written by `monitor systemd render` from the config; render again after changing it.\n"
        "[Unit]\n"
        f"Description=CustomersDot monitor: {JOBS[job][2]} ({schedule})\n"
        "\n"
        "[Timer]\n"
        f"{lines}"
        "# Missed while the machine was off: run once at boot.\n"
        "Persistent=true\n"
        "AccuracySec=1s\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )

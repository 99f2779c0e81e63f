"""The validated configuration: frozen dataclasses, one per `schedules.toml` section.

Each field's metadata carries its documentation (`doc`) and, where a type is not enough,
a check (`check`: value -> value, raising ValueError with the reason). The loader in
`config.py` walks these classes, so the README's config reference and the validation
cannot drift apart."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.config.checks import (
    check_choice,
    check_crontab,
    check_emails,
    check_optional_url,
    check_port,
    check_positive,
    check_regex,
    check_rule_fields,
    check_sender,
    check_template,
    check_timezone,
    check_url,
)

JOB_NAMES = ("poll-sentry", "poll-mailgun", "reconcile-mailgun", "digest")


def doc(text: str, check: Any = None, required: bool = False) -> dict[str, Any]:
    return {"doc": text, "check": check, "required": required}


@dataclass(frozen=True)
class MonitorSettings:
    timezone: str = field(
        default="UTC", metadata=doc("IANA time zone of the schedules and of digest days", check_timezone)
    )
    database: Path = field(
        default=Path("monitor.db"), metadata=doc("SQLite file (relative to the config file)")
    )
    retention_days: int = field(
        default=90,
        metadata=doc("days to keep signals (emails, names) before `monitor purge`", check_positive),
    )


@dataclass(frozen=True)
class SentrySettings:
    base_url: str = field(
        default="https://sentry.io",
        metadata=doc("sentry.io, a regional host, or a self-hosted URL", check_url),
    )
    organization: str = field(default="", metadata=doc("organization slug", required=True))
    project: str = field(default="", metadata=doc("project slug or numeric ID", required=True))
    environment: str = field(default="", metadata=doc("only events of this environment (empty: all)"))
    lookback_days: int = field(default=7, metadata=doc("how far the first poll reaches back", check_positive))
    overlap_minutes: int = field(
        default=60,
        metadata=doc("each poll re-reads this much before its cursor, for late events", check_positive),
    )
    timeout_seconds: float = field(
        default=30.0, metadata=doc("connect/read timeout of one request", check_positive)
    )
    max_wait_seconds: float = field(
        default=300.0,
        metadata=doc("most time one poll spends waiting on rate limits and retries", check_positive),
    )
    max_concurrency: int = field(
        default=4,
        metadata=doc("issues whose events are read at the same time (1: one after another)", check_positive),
    )


@dataclass(frozen=True)
class MailgunSettings:
    base_url: str = field(
        default="https://api.mailgun.net",
        metadata=doc("US: https://api.mailgun.net, EU: https://api.eu.mailgun.net", check_url),
    )
    domain: str = field(default="", metadata=doc("the portal's sending domain", required=True))
    lookback_days: int = field(
        default=7, metadata=doc("how far the first events poll reaches back", check_positive)
    )
    trust_minutes: int = field(
        default=30,
        metadata=doc(
            "events younger than this are left for the next poll (Mailgun stores late)", check_positive
        ),
    )
    overlap_minutes: int = field(
        default=60, metadata=doc("each poll re-reads this much before its cursor", check_positive)
    )
    public_domains: tuple[str, ...] = field(
        default=(), metadata=doc("more public mail providers, never used for a domain match")
    )
    timeout_seconds: float = field(
        default=30.0, metadata=doc("connect/read timeout of one request", check_positive)
    )
    max_wait_seconds: float = field(
        default=300.0,
        metadata=doc("most time one poll spends waiting on rate limits and retries", check_positive),
    )
    events_api: str = field(
        default="logs",
        metadata=doc(
            "logs | events: the Logs API, or the deprecated Events API", check_choice("logs", "events")
        ),
    )
    customer_id_variable: str = field(
        default="customer_id",
        metadata=doc("the user-variables key that carries the portal's customer ID (an exact match)"),
    )


@dataclass(frozen=True)
class DigestSettings:
    recipients: tuple[str, ...] = field(
        default=(), metadata=doc("who gets the digest", check_emails, required=True)
    )
    sender: str = field(
        default="", metadata=doc("From: header, e.g. 'Monitor <monitor@example.com>'", check_sender, True)
    )
    transport: str = field(
        default="smtp", metadata=doc("smtp | mailgun | file", check_choice("smtp", "mailgun", "file"))
    )
    out_dir: Path = field(
        default=Path("reports/out"), metadata=doc("where --out defaults and the file transport write")
    )
    skip_empty: bool = field(default=False, metadata=doc("send nothing on a day without signals"))
    max_customers: int = field(
        default=200, metadata=doc("customers shown in HTML/text (JSON keeps all)", check_positive)
    )


@dataclass(frozen=True)
class LinksSettings:
    customer: str = field(
        default="https://customers.gitlab.com/admin/customer/{customer_id}",
        metadata=doc("the customer's admin page; {customer_id}", check_template("customer_id")),
    )
    sentry_user_search: str = field(
        default="",
        metadata=doc(
            "Sentry search of one customer's errors; {customer_id} (default: built from [sentry])",
            check_template("customer_id"),
        ),
    )
    mailgun_logs: str = field(
        default="https://app.mailgun.com/app/sending/domains/{domain}/logs?search={email}",
        metadata=doc("Mailgun logs of one recipient; {domain}, {email}", check_template("domain", "email")),
    )


@dataclass(frozen=True)
class SmtpSettings:
    host: str = field(default="localhost", metadata=doc("SMTP server"))
    port: int = field(default=25, metadata=doc("25, 587 (starttls) or 465 (tls)", check_port))
    security: str = field(
        default="none", metadata=doc("none | starttls | tls", check_choice("none", "starttls", "tls"))
    )
    username: str = field(default="", metadata=doc("login name; the password comes from SMTP_PASSWORD"))
    timeout_seconds: float = field(default=30.0, metadata=doc("connect/command timeout", check_positive))


@dataclass(frozen=True)
class JobSettings:
    schedule: str = field(
        default="",
        metadata=doc("5-field cron; weekdays as names or 0-7 with 0 and 7 = Sunday", check_crontab, True),
    )
    healthcheck_url: str = field(
        default="",
        metadata=doc(
            "optional dead-man's switch (healthchecks.io style) pinged on start/success/fail",
            check_optional_url,
        ),
    )
    misfire_grace_seconds: int = field(
        default=3600, metadata=doc("how late a run may still start", check_positive)
    )


@dataclass(frozen=True)
class RuleSettings:
    pattern: str = field(
        default="", metadata=doc("regular expression, case-insensitive", check_regex, required=True)
    )
    category: str = field(
        default="",
        metadata=doc(
            "address_or_card | expired_subscription | other_purchase_error | not_purchase",
            check_choice("address_or_card", "expired_subscription", "other_purchase_error", "not_purchase"),
            required=True,
        ),
    )
    fields: tuple[str, ...] = field(
        default=("title", "message", "culprit", "exception_type", "transaction"),
        metadata=doc("which texts the pattern is matched against", check_rule_fields),
    )
    action: str = field(default="", metadata=doc("the next step shown to support (default: the category's)"))
    name: str = field(default="", metadata=doc("a label for the rule in logs and lookups"))


@dataclass(frozen=True)
class ClassificationSettings:
    rules: tuple[RuleSettings, ...] = field(
        default=(), metadata=doc("operator rules, tried in order before the built-in ones")
    )


DEFAULT_SCHEDULES = {
    "poll-sentry": "*/10 * * * *",
    "poll-mailgun": "*/15 * * * *",
    "reconcile-mailgun": "7 * * * *",
    "digest": "0 8 * * mon-fri",
}


@dataclass(frozen=True)
class Settings:
    monitor: MonitorSettings = field(default_factory=MonitorSettings, metadata=doc("general"))
    sentry: SentrySettings | None = field(default=None, metadata=doc("Sentry source (leave out to disable)"))
    mailgun: MailgunSettings | None = field(
        default=None, metadata=doc("Mailgun source (leave out to disable)")
    )
    digest: DigestSettings = field(default_factory=DigestSettings, metadata=doc("the daily digest"))
    links: LinksSettings = field(
        default_factory=LinksSettings, metadata=doc("URL templates for evidence links")
    )
    smtp: SmtpSettings = field(default_factory=SmtpSettings, metadata=doc("SMTP transport"))
    jobs: dict[str, JobSettings] = field(
        default_factory=dict,
        metadata=doc("schedules of poll-sentry, poll-mailgun, reconcile-mailgun, digest"),
    )
    classification: ClassificationSettings = field(
        default_factory=ClassificationSettings, metadata=doc("extra Sentry classification rules")
    )
    config_path: Path | None = None  # where it was loaded from; not a TOML key

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.monitor.timezone)

    def schedule_of(self, job: str) -> str:
        configured = self.jobs.get(job)
        return configured.schedule if configured else DEFAULT_SCHEDULES[job]

    def sentry_user_search_url(self, customer_id: str) -> str:
        from monitor.core.urlparts import quote_part

        if self.links.sentry_user_search:
            return self.links.sentry_user_search.format(customer_id=quote_part(customer_id))
        if self.sentry is None:
            return ""
        query = quote_part(f"user.id:{customer_id}")
        return f"{self.sentry.base_url}/organizations/{self.sentry.organization}/issues/?query={query}"

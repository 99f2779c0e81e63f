"""Versioned schema (sqlite-utils `Migrations`). Add a step; never edit an applied one.

Timestamps are fixed-width UTC text (`timeutil.to_db`), so comparisons in SQL are time comparisons."""

from __future__ import annotations

from sqlite_utils import Database, Migrations

migrations = Migrations("monitor")


@migrations()
def m001_initial(db: Database) -> None:
    db.execute(
        """CREATE TABLE customers (
            id TEXT PRIMARY KEY,
            email TEXT,             -- as given, for display
            email_norm TEXT,        -- trimmed, lower-case, for matching
            domain TEXT,            -- of email_norm
            first_name TEXT,
            last_name TEXT,
            company TEXT,
            origin TEXT NOT NULL,   -- 'import', or 'seen' (only known from a signal)
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute("CREATE INDEX customers_email_norm ON customers(email_norm)")
    db.execute("CREATE INDEX customers_domain ON customers(domain)")
    db.execute(
        """CREATE TABLE signals (
            id INTEGER PRIMARY KEY,
            source TEXT NOT NULL,         -- 'sentry' | 'mailgun'
            key TEXT NOT NULL,            -- unique per source record: a re-poll never duplicates
            category TEXT NOT NULL,
            occurred_at TEXT NOT NULL,
            stored_at TEXT NOT NULL,
            title TEXT NOT NULL,
            grp TEXT NOT NULL,            -- what the digest counts together (issue, address+category)
            url TEXT NOT NULL DEFAULT '',
            customer_ref TEXT,            -- Sentry user.id
            email TEXT,
            email_norm TEXT,
            domain TEXT,
            name TEXT,
            action TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '{}',
            UNIQUE (source, key)
        )"""
    )
    for column in ("occurred_at", "stored_at", "customer_ref", "email_norm", "domain"):
        db.execute(f"CREATE INDEX signals_{column} ON signals({column})")
    db.execute(
        """CREATE TABLE links (
            signal_id INTEGER PRIMARY KEY REFERENCES signals(id) ON DELETE CASCADE,
            customer_id TEXT NOT NULL,
            match TEXT NOT NULL,          -- 'customer_id' | 'email' | 'domain'
            confidence REAL NOT NULL
        )"""
    )
    db.execute("CREATE INDEX links_customer_id ON links(customer_id)")
    db.execute(
        """CREATE TABLE cursors (
            name TEXT PRIMARY KEY,        -- e.g. 'sentry', 'mailgun-events'
            value TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE sentry_issues (
            issue_id TEXT PRIMARY KEY,
            last_seen TEXT,               -- the issue's lastSeen when its events were last read in full
            title TEXT,
            category TEXT,
            updated_at TEXT NOT NULL
        )"""
    )
    db.execute(
        """CREATE TABLE suppressions (
            list TEXT NOT NULL,           -- 'bounces' | 'complaints' | 'unsubscribes'
            address_norm TEXT NOT NULL,
            address TEXT NOT NULL,
            created_at TEXT NOT NULL,
            first_seen_at TEXT NOT NULL,
            last_seen_at TEXT NOT NULL,
            removed_at TEXT,              -- gone from the list: the address can receive mail again
            detail TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (list, address_norm)
        )"""
    )
    db.execute(
        """CREATE TABLE suppression_removals (
            id INTEGER PRIMARY KEY,
            list TEXT NOT NULL,
            address TEXT NOT NULL,
            removed_at TEXT NOT NULL,
            removed_by TEXT NOT NULL      -- 'monitor suppressions remove' run by this user
        )"""
    )
    db.execute(
        """CREATE TABLE job_runs (
            id INTEGER PRIMARY KEY,
            job TEXT NOT NULL,
            started_at TEXT NOT NULL,
            finished_at TEXT,
            window_start TEXT,
            window_end TEXT,
            outcome TEXT NOT NULL,        -- 'running' | 'ok' | 'failed'
            counts TEXT NOT NULL DEFAULT '{}',
            duration_s REAL,
            error TEXT
        )"""
    )
    db.execute("CREATE INDEX job_runs_job_finished ON job_runs(job, finished_at)")
    db.execute(
        """CREATE TABLE digest_sends (
            day TEXT NOT NULL,            -- YYYY-MM-DD in the configured time zone
            recipient TEXT NOT NULL,      -- lower-case address
            message_id TEXT NOT NULL,
            status TEXT NOT NULL,         -- 'sending' (claimed) | 'sent'
            claimed_at TEXT NOT NULL,
            claimed_by TEXT NOT NULL,     -- host:pid of the claiming process
            sent_at TEXT,
            transport TEXT NOT NULL,
            PRIMARY KEY (day, recipient)
        )"""
    )


@migrations()
def m002_sentry_issue_event_count(db: Database) -> None:
    # The issue's lifetime event count when its events were last read: a late event (one
    # older than the issue's lastSeen) changes the count but not lastSeen.
    db.execute("ALTER TABLE sentry_issues ADD COLUMN event_count INTEGER")


@migrations()
def m003_sentry_projects(db: Database) -> None:
    # The numeric ID each configured project slug resolved to (`project=` takes only IDs),
    # so the slug is asked about once, not before every poll.
    db.execute(
        """CREATE TABLE sentry_projects (
            ref TEXT PRIMARY KEY,         -- base_url/organization/slug as configured
            project_id TEXT NOT NULL,
            resolved_at TEXT NOT NULL
        )"""
    )


@migrations()
def m004_acknowledgements(db: Database) -> None:
    # Follow-up state: support acknowledged a customer until a time. `categories` are the
    # reported categories the customer had then (a new one reopens them); a withdrawal is a
    # time, not a delete, so past days regenerate as they were.
    db.execute(
        """CREATE TABLE acknowledgements (
            id INTEGER PRIMARY KEY,
            customer_id TEXT NOT NULL,
            at TEXT NOT NULL,             -- UTC
            until TEXT NOT NULL,          -- UTC
            note TEXT NOT NULL DEFAULT '',
            by TEXT NOT NULL DEFAULT '',
            categories TEXT NOT NULL,     -- JSON list
            withdrawn_at TEXT             -- UTC, `monitor unack`
        )"""
    )
    db.execute("CREATE INDEX acknowledgements_customer ON acknowledgements(customer_id, at)")


@migrations()
def m005_signal_indexes_for_unlinked_only(db: Database) -> None:
    # A signal that carries a customer ID (a Sentry user.id) is linked by it as soon as it is
    # stored, so the address and domain indexes serve only signals without one: linking a
    # learned address, `monitor lookup`'s unlinked signals, the digest's bounce check. Partial
    # indexes skip those rows, and `customer_ref` itself is looked up by nothing but the daily
    # retention purge. Each index costs a random B-tree insert per signal: at 100,000 Sentry
    # events the three cost more than every other SQL statement of the poll together.
    db.execute("DROP INDEX signals_customer_ref")
    for column in ("email_norm", "domain"):
        db.execute(f"DROP INDEX signals_{column}")
        db.execute(f"CREATE INDEX signals_{column} ON signals({column}) WHERE customer_ref IS NULL")

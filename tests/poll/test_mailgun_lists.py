"""`reconcile-mailgun` against the simulator: full snapshots of the suppression lists, news as
signals, and entries that disappeared recorded as removed, but only from a complete snapshot."""

from __future__ import annotations

import json
import logging
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from monitor.poll.mailgun import reconcile_job
from monitor.runner.jobs import JobResult, run_job
from monitor.simulators.mailgun import MailgunScenario, MailgunServer, malformed_json
from tests.poll.mailgun_helpers import (
    DAY,
    DOMAIN,
    NOW,
    app_for,
    clock_fixture,  # noqa: F401  (fixtures)
    config_fixture,  # noqa: F401
    fast_client,
    mailgun_fixture,  # noqa: F401
    scenario_fixture,  # noqa: F401
    stored,
    suppressions,
)

BOUNCES = f"/v3/{DOMAIN}/bounces"


def reconcile(config: Path, now: datetime = NOW) -> JobResult:
    app = app_for(config)
    client = fast_client(app)
    return run_job(app, "reconcile-mailgun", now, lambda a, n: reconcile_job(a, n, client=client))


def test_each_list_entry_becomes_a_signal_dated_by_its_created_at(config: Path) -> None:
    result = reconcile(config)
    assert result.ok, result.error
    signals = stored(config.parent / "monitor.db")
    assert set(signals) == {
        f"bounce:jane@acme.example:{DAY}",
        f"bounce:bob@globex.example:{DAY}",
        f"complaint:carl@acme.example:{DAY}",
        f"unsubscribe:stranger@gmail.com:{DAY}",
    }
    bob = signals[f"bounce:bob@globex.example:{DAY}"]
    assert bob["title"] == "550 5.1.1 No such user"
    assert bob["occurred_at"].startswith(f"{DAY}T10:00:01")
    assert signals[f"unsubscribe:stranger@gmail.com:{DAY}"]["title"] == "Unsubscribed (all mail)"
    assert json.loads(bob["detail"])["backfill"] is True  # the first snapshot brings history
    assert result.counts["added"] == 4


def test_a_second_snapshot_with_no_change_stores_nothing(config: Path) -> None:
    reconcile(config)
    result = reconcile(config, NOW + timedelta(hours=1))
    assert (result.counts["added"], result.counts["new"], result.counts["removed"]) == (0, 0, 0)


def test_entries_gone_from_a_list_are_recorded_as_removed(
    config: Path, scenario: MailgunScenario, caplog: pytest.LogCaptureFixture
) -> None:
    reconcile(config)
    scenario.remove("bounces", "jane@acme.example")
    later = NOW + timedelta(hours=1)
    with caplog.at_level(logging.INFO):
        result = reconcile(config, later)
    assert result.counts["removed"] == 1
    rows = suppressions(config.parent / "monitor.db")
    assert rows[("bounces", "jane@acme.example")]["removed_at"] is not None
    assert rows[("bounces", "bob@globex.example")]["removed_at"] is None
    assert "jane@acme.example is no longer on the bounces list; it can receive mail again" in caplog.text


def test_a_failed_snapshot_marks_nothing_removed_and_the_other_lists_still_reconcile(
    config: Path, mailgun: MailgunServer, scenario: MailgunScenario
) -> None:
    reconcile(config)
    scenario.remove("bounces", "jane@acme.example")
    scenario.add_complaint("dave@globex.example", created_at=NOW)
    mailgun.inject(malformed_json(path_contains=BOUNCES))
    result = reconcile(config, NOW + timedelta(hours=1))
    assert not result.ok
    assert "malformed JSON" in (result.error or "")
    assert suppressions(config.parent / "monitor.db")[("bounces", "jane@acme.example")]["removed_at"] is None
    assert f"complaint:dave@globex.example:{DAY}" in stored(config.parent / "monitor.db")


def test_a_repeating_next_on_a_list_marks_nothing_removed(config: Path, scenario: MailgunScenario) -> None:
    for n in range(1000):
        scenario.add_bounce(f"user{n:04d}@example.org", created_at=NOW)
    reconcile(config)
    scenario.remove("bounces", "jane@acme.example")
    scenario.repeat_next = True
    result = reconcile(config, NOW + timedelta(hours=1))
    assert not result.ok
    assert "repeats a page already read" in (result.error or "")
    assert suppressions(config.parent / "monitor.db")[("bounces", "jane@acme.example")]["removed_at"] is None


def test_large_lists_are_read_1000_at_a_time_to_a_short_page(
    config: Path, mailgun: MailgunServer, scenario: MailgunScenario
) -> None:
    for n in range(2500):
        scenario.add_bounce(f"user{n:04d}@example.org", created_at=NOW)
    result = reconcile(config)
    requests = [r for r in mailgun.requests if r.path == BOUNCES]
    assert len(requests) == 3  # 1000, 1000, then 502: short, so the list is complete
    assert "limit=1000" in requests[0].raw_path
    assert "page=next" in requests[1].raw_path
    assert result.counts["bounces"] == 2502


def test_a_list_of_exactly_full_pages_ends_on_the_empty_page(
    config: Path, mailgun: MailgunServer, scenario: MailgunScenario
) -> None:
    for n in range(998):
        scenario.add_bounce(f"user{n:04d}@example.org", created_at=NOW)
    reconcile(config)
    assert len([r for r in mailgun.requests if r.path == BOUNCES]) == 2


def test_an_entry_added_again_becomes_a_new_signal(config: Path, scenario: MailgunScenario) -> None:
    reconcile(config)
    tomorrow = NOW + timedelta(days=1)
    scenario.add_bounce("jane@acme.example", created_at=tomorrow)  # Mailgun resets created_at
    result = reconcile(config, tomorrow)
    assert result.counts["readded"] == 1
    signals = stored(config.parent / "monitor.db", "s.email_norm = 'jane@acme.example'")
    assert set(signals) == {f"bounce:jane@acme.example:{DAY}", f"bounce:jane@acme.example:{tomorrow.date()}"}
    assert "backfill" not in json.loads(signals[f"bounce:jane@acme.example:{tomorrow.date()}"]["detail"])


def test_an_entry_back_after_a_removal_is_on_record_again(config: Path, scenario: MailgunScenario) -> None:
    reconcile(config)
    scenario.remove("complaints", "carl@acme.example")
    reconcile(config, NOW + timedelta(hours=1))
    scenario.add_complaint("carl@acme.example", created_at=NOW + timedelta(hours=2))
    result = reconcile(config, NOW + timedelta(hours=3))
    assert result.counts["readded"] == 1
    assert (
        suppressions(config.parent / "monitor.db")[("complaints", "carl@acme.example")]["removed_at"] is None
    )


def test_an_unreadable_entry_is_skipped_counted_and_not_taken_for_removed(
    config: Path, scenario: MailgunScenario
) -> None:
    reconcile(config)
    record = scenario._list("bounces").get("bob@globex.example")  # a record Mailgun garbled
    assert record is not None
    record.created_at = "sometime last week"
    result = reconcile(config, NOW + timedelta(hours=1))
    assert result.ok
    assert (result.counts["skipped"], result.counts["removed"]) == (1, 0)
    assert suppressions(config.parent / "monitor.db")[("bounces", "bob@globex.example")]["removed_at"] is None


def test_list_entries_link_like_events(config: Path) -> None:
    reconcile(config)
    signals = stored(config.parent / "monitor.db")
    assert signals[f"bounce:jane@acme.example:{DAY}"]["match"] == "email"
    assert signals[f"complaint:carl@acme.example:{DAY}"]["match"] == "domain"
    assert signals[f"unsubscribe:stranger@gmail.com:{DAY}"]["customer_id"] is None
    assert datetime.fromisoformat(signals[f"bounce:jane@acme.example:{DAY}"]["occurred_at"]).tzinfo == UTC


def test_a_first_snapshot_stopped_part_way_keeps_its_pages_and_the_next_completes_it(
    config: Path, scenario: MailgunScenario
) -> None:
    for n in range(2500):
        scenario.add_bounce(f"user{n:04d}@example.org", created_at=NOW)
    app = app_for(config)
    stop = threading.Event()
    client = fast_client(app, stop=stop)
    read = client.get_json

    def read_then_stop(url: str, params: Any = None) -> Any:
        page = read(url, params)
        if url.endswith(BOUNCES):  # a stop (SIGTERM) arrives while the first page is read
            stop.set()
        return page

    client.get_json = read_then_stop  # type: ignore[method-assign]
    first = run_job(app, "reconcile-mailgun", NOW, lambda a, n: reconcile_job(a, n, client=client))

    assert first.stopped
    db = config.parent / "monitor.db"
    bounces = [row for (name, _), row in suppressions(db).items() if name == "bounces"]
    # The page read is stored with its signals, although a batch holds up to 2,000 entries.
    assert len(bounces) == 1000 and all(row["removed_at"] is None for row in bounces)
    assert len(stored(db, "s.category = 'bounce'")) == 1000

    second = reconcile(config, NOW + timedelta(hours=1))

    assert second.ok, second.error
    assert (second.counts["bounces"], second.counts["added"], second.counts["removed"]) == (2502, 1504, 0)
    assert len(stored(db, "s.category = 'bounce'")) == 2502

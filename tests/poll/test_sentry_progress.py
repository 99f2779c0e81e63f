"""The backfill's progress bar, for a person at a terminal: issues done of all, and the events
stored so far, as the poll's thread writes them (in order, whatever the readers do)."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest

from monitor.poll import sentry
from monitor.poll.sentry_stats import PollStats
from monitor.sources.sentry_parse import IssueRef


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_the_bar_counts_issues_done_and_events_stored(monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sentry.sys, "stdout", terminal)
    stats = PollStats(window=(datetime(2026, 12, 1, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)))
    bar = sentry._terminal_progress(first_poll=True)
    assert bar is not None

    with bar([IssueRef(id="1"), IssueRef(id="2")], stats) as shown:
        for issue in shown:
            stats.new_events += 1000 if issue.id == "1" else 234

    screen = terminal.getvalue()
    assert "Backfilling Sentry issues" in screen and "2/2" in screen
    assert "1,234 events stored" in screen


def test_no_bar_off_a_terminal_or_after_the_first_poll() -> None:
    assert sentry._terminal_progress(first_poll=False) is None

"""Adversarial instants: the moments when a "today" or "yesterday" computed the wrong way (the
UTC date, a fixed 24-hour day, the machine's zone) gives another answer than the configured
zone's. Time-dependent tests run at each of them, not at whatever hour CI happens to run."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

INSTANTS = {
    "23:30 UTC in winter": datetime(2026, 12, 3, 23, 30, tzinfo=UTC),
    "22:30 UTC in summer": datetime(2026, 7, 15, 22, 30, tzinfo=UTC),
    "00:10 in Amsterdam": datetime(2026, 12, 3, 23, 10, tzinfo=UTC),
    "00:10 in New York": datetime(2026, 12, 4, 5, 10, tzinfo=UTC),
    "01:05 UTC, before the 08:00 digest": datetime(2026, 12, 4, 1, 5, tzinfo=UTC),
    "23:59:30 on 31 December": datetime(2026, 12, 31, 23, 59, 30, tzinfo=UTC),
    "Amsterdam's spring-forward night": datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
    "00:10 after Amsterdam's 23-hour day": datetime(2026, 3, 29, 22, 10, tzinfo=UTC),
    "Amsterdam's repeated autumn hour": datetime(2026, 10, 25, 0, 30, tzinfo=UTC),
    "00:10 after Amsterdam's 25-hour day": datetime(2026, 10, 25, 23, 10, tzinfo=UTC),
    "New York's spring-forward night": datetime(2026, 3, 8, 7, 30, tzinfo=UTC),
    "New York's repeated autumn hour": datetime(2026, 11, 1, 5, 30, tzinfo=UTC),
    "an ordinary midday": datetime(2026, 12, 4, 12, 0, tzinfo=UTC),
}

at_every_instant = pytest.mark.parametrize("instant", list(INSTANTS.values()), ids=list(INSTANTS))

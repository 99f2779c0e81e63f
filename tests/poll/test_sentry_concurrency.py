"""Several issues read at once store exactly what one-after-another stores, and the digest is
the same. (The fault and crash suites run with the default of four readers.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine

from monitor.core.timeutil import today
from monitor.digest.job import build_day
from monitor.digest.render import render
from monitor.runner.jobs import run_job
from monitor.simulators.sentry import SentryScenario, start_sentry
from tests.poll.sentry_helpers import (
    NOW,
    ORG,
    PROJECT,
    PROJECT_ID,
    TOKEN,
    app_for,
    event_id,
    import_customers,
    seed,
    sentry_config,
)


def scenario() -> SentryScenario:
    built = SentryScenario()
    seed(built)
    for issue in range(300, 340):  # forty more issues, a few events each
        title = f"Zuora::Error: Postal code {issue} is invalid"
        built.add_issue(
            str(issue), title, "SubscriptionsController#create", "Zuora::Error", "Postal code is invalid"
        )
        for n in range(3):
            built.add_event(
                str(issue),
                event_id(issue * 10 + n),
                NOW - timedelta(minutes=issue - 290 + n),
                user={"id": "48213"},
            )
    return built


def poll_with(
    workers: int, folder: Path, write_config: Any, monkeypatch: pytest.MonkeyPatch, **server: Any
) -> tuple[bytes, list[int]]:
    monkeypatch.setenv("SENTRY_AUTH_TOKEN", TOKEN)
    with start_sentry(
        scenario(), token=TOKEN, organization=ORG, project=PROJECT, project_id=PROJECT_ID, **server
    ) as sentry:
        config = write_config(sentry_config(sentry.base_url, extra=f"max_concurrency = {workers}\n"))
        import_customers(config.parent / "monitor.db")
        app = app_for(config)
        with time_machine.travel(NOW, tick=True):
            result = run_job(app, "poll-sentry", NOW)
            assert result.ok, result.summary
            later = NOW + timedelta(days=1)
            digest = render(
                build_day(app, today(NOW, app.settings().zone), later), app.settings(), "json", later
            )
        statuses = [request.status for request in sentry.requests]
        digest = digest.replace(sentry.base_url.encode(), b"https://sentry.example")  # each run's own port
    (config.parent / "monitor.db").rename(folder / f"monitor-{workers}.db")
    return digest, statuses


def test_four_readers_store_and_report_exactly_what_one_reader_does(
    tmp_path: Path, write_config: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    one, _ = poll_with(1, tmp_path, write_config, monkeypatch)
    four, _ = poll_with(4, tmp_path, write_config, monkeypatch)
    assert four == one

"""`monitor digest` without --date reports yesterday in the configured zone, at any hour."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine
from click.testing import CliRunner

from monitor.cli import main
from tests.instants import at_every_instant


@at_every_instant
@pytest.mark.parametrize("zone", ["Europe/Amsterdam", "America/New_York", "UTC"])
def test_the_default_day_is_yesterday_in_the_configured_zone(
    instant: datetime, zone: str, write_config: Callable[..., Path]
) -> None:
    config = write_config(
        base=f'[monitor]\ntimezone = "{zone}"\ndatabase = "m.db"\n'
        '[digest]\nrecipients = ["a@example.com"]\nsender = "m@example.com"\ntransport = "file"\n'
    )
    with time_machine.travel(instant, tick=False):
        result = CliRunner().invoke(main, ["--config", str(config), "digest", "--format", "json"])

    assert result.exit_code == 0, result.output
    digest = json.loads(result.output)
    local = instant.astimezone(ZoneInfo(zone))
    assert digest["date"] == (local.date() - timedelta(days=1)).isoformat()
    start, end = (datetime.fromisoformat(digest["window"][k]) for k in ("start", "end"))
    assert start.astimezone(ZoneInfo(zone)).time().hour == 0 and end <= instant

"""Schedules read as crontab reads them: 0 and 7 are Sunday, and DST days fire once."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from monitor.core.cron import parse_crontab, weekdays

UTC = ZoneInfo("UTC")
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
SATURDAY = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # fire times below start from here


def _fire_days(expression: str, count: int = 7, zone: ZoneInfo = UTC) -> list[str]:
    """The weekday names of the next `count` fire times after SATURDAY noon."""
    trigger = parse_crontab(expression, zone)
    now, previous, days = SATURDAY, None, []
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        days.append(fire.strftime("%a"))
        previous = now = fire
    return days


def test_weekday_1_fires_on_monday_not_tuesday() -> None:
    trigger = parse_crontab("0 8 * * 1", UTC)

    fire = trigger.get_next_fire_time(None, SATURDAY)

    assert fire == datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
    assert fire.strftime("%A") == "Monday"


@pytest.mark.parametrize("expression", ["0 8 * * 0", "0 8 * * 7", "0 8 * * sun", "0 8 * * SUN"])
def test_zero_seven_and_the_name_all_mean_sunday(expression: str) -> None:
    assert _fire_days(expression, count=2) == ["Sun", "Sun"]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("0 8 * * mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("0 8 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri", "Mon", "Tue"]),
        ("0 8 * * 5-7", ["Sun", "Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 8 * * fri-sun", ["Sun", "Fri", "Sat", "Sun", "Fri", "Sat", "Sun"]),
        ("0 8 * * */2", ["Sun", "Tue", "Thu", "Sat", "Sun", "Tue", "Thu"]),
        ("0 8 * * 1-5/2", ["Mon", "Wed", "Fri", "Mon", "Wed", "Fri", "Mon"]),
        ("0 8 * * mon,wed", ["Mon", "Wed", "Mon", "Wed", "Mon", "Wed", "Mon"]),
    ],
)
def test_ranges_names_and_steps_select_the_crontab_weekdays(expression: str, expected: list[str]) -> None:
    assert _fire_days(expression) == expected


def test_weekday_fields_parse_to_crontab_numbers() -> None:
    assert weekdays("*") is None
    assert weekdays("0-7") == [0, 1, 2, 3, 4, 5, 6]
    assert weekdays("7") == [0]
    assert weekdays("sat-sun") == [0, 6]


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("0 8 * *", "expected 5 fields"),
        ("0 8 * * * *", "expected 5 fields"),
        ("0 8 * * funday", "does not parse"),
        ("0 8 * * 8", "does not parse"),
        ("0 8 * * fri-mon", "runs backwards"),
        ("0 8 * * */0", "at least 1"),
        ("0 25 * * *", "maximum value"),
        ("0 8 13 * fri", "not both"),
    ],
)
def test_a_bad_expression_says_why(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        parse_crontab(expression, UTC)


def _fires_on(expression: str, day: date, zone: ZoneInfo) -> list[datetime]:
    """Every fire time whose local date is `day`."""
    trigger = parse_crontab(expression, zone)
    now = datetime.combine(day, datetime.min.time(), tzinfo=zone) - timedelta(hours=2)
    previous, fires = None, []
    while True:
        fire = trigger.get_next_fire_time(previous, now)
        local = fire.astimezone(zone)
        if local.date() > day:
            return fires
        if local.date() == day:
            fires.append(fire)
        previous = now = fire


def test_a_daily_0230_job_fires_once_on_the_spring_forward_day() -> None:
    # 2026-03-29 in Amsterdam: 02:00 becomes 03:00, so 02:30 does not exist; cron runs it at 03:30.
    (fire,) = _fires_on("30 2 * * *", date(2026, 3, 29), AMSTERDAM)

    assert fire.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    assert fire.astimezone(AMSTERDAM).strftime("%H:%M") == "03:30"


def test_a_daily_0230_job_fires_once_on_the_fall_back_day() -> None:
    # 2026-10-25 in Amsterdam: 03:00 becomes 02:00 again, so 02:30 happens twice; run the first.
    (fire,) = _fires_on("30 2 * * *", date(2026, 10, 25), AMSTERDAM)

    assert fire.astimezone(UTC) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_an_interval_job_keeps_running_through_the_repeated_hour() -> None:
    fires = _fires_on("*/30 * * * *", date(2026, 10, 25), AMSTERDAM)

    assert len(fires) == 50  # a 25-hour day, every half hour
    instants = [fire.astimezone(UTC) for fire in fires]  # same-zone subtraction ignores DST
    gaps = {b - a for a, b in pairwise(instants)}
    assert gaps == {timedelta(minutes=30)}


def test_the_day_after_a_dst_change_fires_at_the_usual_local_time() -> None:
    (fire,) = _fires_on("30 2 * * *", date(2026, 3, 30), AMSTERDAM)

    assert fire.astimezone(AMSTERDAM).strftime("%H:%M %z") == "02:30 +0200"

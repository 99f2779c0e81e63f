"""Follow-up state: a customer is new, then ongoing over the days; `monitor ack` moves them to
the digest's collapsed last section until a new kind of problem reopens them; what was
acknowledged later never changes a past day."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import jsonschema
import pytest

from tests.digest.test_digest_build import DIGEST_SCHEMA
from tests.followup_helpers import (
    DAY1,
    DAY2,
    DAY3,
    ack_rows,
    at,
    config_fixture,
    digest,
    jane,
    midnight_after,
    run,
    signal,
)

__all__ = ["config_fixture"]  # the `config` fixture


def test_a_customer_is_new_on_the_first_day_and_ongoing_since_it_after(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))

    first, second = jane(config, DAY1, at(DAY3, 9)), jane(config, DAY2, at(DAY3, 9))

    assert (first["status"], first["since"], first["ack"]) == ("new", "2026-11-30", None)
    assert (second["status"], second["since"]) == ("ongoing", "2026-11-30")
    text = digest(config, DAY2, at(DAY3, 9), "text")
    assert "ongoing since Mon 30 Nov" in text


def test_an_acknowledged_customer_moves_to_the_collapsed_last_section(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))
    code, output = run(config, at(DAY2, 8), "ack", "48213", "--note", "<b>called</b> her", "--by", "alice")
    assert code == 0, output

    customer = jane(config, DAY2, at(DAY3, 9))
    assert customer["status"] == "acknowledged"
    assert customer["ack"]["by"] == "alice" and customer["ack"]["reopened"] is False
    html = digest(config, DAY2, at(DAY3, 9), "html")
    assert "<details" in html and "acknowledged by alice" in html
    assert "&lt;b&gt;called&lt;/b&gt;" in html and "<b>called</b>" not in html
    eml = digest(config, DAY2, at(DAY3, 9), "eml")
    assert "Subject: CustomersDot monitor: no customers needing action on 2026-12-01" in eml


def test_a_new_kind_of_problem_reopens_an_acknowledged_customer(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    assert run(config, at(DAY1, 12), "ack", "48213", "--days", "5")[0] == 0
    signal(config, "b3", at(DAY3, 10), "bounce")

    customer = jane(config, DAY3, at(DAY3 + timedelta(days=1), 9))

    assert customer["status"] == "ongoing" and customer["ack"]["reopened"] is True
    _code, output = run(config, at(DAY3, 12), "ack", "--list", "--json")
    assert [a["state"] for a in json.loads(output)["acknowledgements"]] == ["reopened"]


def test_a_past_day_regenerates_byte_identical_after_a_later_acknowledgement(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    signal(config, "a2", at(DAY2, 10))
    formats = ("json", "html", "text")
    before = {fmt: digest(config, DAY2, at(DAY2, 23, 59), fmt) for fmt in formats}

    # Made at the very instant DAY2 ends (local midnight): it counts for DAY3, not DAY2.
    assert run(config, midnight_after(DAY2), "ack", "jane@acme.example", "--note", "wrote")[0] == 0
    assert run(config, at(DAY3, 10), "unack", "48213")[0] == 0

    assert {fmt: digest(config, DAY2, at(DAY3, 11), fmt) for fmt in formats} == before
    assert jane(config, DAY2, at(DAY3, 11))["status"] == "ongoing"


def test_an_acknowledgement_made_a_minute_before_midnight_counts_for_that_whole_day(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))

    assert run(config, at(DAY1, 23, 59), "ack", "48213")[0] == 0

    assert jane(config, DAY1, at(DAY2, 9))["status"] == "acknowledged"


def test_an_acknowledgement_for_one_day_covers_the_day_it_was_made_and_not_the_next(config: Path) -> None:
    signal(config, "a1", at(DAY1, 8))
    signal(config, "a2", at(DAY2, 8))  # before the acknowledgement's `until` (DAY2 09:00)
    assert run(config, at(DAY1, 9), "ack", "48213", "--days", "1")[0] == 0

    first, second = jane(config, DAY1, at(DAY3, 9)), jane(config, DAY2, at(DAY3, 9))

    assert first["status"] == "acknowledged"
    assert (second["status"], second["since"], second["ack"]) == ("ongoing", "2026-11-30", None)


def test_taking_an_acknowledgement_back_changes_only_the_days_ending_after_it(config: Path) -> None:
    for key, day in (("a1", DAY1), ("a2", DAY2), ("a3", DAY3)):
        signal(config, key, at(day, 8))
    assert run(config, at(DAY1, 9), "ack", "48213")[0] == 0
    assert run(config, at(DAY2, 23, 59), "unack", "jane@acme.example")[0] == 0

    statuses = [jane(config, day, at(DAY3 + timedelta(days=1), 9))["status"] for day in (DAY1, DAY2, DAY3)]

    assert statuses == ["acknowledged", "ongoing", "ongoing"]


def test_a_reopened_customer_stays_reopened_until_acknowledged_again(config: Path) -> None:
    day4 = DAY3 + timedelta(days=1)
    signal(config, "a1", at(DAY1, 10))
    assert run(config, at(DAY1, 12), "ack", "48213", "--note", "<i>card</i>", "--by", "bob")[0] == 0
    signal(config, "b2", at(DAY2, 10), "bounce")
    signal(config, "a3", at(DAY3, 10))  # only the acknowledged kind of problem on DAY3

    third = jane(config, DAY3, at(day4, 9))
    assert (third["status"], third["ack"]["reopened"]) == ("ongoing", True)
    said = "Reopened: acknowledged by bob on Mon 30 Nov 12:00 ({}), then a new kind of problem."
    assert said.format("<i>card</i>") in digest(config, DAY3, at(day4, 9), "text")
    html = digest(config, DAY3, at(day4, 9), "html")
    assert said.format("&lt;i&gt;card&lt;/i&gt;") in html and "<i>card" not in html
    assert "ongoing since Mon 30 Nov · reopened" in html

    assert run(config, at(day4, 9), "ack", "48213", "--note", "card and mailbox")[0] == 0
    signal(config, "a4", at(day4, 10))
    fourth = jane(config, day4, at(day4 + timedelta(days=1), 9))
    assert (fourth["status"], fourth["ack"]["note"], fourth["ack"]["reopened"]) == (
        "acknowledged",
        "card and mailbox",
        False,
    )


def test_ongoing_reaches_back_exactly_fourteen_local_days_across_the_autumn_clock_change(
    config: Path,
) -> None:
    # Europe/Amsterdam leaves summer time on 25 Oct 2026: that day has 25 hours.
    day = date(2026, 11, 5)
    signal(config, "edge", at(day - timedelta(days=14), 0))  # 22 Oct 00:00 local: inside
    signal(config, "today", at(day, 10))
    assert jane(config, day, at(day, 23))["since"] == "2026-10-22"

    other = date(2026, 11, 6)  # 22 Oct is now 15 days before: outside; 25 Oct's long day inside
    signal(config, "dst", at(date(2026, 10, 25), 2, 30))
    signal(config, "other", at(other, 10))
    assert (jane(config, other, at(other, 23))["since"]) == "2026-10-25"


def test_an_acknowledged_digest_keeps_to_the_schema_and_says_no_customer_needs_action(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    assert run(config, at(DAY1, 12), "ack", "48213", "--by", "alice")[0] == 0

    jsonschema.validate(json.loads(digest(config, DAY1, at(DAY2, 9))), DIGEST_SCHEMA)
    html = digest(config, DAY1, at(DAY2, 9), "html")
    assert "Quiet day" not in html and "No customer needs action" in html
    text = digest(config, DAY1, at(DAY2, 9), "text")
    assert "ACKNOWLEDGED (1;" in text and "acknowledged by alice" in text


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["ack", "99999"], "No customer"),
        (["ack", "bob@globex.example"], "matches 2 customers"),
        (["ack", "48213", "--days", "0"], "from 1 to 90"),
        (["ack", "48213", "--days", "91"], "from 1 to 90"),
        (["ack", "48213", "--by", "eve\r\nBcc: x@y.example"], "one line"),
        (["unack", "48213"], "no acknowledgement in force"),
        (["unack", "99999"], "No customer"),
        (["ack", "  "], "Give a customer ID"),
        (["ack", "48213", "--list"], "leave out"),
        (["ack", "48213", "--json"], "--json goes with --list"),
        (["ack", "@globex.example"], "No customer"),  # a domain is not one customer
        (["ack", "Smith"], "No customer"),  # nor is a name
    ],
)
def test_bad_input_is_one_sentence_exit_2_and_writes_nothing(
    config: Path, args: list[str], says: str
) -> None:
    code, output = run(config, at(DAY2, 9), *args)

    assert code == 2 and says in output
    assert len(output.strip().splitlines()) == 1
    assert ack_rows(config) == 0

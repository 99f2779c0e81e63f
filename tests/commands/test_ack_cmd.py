"""`monitor ack`, `ack --list` and `unack` as an operator uses them, and the history
`monitor lookup` shows."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from tests.followup_helpers import DAY1, DAY2, DAY3, ack_rows, at, config_fixture, run, signal

__all__ = ["config_fixture"]  # the `config` fixture


def test_ack_says_whom_until_when_in_local_time_and_for_which_problems(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))

    code, output = run(config, at(DAY1, 12), "ack", "JANE@acme.example", "--days", "3")

    assert code == 0, output
    assert "customer 48213 (jane@acme.example) until 2026-12-03 12:00 CET" in output
    assert "for: address_or_card" in output


def test_an_ambiguous_email_names_every_candidate(config: Path) -> None:
    code, output = run(config, at(DAY1, 12), "ack", "bob@globex.example")

    assert code == 2
    assert "48214 <bob@globex.example>" in output and "48215 <bob@globex.example>" in output
    assert ack_rows(config) == 0


def test_by_defaults_to_the_user_behind_sudo(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))

    assert run(config, at(DAY1, 12), "ack", "48213", env={"SUDO_USER": "alice", "USER": "root"})[0] == 0

    _code, output = run(config, at(DAY1, 13), "ack", "--list", "--json")
    assert json.loads(output)["acknowledgements"][0]["by"] == "alice"


def test_a_line_break_in_sudo_user_is_refused_like_one_in_by(config: Path) -> None:
    code, output = run(config, at(DAY1, 12), "ack", "48213", env={"SUDO_USER": "eve\nBcc: x@y.example"})

    assert code == 2 and "one line" in output
    assert ack_rows(config) == 0


def test_the_list_shows_what_is_in_force_and_what_ended_in_the_last_14_days(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    old = DAY1 - timedelta(days=20)
    # Until 12 days ago, but taken back 20 days ago: it ended then, so it is not listed.
    assert run(config, at(old, 9), "ack", "48213", "--days", "10", "--note", "long ago")[0] == 0
    assert run(config, at(old, 10), "unack", "48213")[0] == 0
    assert run(config, at(DAY1, 11), "ack", "48213", "--days", "1", "--note", "expired")[0] == 0
    assert run(config, at(DAY2, 12), "ack", "48213", "--note", "withdrawn")[0] == 0
    assert run(config, at(DAY2, 13), "unack", "48213")[0] == 0
    assert run(config, at(DAY3, 9), "ack", "48213", "--note", "line one\nline two", "--by", "bo")[0] == 0

    _code, output = run(config, at(DAY3, 10), "ack", "--list", "--json")
    _code, text = run(config, at(DAY3, 10), "ack", "--list")

    states = [(a["note"], a["state"]) for a in json.loads(output)["acknowledgements"]]
    assert states == [("expired", "expired"), ("withdrawn", "withdrawn"), ("line one\nline two", "in force")]
    assert "long ago" not in text
    assert "in force  2026-12-02 09:00 CET by bo until 2026-12-09 09:00 CET: line one line two" in text


def test_lookup_shows_the_acknowledgement_history_in_text_and_json(config: Path) -> None:
    signal(config, "a1", at(DAY1, 10))
    assert run(config, at(DAY1, 12), "ack", "48213", "--by", "alice", "--note", "called")[0] == 0
    assert run(config, at(DAY2, 12), "unack", "48213")[0] == 0

    _code, text = run(config, at(DAY3, 9), "lookup", "48213")
    _code, output = run(config, at(DAY3, 9), "lookup", "48213", "--json")

    assert "acknowledged (withdrawn): 2026-11-30 12:00 CET by alice" in text
    assert "taken back 2026-12-01 12:00 CET: called" in text
    (history,) = json.loads(output)["customers"][0]["acknowledgements"]
    assert (history["by"], history["note"], history["state"]) == ("alice", "called", "withdrawn")
    assert history["withdrawn_at"] == "2026-12-01T11:00:00+00:00"

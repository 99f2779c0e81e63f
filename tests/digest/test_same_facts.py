"""Same facts, same digest, at the level of the stored rows: when several stored records of
one trouble or one customer tie on time, what the digest shows is chosen by the facts (time,
title, link, key), never by which poll stored a record first or by row ids."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from monitor.core.models import Customer, Signal
from monitor.digest.build import build_digest
from monitor.digest.render import render
from monitor.store.digest import digest_input
from tests.digest_helpers import DAY, NOON, NOW, add_customers, mail, new_db, save, sentry, write_settings

JANE = Customer("48213", "jane@acme.example", "Jane", "Doe", "Acme Corp")

# Two events of one Sentry issue in the same second (a customer clicking "Buy" twice), and two
# bounces of one address at the same second under two keys: ties on time that only a stable
# rule can break.
SAME_SECOND = [
    sentry("e-aaa", NOON, customer_ref="48213", email="jane@acme.example", title="Postal code is invalid"),
    sentry("e-bbb", NOON, customer_ref="48213", email="jane@acme.example", title="Card was declined"),
    mail("b-1", NOON + timedelta(hours=1), "bounce", "jane@acme.example", title="550 5.1.1 unknown user"),
    mail("b-2", NOON + timedelta(hours=1), "bounce", "jane@acme.example", title="552 mailbox full"),
]


def _digest(folder: Path, polls: list[list[Signal]]) -> bytes:
    """The JSON digest of DAY after storing `polls`, one poll a minute apart."""
    folder.mkdir()
    settings = write_settings(folder)
    db = new_db(settings)
    add_customers(db, JANE)
    for number, signals in enumerate(polls):
        save(db, *signals, now=NOW - timedelta(hours=12) + timedelta(minutes=number))
    return render(build_digest(digest_input(db, settings, DAY, NOW), settings), settings, "json", NOW)


def test_records_tied_on_time_show_the_same_evidence_whichever_poll_stored_them_first(
    tmp_path: Path,
) -> None:
    one_poll = _digest(tmp_path / "one", [SAME_SECOND])
    forwards = _digest(tmp_path / "forwards", [[signal] for signal in SAME_SECOND])
    backwards = _digest(tmp_path / "backwards", [[signal] for signal in reversed(SAME_SECOND)])

    assert forwards == one_poll
    assert backwards == one_poll
    lines = json.loads(one_poll)["customers"][0]["signals"]
    assert [line["count"] for line in lines] == [2, 2]  # both ties reach the digest

"""The signals' address and domain indexes hold only signals without a customer ID (those are
linked by it when stored): every query that looks signals up by address or domain must still
be served by them, never by a scan of a day or a month of signals."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.linking import LINK_LEARNED_BY_EMAIL
from monitor.store import open_db
from monitor.store.digest import COUNT_CATEGORIES
from monitor.store.lookup import UNLINKED_SIGNALS


def _plan(tmp_path: Path, sql: str, params: object) -> str:
    db = open_db(tmp_path / "monitor.db")
    return " | ".join(row[-1] for row in db.conn.execute(f"EXPLAIN QUERY PLAN {sql}", params))


@pytest.mark.parametrize(
    ("sql", "params", "indexes"),
    [
        (UNLINKED_SIGNALS, ["2026-01-01", "a@example.com", "example.com"], ("email_norm", "domain")),
        (COUNT_CATEGORIES, {"start": "2026-01-01", "end": "2026-01-02"}, ("email_norm",)),
        (LINK_LEARNED_BY_EMAIL, {"emails": '["a@example.com"]'}, ("email_norm",)),
    ],
    ids=["lookup-unlinked", "digest-bounce-check", "link-learned"],
)
def test_address_lookups_use_the_partial_indexes(
    tmp_path: Path, sql: str, params: object, indexes: tuple[str, ...]
) -> None:
    plan = _plan(tmp_path, sql, params)
    for column in indexes:
        assert f"signals_{column} ({column}=?)" in plan, plan


def test_a_signal_with_a_customer_id_stays_out_of_the_address_indexes(tmp_path: Path) -> None:
    db = open_db(tmp_path / "monitor.db")
    indexes = dict(db.conn.execute("SELECT name, sql FROM sqlite_master WHERE tbl_name = 'signals'"))
    assert "signals_customer_ref" not in indexes
    for column in ("email_norm", "domain"):
        assert indexes[f"signals_{column}"].endswith("WHERE customer_ref IS NULL")

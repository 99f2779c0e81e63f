"""Stored Sentry signals re-read under the current classification rules, and re-filed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlite_utils import Database

from monitor.core.classify import Classification, ErrorText, action_for
from monitor.core.timeutil import to_db
from monitor.store import write_tx
from monitor.writer.tx import encode_detail

SELECT_STORED = """
SELECT id, title, category, customer_ref, detail FROM signals
WHERE source = 'sentry' AND occurred_at >= ? ORDER BY occurred_at, id
"""
UPDATE = "UPDATE signals SET category = ?, action = ?, detail = ? WHERE id = ?"


@dataclass
class Reclassified:
    examined: int = 0
    changes: Counter[tuple[str, str]] = field(default_factory=Counter)  # (old, new) -> signals
    examples: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # a few titles each
    applied: bool = False

    @property
    def changed(self) -> int:
        return sum(self.changes.values())


def reclassify(
    db: Database,
    since: datetime,
    decide: Callable[[ErrorText], Classification],
    *,
    apply: bool,
    examples: int = 3,
) -> Reclassified:
    """Each stored Sentry signal since `since`, classified again from its stored texts (title,
    culprit, exception type, transaction). With `apply`, the changed ones take the new
    category, next step and rule in one transaction; without it nothing is written."""
    result = Reclassified(applied=apply)
    updates: list[Sequence[object]] = []
    for ident, title, category, customer, raw in db.execute(SELECT_STORED, [to_db(since)]).fetchall():
        result.examined += 1
        detail = json.loads(raw or "{}")
        # Signals stored by earlier releases carry no message or exception value.
        text = ErrorText(
            title=title or "",
            message=str(detail.get("message") or ""),
            culprit=str(detail.get("culprit") or ""),
            exception_type=str(detail.get("exception_type") or ""),
            exception_value=str(detail.get("exception_value") or ""),
            transaction=str(detail.get("transaction") or ""),
        )
        verdict = decide(text)
        if verdict.category == category and verdict.rule == detail.get("rule", ""):
            continue
        if verdict.category != category:
            change = (category, verdict.category)
            result.changes[change] += 1
            shown = result.examples.setdefault(change, [])
            if len(shown) < examples and title not in shown:
                shown.append(title)
        detail["rule"] = verdict.rule
        encoded = encode_detail(detail)
        updates.append((verdict.category, action_for(verdict, customer), encoded, ident))
    if apply and updates:
        with write_tx(db) as conn:
            conn.executemany(UPDATE, updates)
    return result

"""Follow-up state of a customer in one day's digest: new, ongoing or acknowledged. Pure.

- `new`: no reported signal in the 14 days before the day; `ongoing`: some, `since` the
  earliest of them (else `since` is the day itself).
- `acknowledged`: an acknowledgement made before the day's end covers the day, and the day
  brought no category the customer did not have when acknowledged. A new category reopens
  them: the status is new or ongoing again and `ack.reopened` is true.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date
from typing import Any

from monitor.core.timeutil import to_public
from monitor.digest.model import AckRow

STATUSES = ("new", "ongoing", "acknowledged")


def follow_up(day: date, categories: Set[str], earlier: date | None, ack: AckRow | None) -> dict[str, Any]:
    status = "ongoing" if earlier else "new"
    since = (earlier or day).isoformat()
    if ack is None:
        return {"status": status, "since": since, "ack": None}
    reopened = bool(set(categories) - ack.categories)
    return {
        "status": status if reopened else "acknowledged",
        "since": since,
        "ack": {
            "at": to_public(ack.at),
            "until": to_public(ack.until),
            "note": ack.note,
            "by": ack.by,
            "reopened": reopened,
        },
    }

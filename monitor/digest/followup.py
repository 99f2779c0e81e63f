"""Follow-up state of a customer in one day's digest: new, ongoing or acknowledged. Pure.

- `new`: no reported signal in the 14 days before the day; `ongoing`: some, `since` the
  earliest of them (else `since` is the day itself).
- `acknowledged`: an acknowledgement in force at the day's end covers the day, and nothing
  since it (nor on the day) was of a category the customer did not have when acknowledged.
  A new category reopens them, that day and the following ones until a new acknowledgement:
  the status is new or ongoing again and `ack.reopened` is true.
"""

from __future__ import annotations

from collections.abc import Set
from datetime import date
from typing import Any

from monitor.core.timeutil import to_public
from monitor.digest.model import AckRow

STATUSES = ("new", "ongoing", "acknowledged")


def follow_up(
    day: date,
    categories: Set[str],
    earlier: date | None,
    ack: AckRow | None,
    seen_since_ack: Set[str] = frozenset(),
) -> dict[str, Any]:
    """`status`, `since` and `ack` of a customer with signals of `categories` on `day`, whose
    first reported signal in the 14 days before it was on `earlier` (None: none)."""
    status = "ongoing" if earlier else "new"
    since = (earlier or day).isoformat()
    if ack is None:
        return {"status": status, "since": since, "ack": None}
    reopened = bool((set(categories) | set(seen_since_ack)) - ack.categories)
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

"""The three suppression lists (bounces, complaints, unsubscribes) and how they page.

Mailgun pages a list alphabetically on an `address` pivot, so each list keeps its keys
sorted and answers a page with `bisect`: O(page + log n) however long the list is.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field

from monitor.simulators.mailgun.wire import JSON

# The 404 and DELETE messages differ per list; the texts are the real API's.
NOT_FOUND_MESSAGES = {
    "bounces": "Address not found in bounces table",
    "complaints": "No spam complaints found for this address",
    "unsubscribes": "Address not found in unsubscribers table",
}
REMOVED_MESSAGES = {
    "bounces": "Bounced address has been removed",
    "complaints": "Spam complaint has been removed",
    "unsubscribes": "Unsubscribe event has been removed",
}
UNSUBSCRIBE_TAG_MISSING = "Unsubscribe event for this tag does not exist"


@dataclass
class Suppression:
    address: str
    created_at: str
    code: str = ""
    error: str = ""
    tags: list[str] = field(default_factory=list)

    def to_json(self, list_name: str) -> JSON:
        # Key order follows the recorded responses.
        if list_name == "bounces":
            return {
                "address": self.address,
                "code": self.code,
                "error": self.error,
                "created_at": self.created_at,
            }
        if list_name == "unsubscribes":
            return {"address": self.address, "tags": list(self.tags), "created_at": self.created_at}
        return {"address": self.address, "created_at": self.created_at}


class SuppressionList:
    """Records keyed and ordered by lower-cased address: Mailgun treats addresses
    case-insensitively but answers with the case they were added with.

    Sorting is lazy: `put` appends, and the first read after an out-of-order append
    re-sorts, so bulk builders stay O(n log n) overall."""

    def __init__(self) -> None:
        self._records: dict[str, Suppression] = {}
        self._keys: list[str] = []
        self._dirty = False

    def __len__(self) -> int:
        return len(self._records)

    def put(self, record: Suppression) -> None:
        key = record.address.lower()
        if key not in self._records:
            if self._keys and key < self._keys[-1]:
                self._dirty = True
            self._keys.append(key)
        self._records[key] = record

    def get(self, address: str) -> Suppression | None:
        return self._records.get(address.lower())

    def pop(self, address: str) -> Suppression | None:
        key = address.lower()
        record = self._records.pop(key, None)
        if record is not None:
            keys = self.sorted_keys()
            del keys[bisect_left(keys, key)]
        return record

    def in_order(self) -> list[Suppression]:
        return [self._records[key] for key in self.sorted_keys()]

    def sorted_keys(self) -> list[str]:
        if self._dirty:
            self._keys.sort()
            self._dirty = False
        return self._keys

    def page(self, mode: str, pivot: str, term: str, limit: int) -> list[Suppression]:
        """One page among the addresses starting with `term`: `first`, `last`, or the
        `next` / `previous` one relative to the `pivot` address."""
        keys = self.sorted_keys()
        lo, hi = _prefix_range(keys, term.lower())
        if mode == "next":
            start = max(lo, bisect_right(keys, pivot.lower()))
            chosen = keys[start : min(start + limit, hi)]
        elif mode == "previous":
            stop = min(hi, bisect_left(keys, pivot.lower()))
            chosen = keys[max(lo, stop - limit) : stop]
        elif mode == "last":
            chosen = keys[max(lo, hi - limit) : hi]
        else:
            chosen = keys[lo : min(lo + limit, hi)]
        return [self._records[key] for key in chosen]


def _prefix_range(keys: list[str], prefix: str) -> tuple[int, int]:
    if not prefix:
        return 0, len(keys)
    return bisect_left(keys, prefix), bisect_left(keys, prefix + "\U0010ffff")

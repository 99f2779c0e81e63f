"""What one Sentry poll did, as counts and a one-line summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from monitor.core.models import NOT_PURCHASE, PURCHASE_CATEGORIES


@dataclass
class PollStats:
    window: tuple[datetime, datetime]
    pages: int = 0
    requests: int = 0
    issues: int = 0  # in the window
    issues_read: int = 0  # whose events were read
    issues_gone: int = 0  # deleted or merged while the poll ran
    truncated: int = 0  # issues that hit MAX_EVENT_PAGES
    skipped: int = 0  # list items that were not events
    new_events: int = 0
    categories: Counter[str] = field(default_factory=Counter)  # of the new events
    linked: int = 0  # new purchase errors linked to a customer
    dated_by_issue: int = 0  # new events with no time of their own, dated by their issue
    project_id: str = ""  # the numeric ID the configured project resolved to
    project_found: str = ""  # said once: the poll that asked Sentry for the project's ID

    @property
    def purchase_errors(self) -> int:
        return sum(self.categories[name] for name in PURCHASE_CATEGORIES)

    def counts(self) -> dict[str, object]:
        counts: dict[str, object] = {
            **({"project": self.project_found} if self.project_found else {}),
            "pages": self.pages,
            "requests": self.requests,
            "issues": self.issues,
            "issues_read": self.issues_read,
            "new_events": self.new_events,
            "purchase_errors": self.purchase_errors,
            **{name: self.categories[name] for name in PURCHASE_CATEGORIES},
            NOT_PURCHASE: self.categories[NOT_PURCHASE],
            "linked": self.linked,
            "unlinked": self.purchase_errors - self.linked,
        }
        extras = {
            "issues_gone": self.issues_gone,
            "truncated": self.truncated,
            "skipped": self.skipped,
            "dated_by_issue": self.dated_by_issue,
        }
        counts.update({name: value for name, value in extras.items() if value})
        return counts

    def summary(self) -> str:
        kinds = ", ".join(f"{self.categories[n]} {n}" for n in PURCHASE_CATEGORIES if self.categories[n])
        return (
            ("Sentry: " + self.project_found + "; " if self.project_found else "Sentry: ")
            + f"{self.pages} pages, {self.new_events} new events, {self.purchase_errors} purchase "
            f"errors{f' ({kinds})' if kinds else ''}, {self.linked} linked, "
            f"{self.purchase_errors - self.linked} unlinked"
            + (
                f", {self.dated_by_issue} dated by their issue (no time of their own)"
                if self.dated_by_issue
                else ""
            )
        )

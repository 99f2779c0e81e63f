"""Mailgun's Logs API (`POST /v1/analytics/logs`), the successor of the Events API: the query
for one window and the walk over its pages. Pure request building; the HTTP seam does the rest.

Wire facts (mailgun-api.md section 4, the recorded `mg-logs` answer): the query is a JSON body
with RFC 2822 `start`/`end`, the event names, a domain filter (the API is account-wide) and
`pagination` `{sort, limit <= 100, token}`. An answer is `{items, pagination}`; `pagination.next`
is a token, sent back as `pagination.token`, and a missing `next` is the end. Items carry an
ISO-8601 `@timestamp` and `user-variables` as a JSON string; `mailgun_parse` reads both shapes."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime
from typing import Any

from monitor.config.settings import MailgunSettings
from monitor.core.errors import SourceError
from monitor.sources.http import HttpClient
from monitor.sources.mailgun_client import REPORTED_EVENTS, Step

LOGS_LIMIT = 100  # the Logs API's maximum page size


def logs_url(mailgun: MailgunSettings) -> str:
    return f"{mailgun.base_url}/v1/analytics/logs"


def logs_query(
    mailgun: MailgunSettings, begin: datetime, end: datetime, token: str | None = None
) -> dict[str, Any]:
    """The body asking for one closed window of this domain's failures, complaints and
    unsubscribes, oldest first."""
    domain = mailgun.domain
    pagination: dict[str, Any] = {"sort": "timestamp:asc", "limit": LOGS_LIMIT}
    if token:
        pagination["token"] = token
    return {
        "start": format_datetime(begin, usegmt=True),
        "end": format_datetime(end, usegmt=True),
        "events": list(REPORTED_EVENTS),
        "filter": {
            "AND": [
                {"attribute": "domain", "comparator": "=", "values": [{"label": domain, "value": domain}]}
            ]
        },
        "include_subaccounts": False,
        "include_totals": False,
        "pagination": pagination,
    }


def walk_logs(
    client: HttpClient, mailgun: MailgunSettings, begin: datetime, end: datetime, *, cap: int
) -> Iterator[Step]:
    """The pages of one window, first to last: a page without a `next` token ends the walk,
    and so does an empty one. A token that comes back again is refused rather than looped on."""
    url = logs_url(mailgun)
    seen: set[str] = set()
    token: str | None = None
    for number in range(1, cap + 1):
        page = client.query_json(url, logs_query(mailgun, begin, end, token))
        items, following = _items_and_next(page.data, url)
        last = not items or following is None
        if not last and following in seen:  # every token given so far, the current one too
            raise SourceError(
                "Mailgun's Logs API gave a pagination token it had given before; stopped so the "
                "run cannot loop. The next run starts again."
            )
        if not last and number == cap:
            raise SourceError(f"Mailgun's Logs API listed more than {cap} pages; stopped at the page cap.")
        yield Step(items, last, url)
        if last:
            return
        assert following is not None
        seen.add(following)
        token = following


def _items_and_next(data: Any, url: str) -> tuple[list[Any], str | None]:
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise SourceError(f"Mailgun answered a page without an items list at {url}.")
    pagination = data.get("pagination")
    following = pagination.get("next") if isinstance(pagination, Mapping) else None
    return data["items"], following if isinstance(following, str) and following else None

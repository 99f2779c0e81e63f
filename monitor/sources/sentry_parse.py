"""The Sentry source's pure half: request plans, the poll window, wire objects to Signals, and
the sentences for permanent errors. No I/O and no clock: `now` is always a parameter.

Wire facts relied on (see the Sentry API reference and the recorded answers): ids are strings
or numbers; an issue's event count is `lifetime.count` on current servers and only the top-level
`count` string on older and self-hosted ones; timestamps are ISO-8601 UTC with or without
fractions; `user` may be null and any of its keys null or missing; `tags` is a list of
`{key, value}` or, on old servers, a dict. Sentry-compatible servers may send snake_case names
(`date_created`, `event_id`, `last_seen`): each field is read under both spellings.

Wire objects are tested with `isinstance(x, dict)`: JSON objects always decode to dict, and
the exact test costs a fraction of the `Mapping` ABC's (a backfill makes a million of them)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from monitor.config.settings import SentrySettings
from monitor.core.classify import MAX_TEXT, ErrorText, Rule, action_for, classify
from monitor.core.errors import SourceError
from monitor.core.models import Signal
from monitor.core.timeutil import parse_iso
from monitor.core.urlparts import quote_part
from monitor.sources.http_parts import Page, short_text

CURSOR = "sentry"  # the cursors row: the end of the last window read in full
PAGE_SIZE = 100  # Sentry's maximum for both list endpoints
RETENTION_DAYS = 90  # Sentry answers no further back; a longer window only costs a 400
Request = tuple[str, dict[str, Any] | None]  # (url, params); params None: the URL is complete


@dataclass(frozen=True)
class IssueRef:
    """What a poll keeps of one issue from the issue list."""

    id: str
    short_id: str = ""
    title: str = ""
    culprit: str = ""
    exception_type: str = ""
    exception_value: str = ""
    permalink: str = ""
    level: str = ""
    last_seen: datetime | None = None
    event_count: int | None = None  # lifetime events; None when the server did not say

    @property
    def text(self) -> ErrorText:
        return ErrorText(
            title=self.title,
            culprit=self.culprit,
            exception_type=self.exception_type,
            exception_value=self.exception_value,
        )


def issue_ref(item: Any) -> IssueRef:
    """An element of the organization issue list. Raises SourceError when it has no id."""
    if not isinstance(item, dict) or item.get("id") in (None, ""):
        raise SourceError("Sentry sent an issue without an id; the poll stopped before storing it.")
    metadata = _mapping(item.get("metadata"))
    lifetime = _mapping(item.get("lifetime"))
    count = lifetime.get("count") if "count" in lifetime else item.get("count")
    return IssueRef(
        id=str(item["id"]),
        short_id=_text(_field(item, "shortId", "short_id")),
        title=_text(item.get("title")),
        culprit=_text(item.get("culprit")),
        exception_type=_text(metadata.get("type")),
        exception_value=_text(metadata.get("value")),
        permalink=_text(item.get("permalink")),
        level=_text(item.get("level")),
        last_seen=_time(_field(item, "lastSeen", "last_seen")),
        event_count=_int(count),
    )


def needs_events(issue: IssueRef, known: tuple[datetime | None, int | None] | None) -> bool:
    """Whether the issue's events must be read: it is new to us, was seen again since its
    events were last read in full, or its event count changed (a late event does not move
    lastSeen, but it does move the count)."""
    last_seen, count = known or (None, None)
    if last_seen is None or issue.last_seen is None or issue.last_seen > last_seen:
        return True
    return issue.event_count is not None and issue.event_count != count


def poll_window(cursor: str | None, now: datetime, settings: SentrySettings) -> tuple[datetime, datetime]:
    """[start, end] of one poll: from the cursor minus the overlap (late events), or
    `lookback_days` back on the first poll; to `now`, in whole seconds."""
    end = now.astimezone(UTC).replace(microsecond=0)
    overlap = timedelta(minutes=settings.overlap_minutes)
    start = parse_iso(cursor) - overlap if cursor else end - timedelta(days=settings.lookback_days)
    # A cursor ahead of the clock (the clock went back) still re-reads the overlap.
    start = min(start, end - overlap)
    return max(start, end - timedelta(days=RETENTION_DAYS)), end


def api_time(moment: datetime) -> str:
    """Sentry's `start`/`end` form: UTC without a suffix, which every server version parses."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _api(settings: SentrySettings) -> str:
    return f"{settings.base_url}/api/0/organizations/{quote_part(settings.organization)}"


# Without a time range Sentry lists the issues seen in the last 14 days; a longer window asks
# for the whole retention instead.
DEFAULT_PERIOD = timedelta(days=14)


def issues_request(settings: SentrySettings, project_id: str, start: datetime, end: datetime) -> Request:
    """The organization issue list of one project (`project=` takes only numeric IDs), every
    status (`query=` empty: an event on a resolved or ignored issue still counts), in the
    server's default order, most recently seen first. No `sort`, `start` or `end`: compatible
    servers refuse the one and apply the others to first-seen, which would hide old issues with
    new events. The poll stops paging itself once issues were last seen before the window."""
    params: dict[str, Any] = {
        "project": project_id,
        "query": "",
        "limit": PAGE_SIZE,
        "groupStatsPeriod": "",  # no sparklines: cheaper for the server
    }
    if end - start > DEFAULT_PERIOD:
        params["statsPeriod"] = f"{RETENTION_DAYS}d"
    if settings.environment:
        params["environment"] = settings.environment
    return f"{_api(settings)}/issues/", params


def before_window(issue: IssueRef, start: datetime) -> bool:
    """Last seen before the window: its events in the window, if any, were read already."""
    return issue.last_seen is not None and issue.last_seen < start


def events_request(settings: SentrySettings, issue_id: str, start: datetime, end: datetime) -> Request:
    """The events of one issue, newest first, from `/api/0/issues/{id}/events/`: the path that
    sentry.io and self-hosted and compatible servers all serve (the organization-scoped one is
    missing on some)."""
    params: dict[str, Any] = {"start": api_time(start), "end": api_time(end), "per_page": PAGE_SIZE}
    if settings.environment:
        params["environment"] = settings.environment
    return f"{settings.base_url}/api/0/issues/{quote_part(issue_id)}/events/", params


def project_request(settings: SentrySettings) -> Request:
    """The project's details, for its numeric ID."""
    org, project = quote_part(settings.organization), quote_part(settings.project)
    return f"{settings.base_url}/api/0/projects/{org}/{project}/", None


def project_id_of(data: Any) -> str:
    """The numeric ID in a project's details; SourceError when there is none."""
    ident = data.get("id") if isinstance(data, dict) else None
    if ident is None or not str(ident).isdigit():
        raise SourceError("Sentry's project details carry no numeric id; check [sentry] base_url.")
    return str(ident)


def next_request(page: Page, request: Request, rows: int, base_url: str) -> Request | None:
    """The request for the page after `page`, or None when it was the last.

    Sentry always sends `next`; `results="true"` says it has rows. A full page without a Link
    header is an error: nothing tells whether more follow. The Link URL is followed as given
    when it points at the configured host; otherwise (a proxy, a region redirect) the same
    request is repeated with the cursor, so the token never goes to another host."""
    link = page.links.get("next")
    if link is None:
        if rows >= PAGE_SIZE:
            raise SourceError(
                f"Sentry sent a full page without a Link header at {short_text(page.url)}, so the poll "
                "cannot tell whether more follow; a proxy in between may strip the header."
            )
        return None
    if link["results"] != "true":
        return None
    if urlsplit(link["url"]).netloc == urlsplit(base_url).netloc:
        return link["url"], None
    url, params = request
    base = dict(params or {})
    return url, {**base, "cursor": link["cursor"]}


def tags_of(event: Mapping[str, Any]) -> dict[str, str]:
    """An event's tags as a dict, from a list of {key, value} or (old servers) a dict."""
    tags = event.get("tags")
    if isinstance(tags, dict):
        return {str(k): _text(v) for k, v in tags.items()}
    out: dict[str, str] = {}
    for tag in tags if isinstance(tags, list) else []:
        if isinstance(tag, dict) and tag.get("key") is not None:
            out[str(tag["key"])] = _text(tag.get("value"))
        elif isinstance(tag, list | tuple) and len(tag) == 2:
            out[str(tag[0])] = _text(tag[1])
    return out


def error_text(event: Mapping[str, Any], issue: IssueRef, tags: Mapping[str, str]) -> ErrorText:
    metadata = _mapping(event.get("metadata"))
    return ErrorText(
        title=_text(event.get("title")) or issue.title,
        message=_text(event.get("message")),
        culprit=_text(event.get("culprit")) or issue.culprit,
        exception_type=_text(metadata.get("type")) or issue.exception_type,
        exception_value=_text(metadata.get("value")) or issue.exception_value,
        transaction=tags.get("transaction", ""),
    )


def event_permalink(issue: IssueRef, event_id: str, settings: SentrySettings) -> str:
    base = issue.permalink or f"{settings.base_url}/organizations/{settings.organization}/issues/{issue.id}/"
    return f"{base if base.endswith('/') else base + '/'}events/{event_id}/"


def event_key(event: Any) -> str | None:
    """The dedup key (eventID), or None for something that is not an event."""
    if not isinstance(event, dict):
        return None
    key = _field(event, "eventID", "event_id") or event.get("id")
    return str(key) if key else None


def event_to_signal(
    event: Mapping[str, Any], issue: IssueRef, settings: SentrySettings, rules: Sequence[Rule] = ()
) -> Signal:
    """One event of the issue's event list as a Signal: classified, with the customer it names.
    Titles are kept verbatim (HTML included); the reports escape them."""
    key = event_key(event)
    if key is None:
        raise ValueError("not an event: no eventID")
    tags = tags_of(event)
    text = error_text(event, issue, tags)
    verdict = classify(text, rules)
    user = _mapping(event.get("user"))
    customer = _text(user.get("id")).strip() or None
    occurred = _time(_field(event, "dateCreated", "date_created")) or _time(
        _field(event, "dateReceived", "date_received")
    )
    # An event with no time of its own is dated by its issue's last-seen time, and says so:
    # the digest shows it as uncertain, never as an error of another day.
    dated_by_issue = occurred is None
    occurred = occurred or issue.last_seen
    if occurred is None:
        raise ValueError(f"event {key} has no dateCreated")
    detail: dict[str, object] = {
        "issue_id": issue.id,
        "short_id": issue.short_id,
        "culprit": text.culprit,
        "exception_type": text.exception_type,
        "transaction": text.transaction,
        # The other texts the rules read, so `monitor classify --stored` decides on what the
        # poll decided on (cut as the rules cut them; empty ones are not stored).
        "message": text.message[:MAX_TEXT],
        "exception_value": text.exception_value[:MAX_TEXT],
        "level": tags.get("level") or issue.level,
        "environment": tags.get("environment", ""),
        "rule": verdict.rule,
        "dated_by": "issue" if dated_by_issue else "",
    }
    return Signal(
        source="sentry",
        key=key,
        category=verdict.category,
        occurred_at=occurred,
        title=text.title or "(no title)",
        group=issue.id,
        url=event_permalink(issue, key, settings),
        customer_ref=customer,
        email=_text(user.get("email")).strip() or None,
        # `username` is an account handle, not how a person is addressed: never shown as a name.
        name=_text(user.get("name")).strip() or None,
        action=action_for(verdict, customer),
        detail={k: v for k, v in detail.items() if v},
    )


def _field(item: Mapping[str, Any], name: str, snake: str) -> Any:
    """A field under Sentry's camelCase name or the snake_case one compatible servers use."""
    value = item.get(name)
    return item.get(snake) if value is None else value


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return parse_iso(value)
    except ValueError:
        return None

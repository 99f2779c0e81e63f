"""Talking to Mailgun: request URLs, errors as sentences, the HTTP client of one run, paging,
and single-address calls.

Paging follows `paging.next` exactly as given (the host, the region and an opaque token are
inside it; building it ourselves is how client libraries broke) until a page with no items.
Two guards keep a misbehaving server from looping us forever: a `next` URL that repeats ends
the run with an error, and so does passing a page cap."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, quote, urlsplit

from monitor.config.secrets import missing_secret_reason
from monitor.config.settings import MailgunSettings, Settings
from monitor.core.errors import ConfigError, SourceError
from monitor.sources.http import Explain, HttpClient, RetryPolicy
from monitor.sources.http_parts import Page, short_url

if TYPE_CHECKING:
    import threading

    from monitor.config.load import Secrets

REPORTED_EVENTS = ("failed", "complained", "unsubscribed")  # the kinds of event that become signals
EVENT_FILTER = " OR ".join(REPORTED_EVENTS)  # one query for the three kinds
EVENTS_LIMIT = 300  # the Events API's maximum page size
LIST_LIMIT = 1000  # the suppression lists' real maximum (mailgun/documentation#595)
DOMAIN_NOT_FOUND = "Mailgun does not know the domain"


@dataclass(frozen=True)
class Step:
    """One page of a walk. `last`: nothing follows it; the walk is complete."""

    items: list[Any]
    last: bool
    url: str


def events_url(mailgun: MailgunSettings) -> str:
    return f"{mailgun.base_url}/v3/{mailgun.domain}/events"


def events_params(begin: datetime, end: datetime) -> dict[str, str]:
    return {
        "begin": str(int(begin.timestamp())),
        "end": str(int(end.timestamp())),
        "ascending": "yes",
        "limit": str(EVENTS_LIMIT),
        "event": EVENT_FILTER,
    }


def list_url(mailgun: MailgunSettings, list_name: str, address: str | None = None) -> str:
    url = f"{mailgun.base_url}/v3/{mailgun.domain}/{list_name}"
    # The address goes into the path escaped: a `+` would otherwise read as a space.
    return url if address is None else f"{url}/{quote(address.strip(), safe='@')}"


# --- errors as sentences --------------------------------------------------------------------


def error_message(body: str) -> str:
    """Mailgun's error text: JSON `{"message": ...}` usually, plain `Forbidden` on a 401."""
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:200]
    if isinstance(data, Mapping) and isinstance(data.get("message"), str):
        return str(data["message"]).strip()
    return body.strip()[:200]


def explain_for(mailgun: MailgunSettings) -> Explain:
    """The sentence for a 4xx answer; the region is the usual culprit of a 401 or 404."""

    def explain(status: int, body: str) -> str:
        message = error_message(body)
        if status == 401:
            return (
                "Mailgun answered 401 Forbidden: check MAILGUN_API_KEY (a private API key, not a "
                "sending key) and the region: EU domains need base_url = https://api.eu.mailgun.net."
            )
        if status == 404 and "domain not found" in message.lower():
            return (
                f"{DOMAIN_NOT_FOUND} {mailgun.domain} at {mailgun.base_url}: check [mailgun] domain and "
                "the region (US api.mailgun.net / EU api.eu.mailgun.net)."
            )
        if status == 403:
            return f"Mailgun answered 403 ({message}): the API key may not read this domain's data."
        return f"Mailgun answered {status}: {message or 'no reason given'}."

    return explain


def mailgun_client(
    mailgun: MailgunSettings,
    key: str,
    *,
    stop: threading.Event | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] | None = None,
) -> HttpClient:
    """HTTP Basic with the user `api`; the configured timeout and wait budget."""
    return HttpClient(
        "Mailgun",
        auth=("api", key),
        policy=policy or RetryPolicy(timeout=mailgun.timeout_seconds, max_wait=mailgun.max_wait_seconds),
        explain=explain_for(mailgun),
        stop=stop,
        sleep=sleep,
    )


def section(settings: Settings) -> MailgunSettings:
    if settings.mailgun is None:
        raise ConfigError(["mailgun: not configured; add a [mailgun] section with base_url and domain"])
    return settings.mailgun


def api_key(secrets: Secrets) -> str:
    secret = secrets.mailgun_key
    if secret is None:
        raise ConfigError([f"secrets.MAILGUN_API_KEY: {missing_secret_reason('MAILGUN_API_KEY')}"])
    return secret.reveal()


def client_for(settings: Settings, secrets: Secrets, stop: threading.Event | None = None) -> HttpClient:
    """The Mailgun client of a configured app (`stop` ends its waits early)."""
    return mailgun_client(section(settings), api_key(secrets), stop=stop)


def walk(
    client: HttpClient, url: str, params: Mapping[str, str] | None, *, cap: int, short_page_ends: bool
) -> Iterator[Step]:
    """The pages of one listing, first to last. With `short_page_ends` a page holding fewer
    items than the page size also ends the walk (the suppression lists' rule; the Events API
    may return short pages mid-way, so it only ends on an empty one)."""
    followed: set[str] = set()
    for number in range(1, cap + 1):
        page = client.get_json(url, params)
        items, following = _items_and_next(page)
        short = short_page_ends and len(items) < _page_size(following, params)
        last = not items or following is None or short
        if not last and (following in followed or following == page.url):
            raise SourceError(
                f"Mailgun's paging.next repeats a page already read ({short_url(str(following))}); "
                "stopped so the run cannot loop. The next run starts again."
            )
        if not last and number == cap:
            raise SourceError(
                f"Mailgun listed more than {cap} pages at {short_url(url)}; stopped at the page cap."
            )
        yield Step(items, last, page.url)
        if last or following is None:
            return
        followed.add(following)
        url, params = following, None


def _items_and_next(page: Page) -> tuple[list[Any], str | None]:
    data = page.data
    if not isinstance(data, Mapping) or not isinstance(data.get("items"), list):
        raise SourceError(f"Mailgun answered a page without an items list at {short_url(page.url)}.")
    paging = data.get("paging")
    following = paging.get("next") if isinstance(paging, Mapping) else None
    return data["items"], following if isinstance(following, str) and following.strip() else None


def _page_size(following: str | None, params: Mapping[str, str] | None) -> int:
    """The page size the server works with: the `limit` in its own next URL, else the one asked
    for. A server that lowers the limit must not make a full page look short: a short page ends
    the snapshot, and what a cut-off snapshot misses would be recorded as removed."""
    if following:
        values = parse_qs(urlsplit(following).query).get("limit")
        if values and values[0].isdigit() and int(values[0]) > 0:
            return int(values[0])
    asked = (params or {}).get("limit", "")
    return int(asked) if asked.isdigit() else 1


def lookup_entry(client: HttpClient, mailgun: MailgunSettings, list_name: str, email: str) -> Any:
    """The list's entry of one address (a JSON object), or None when it is not on that list."""
    try:
        return client.get_json(list_url(mailgun, list_name, email)).data
    except SourceError as err:
        if err.status == 404 and not str(err).startswith(DOMAIN_NOT_FOUND):
            return None  # "Address not found in bounces table" and its siblings
        raise


def delete_entry(client: HttpClient, mailgun: MailgunSettings, list_name: str, email: str) -> str:
    """Remove one address from one list (every tag, for unsubscribes); Mailgun's answer text."""
    page = client.request("DELETE", list_url(mailgun, list_name, email))
    data = page.data
    message = data.get("message") if isinstance(data, Mapping) else None
    return str(message) if message else "removed"

"""A Mailgun HTTP API simulator for tests and benchmarks.

It answers the endpoints the monitor uses the way the real API does on the wire (the
team's Mailgun reference, the OpenAPI spec and responses recorded by Mailgun's clients):

* suppressions: `GET /v3/{domain}/bounces|complaints|unsubscribes`, alphabetical by address,
  paged on an `address` pivot with full paging URLs; single-address `GET` and `DELETE`;
* events: `GET /v3/{domain}/events` with `begin`/`end`/`ascending`/filter expressions, paged
  through opaque tokens in the path (`/v3/{domain}/events/<token>`). Events can become
  visible late, as Mailgun stores them late and out of order;
* sending: `POST /v3/{domain}/messages` and `/messages.mime`, recorded in the scenario;
* errors: 401 plain-text `Forbidden`, 404 `Domain not found`, 400 `{"message": ...}`, and
  429 with `Retry-After` / `X-RateLimit-Reset`.

Transport failures (5xx, truncated or HTML bodies, slow answers, dropped connections)
come from `base.Fault`; `faults` builds Mailgun-flavoured ones.

Data stays sorted (suppressions by lower-cased address, events by (timestamp, id)) and is
searched with `bisect`, so one request costs O(page + log n) however big the scenario is.

Where things live: `scenario` (the account's data), `suppressions`, `events` (queries and
paging), `event_requests` (parameters and page tokens), `filters`, `event_shapes`, `forms`,
`app` (routing and answers), `server`, `faults`, and `wire` (defaults, limits, replies).
This module re-exports the public API, so `from monitor.simulators.mailgun import X` works.
"""

from monitor.simulators.mailgun.app import MailgunApp, mailgun_app
from monitor.simulators.mailgun.event_requests import (
    decode_event_token,
    encode_event_token,
    parse_event_query,
)
from monitor.simulators.mailgun.events import EventCursor, EventPage, EventQuery, Gap
from monitor.simulators.mailgun.faults import (
    dropped_connection,
    html_error_page,
    malformed_json,
    server_error,
    slow_answer,
    too_many_requests,
    truncated_body,
)
from monitor.simulators.mailgun.filters import Matcher, compile_filters
from monitor.simulators.mailgun.forms import parse_form
from monitor.simulators.mailgun.scenario import MailgunScenario, SentMessage
from monitor.simulators.mailgun.server import MailgunServer, start_mailgun
from monitor.simulators.mailgun.wire import (
    DEFAULT_API_KEY,
    DEFAULT_DOMAIN,
    DEFAULT_LIMIT,
    EVENTS_LIMIT_MAX,
    JSON,
    SEND_OPTIONS_MAX_BYTES,
    SUPPRESSION_LIMIT_MAX,
    SUPPRESSION_LISTS,
    Clock,
    Fields,
    Files,
    rfc2822_utc,
)

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_DOMAIN",
    "DEFAULT_LIMIT",
    "EVENTS_LIMIT_MAX",
    "JSON",
    "SEND_OPTIONS_MAX_BYTES",
    "SUPPRESSION_LIMIT_MAX",
    "SUPPRESSION_LISTS",
    "Clock",
    "EventCursor",
    "EventPage",
    "EventQuery",
    "Fields",
    "Files",
    "Gap",
    "MailgunApp",
    "MailgunScenario",
    "MailgunServer",
    "Matcher",
    "SentMessage",
    "compile_filters",
    "decode_event_token",
    "dropped_connection",
    "encode_event_token",
    "html_error_page",
    "mailgun_app",
    "malformed_json",
    "parse_event_query",
    "parse_form",
    "rfc2822_utc",
    "server_error",
    "slow_answer",
    "start_mailgun",
    "too_many_requests",
    "truncated_body",
]

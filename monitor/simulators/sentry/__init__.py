"""A faithful simulator of the Sentry web API endpoints the monitor reads, over real HTTP.

Routes (all GET, trailing slashes as in Sentry; a missing slash answers 301 like Django):

* ``/api/0/organizations/{org}/issues/``                    listOrganizationIssues
* ``/api/0/organizations/{org}/issues/{issue_id}/events/``  listOrganizationIssueEvents
* ``/api/0/organizations/{org}/issues/{issue_id}/``         getOrganizationIssue
* the still-routed legacy ``/api/0/issues/{id}/[events/]`` and ``/api/0/groups/{id}/[events/]``

What it reproduces (see /work/shared/reference/sentry-api.md and Sentry's source):

* the spec's wire shapes: ids and ``count`` as strings, ``userCount`` as int, SimpleEvent list
  items (``full=true``/``1`` gives the full event; ``True`` does not), timestamps in UTC with
  ``Z``, with fractional seconds only when there are any;
* pagination as Sentry's paginators do it: the issue list uses ``SequencePaginator`` value
  cursors (``<score>:<offset>:<is_prev>``, score = sort time in whole seconds x 1000, so pages
  stay stable when new issues arrive), event lists use ``GenericOffsetPaginator`` cursors
  (``0:100:0``); every page has a ``Link`` header with ``previous`` and ``next`` in Sentry's
  exact template, the URL keeping the raw query string (commas and all) minus ``cursor``;
* the date window: ``statsPeriod`` overrides ``start``/``end``; 90 days by default and at most;
  issue-level ``count``/``userCount``/``firstSeen``/``lastSeen`` are those of the window, and
  ``lifetime`` holds the whole (visible) history, as in ``StreamGroupSerializerSnuba``;
* late ingestion: an event is invisible until ``clock() >= visible_at``;
* 401/403/404/400/405 answers with ``{"detail": ...}`` bodies, the five
  ``X-Sentry-Rate-Limit-*`` headers on every answer and, when limited, a 429 whose body is a
  JSON *string* and which has no ``Retry-After`` (Sentry's middleware sets none).

Cost per request: O(page size x log n) plus the issues that need a per-issue check (issues
last seen after an explicit ``end``; with ``sort=new``, issues first seen before the window).
Orderings are cached until the data changes. Deliberate simplifications are marked
"Simplification" in the modules.

The package, lowest layer first: ``wire`` (timestamps, periods, short ids, error answers),
``records`` (issues, events and their counts), ``shapes`` (issue and event JSON), ``paging``
(cursors, ``Link`` headers, pages), ``search`` (issue queries and views), ``scenario``
(SentryScenario), ``ratelimit``, ``params`` (shared request parameters), ``render`` (issues as
the endpoints answer them) and ``app`` (SentryApp, ``sentry_app``, ``start_sentry``). This module
re-exports the public names, so ``from monitor.simulators.sentry import X`` keeps working.
"""

from monitor.simulators.sentry.app import MAX_HITS, READ_SCOPES, SentryApp, sentry_app, start_sentry
from monitor.simulators.sentry.paging import (
    Cursor,
    PageLinks,
    link_header,
    query_without_cursor,
    sequence_page,
)
from monitor.simulators.sentry.ratelimit import DEFAULT_CONCURRENT_LIMIT, DEFAULT_RATE_LIMIT, RateLimiter
from monitor.simulators.sentry.scenario import SentryScenario
from monitor.simulators.sentry.search import IssueQuery, parse_search
from monitor.simulators.sentry.shapes import full_event, simple_event
from monitor.simulators.sentry.wire import (
    BAD_CREDENTIALS,
    FORBIDDEN,
    INVALID_CURSOR,
    JSON,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    RATE_LIMITED,
    ApiError,
    Clock,
    TagsArg,
    iso,
    json_reply,
    parse_iso,
    parse_period,
    short_id,
    to_us,
)

__all__ = [
    "BAD_CREDENTIALS",
    "DEFAULT_CONCURRENT_LIMIT",
    "DEFAULT_RATE_LIMIT",
    "FORBIDDEN",
    "INVALID_CURSOR",
    "JSON",
    "MAX_HITS",
    "NOT_AUTHENTICATED",
    "NOT_FOUND",
    "RATE_LIMITED",
    "READ_SCOPES",
    "ApiError",
    "Clock",
    "Cursor",
    "IssueQuery",
    "PageLinks",
    "RateLimiter",
    "SentryApp",
    "SentryScenario",
    "TagsArg",
    "full_event",
    "iso",
    "json_reply",
    "link_header",
    "parse_iso",
    "parse_period",
    "parse_search",
    "query_without_cursor",
    "sentry_app",
    "sequence_page",
    "short_id",
    "simple_event",
    "start_sentry",
    "to_us",
]

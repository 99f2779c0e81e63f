"""SentryApp: routing, authentication, rate limiting and the three endpoints, plus the entry
points `sentry_app` and `start_sentry`."""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Iterable
from typing import Any

from monitor.simulators.base import Reply, Request, SimulatorServer
from monitor.simulators.sentry.compat import (
    check_variants,
    event_item,
    issue_list_item,
    org_events_reply,
    refuse_sort,
)
from monitor.simulators.sentry.paging import (
    Cursor,
    event_page_links,
    link_header,
    newest_first,
    query_without_cursor,
    sequence_page,
)
from monitor.simulators.sentry.params import (
    check_projects,
    group_stats_period,
    int_param,
    query_window,
    requested_environments,
)
from monitor.simulators.sentry.ratelimit import (
    DEFAULT_CONCURRENT_LIMIT,
    DEFAULT_RATE_LIMIT,
    RateLimiter,
    Ticket,
)
from monitor.simulators.sentry.records import Issue
from monitor.simulators.sentry.render import Project, Render, issue_detail, issue_item
from monitor.simulators.sentry.scenario import SentryScenario
from monitor.simulators.sentry.search import SORTS, IssueQuery, parse_search
from monitor.simulators.sentry.shapes import full_event, simple_event
from monitor.simulators.sentry.wire import (
    BAD_CREDENTIALS,
    DAY,
    EVENT_ID_RE,
    FORBIDDEN,
    NOT_AUTHENTICATED,
    NOT_FOUND,
    US,
    ApiError,
    Clock,
    json_reply,
)

READ_SCOPES = frozenset({"event:read", "event:write", "event:admin"})
MAX_HITS = 1000  # Sentry's issue search counts hits up to this (X-Max-Hits)

_ROUTES = [
    ("issues", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/$")),
    ("org-events", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/(?P<issue>[^/]+)/events/$")),
    ("issue", re.compile(r"^/api/0/organizations/(?P<org>[^/]+)/issues/(?P<issue>[^/]+)/$")),
    ("events", re.compile(r"^/api/0/(?:issues|groups)/(?P<issue>[^/]+)/events/$")),
    ("issue", re.compile(r"^/api/0/(?:issues|groups)/(?P<issue>[^/]+)/$")),
    ("project", re.compile(r"^/api/0/projects/(?P<org>[^/]+)/(?P<project>[^/]+)/$")),
]


def _route(path: str) -> tuple[str | None, dict[str, str]]:
    for name, pattern in _ROUTES:
        match = pattern.match(path)
        if match:
            return name, match.groupdict()
    return None, {}


class SentryApp:
    """The simulator as an App (Request -> Reply) for `SimulatorServer`, also known as
    `sentry_app`. `forbidden_token` answers 403, as a token without `event:read` would."""

    def __init__(
        self,
        scenario: SentryScenario,
        *,
        token: str,
        organization: str,
        project: str,
        project_id: str = "1",
        clock: Clock = time.time,
        rate_limit: tuple[int, float] | None = None,
        public_base_url: str | None = None,
        forbidden_token: str | None = None,
        scopes: Iterable[str] = ("event:read",),
        organization_id: str = "1",
        project_name: str | None = None,
        concurrent_limit: int = DEFAULT_CONCURRENT_LIMIT,
        retention_days: int = 90,
        compat: Iterable[str] = (),
    ) -> None:
        self.compat = check_variants(compat)  # see `compat`: how compatible servers differ
        self.scenario = scenario
        self.token, self.forbidden_token, self.scopes = token, forbidden_token, frozenset(scopes)
        self.organization, self.organization_id = organization, organization_id
        self.project, self.project_id = project, str(project_id)
        self.project_name = project_name or project.replace("-", " ").title()
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.retention_us = retention_days * DAY * US
        limit, window = rate_limit or DEFAULT_RATE_LIMIT
        self.limiter = RateLimiter(limit, window, concurrent_limit, enforce=rate_limit is not None)

    def __call__(self, request: Request) -> Reply:
        now = self.clock()
        route, args = _route(request.path)
        caller = self._caller(request)
        endpoint = route or "catchall"
        ticket = self.limiter.enter(caller, endpoint, now)
        try:
            reply = self._answer(request, route, args, ticket, int(now * US))
        finally:
            self.limiter.leave(caller, endpoint)
        reply.headers.update(ticket.headers)  # Sentry's middleware adds them to every answer
        return reply

    # -- dispatch, auth

    def _answer(
        self, request: Request, route: str | None, args: dict[str, str], ticket: Ticket, now: int
    ) -> Reply:
        try:
            if not ticket.allowed:
                return self.limiter.refusal()
            if route is None:
                return self._no_route(request)
            if request.method != "GET":
                raise ApiError(405, f'Method "{request.method}" not allowed.')
            self._authorise(request, args)
            if route == "issues":
                return self._list_issues(request, now)
            if route == "project":
                return self._project(args["project"])
            if route == "org-events" and (reply := org_events_reply(self.compat)) is not None:
                return reply
            issue = self._issue(args["issue"])
            if route in ("events", "org-events"):
                return self._list_events(request, issue, now)
            return self._issue_detail(request, issue, now)
        except ApiError as error:
            return json_reply(error.status, {"detail": error.detail})
        except Exception:  # a simulator bug still answers like a server instead of dropping the connection
            traceback.print_exc()
            return json_reply(500, {"detail": "Internal Error"})

    def _no_route(self, request: Request) -> Reply:
        if not request.path.endswith("/") and _route(request.path + "/")[0]:
            # Django's APPEND_SLASH: a permanent redirect to the slashed path
            query = request.raw_path.partition("?")[2]
            location = request.path + "/" + (f"?{query}" if query else "")
            return Reply(301, b"", {"Location": location}, "text/html; charset=utf-8")
        raise ApiError(404, NOT_FOUND)

    def _caller(self, request: Request) -> str:
        """Who the rate limit counts against: the token's owner, else the (single) client address."""
        kind, _, credential = (request.header("authorization") or "").partition(" ")
        credential = credential.strip()
        if kind.lower() == "bearer" and credential in (self.token, self.forbidden_token):
            return f"token:{credential}"
        return "ip:127.0.0.1"

    def _authorise(self, request: Request, args: dict[str, str]) -> None:
        header = request.header("authorization")
        if not header:
            raise ApiError(401, NOT_AUTHENTICATED)
        kind, _, credential = header.partition(" ")
        credential = credential.strip()
        if kind.lower() != "bearer" or not credential or credential not in (self.token, self.forbidden_token):
            raise ApiError(401, BAD_CREDENTIALS)
        org = args.get("org")
        if org is not None and org not in (self.organization, self.organization_id):
            raise ApiError(404, NOT_FOUND)
        if credential == self.forbidden_token or not self.scopes & READ_SCOPES:
            raise ApiError(403, FORBIDDEN)

    # -- what the endpoints share

    def _issue(self, ref: str) -> Issue:
        with self.scenario.lock:
            issue = self.scenario.find(ref, self.project)
        if issue is None:
            raise ApiError(404, NOT_FOUND)
        return issue

    def _project_ref(self) -> Project:
        # built per use, so the attributes stay the one place the project is described
        return Project(self.organization, self.project, self.project_id, self.project_name)

    def _base_url(self, request: Request) -> str:
        return self.public_base_url or f"http://{request.header('host') or '127.0.0.1'}"

    def _page_url(self, request: Request) -> str:
        query = query_without_cursor(request.raw_path.partition("?")[2])
        return f"{self._base_url(request)}{request.path}?{query}"

    # -- endpoints

    def _list_issues(self, request: Request, now: int) -> Reply:
        check_projects(request, self.project_id)
        limit = int_param(request, "limit", 100, 100)
        cursor = Cursor.parse(request.param("cursor"))
        start, end = query_window(request, now, self.retention_us)
        refuse_sort(self.compat, request.param("sort"))
        sort = request.param("sort") or "date"
        if sort not in SORTS:
            raise ApiError(400, f"Invalid sort: {sort}")
        render = Render(
            now, start, end, requested_environments(request, self.scenario.environments),
            group_stats_period(request), frozenset(request.query.get("collapse", [])),
            self._base_url(request),
        )  # fmt: skip
        text = request.param("query", "is:unresolved") or ""
        project = self._project_ref()
        with self.scenario.lock:
            self.scenario.reveal(now)
            direct = self._direct_hits(request, text)
            if direct is not None:
                headers = {"X-Sentry-Direct-Hit": "1"} if request.param("group") is None else {}
                return json_reply(200, [issue_item(issue, project, render) for issue in direct], headers)
            query = IssueQuery(start, end, sort, environments=render.environments, **parse_search(text, now))
            view = self.scenario.search(query)
            page, links = sequence_page(view, cursor, limit)
            if "first-seen-window" in self.compat and request.param("start"):  # applied per page
                page = [issue for issue in page if issue.times and start <= issue.times[0] <= end]
            body = [issue_list_item(self.compat, issue_item(issue, project, render)) for issue in page]
        headers = {
            "Link": link_header(self._page_url(request), links),
            "X-Hits": str(min(len(view), MAX_HITS)),
            "X-Max-Hits": str(MAX_HITS),
        }
        return json_reply(200, body, headers)

    def _direct_hits(self, request: Request, text: str) -> list[Issue] | None:
        """`?group=<id>` lists exactly those issues; a query that is an event id or (with
        shortIdLookup=1) a short id answers with that issue. Neither is paginated."""
        groups = request.query.get("group")
        if groups:
            return [issue for ref in groups if (issue := self.scenario.find(ref, self.project)) is not None]
        term = text.strip()
        if EVENT_ID_RE.match(term.lower()):
            event = self.scenario.visible_event(term)
            return [event.issue] if event else None
        if request.param("shortIdLookup") == "1" and term.upper().startswith(self.project.upper() + "-"):
            issue = self.scenario.find(term, self.project)
            return [issue] if issue is not None else None
        return None

    def _list_events(self, request: Request, issue: Issue, now: int) -> Reply:
        per_page = int_param(request, "per_page", 100, 100)
        cursor = Cursor.parse(request.param("cursor"))
        start, end = query_window(request, now, self.retention_us)
        environments = requested_environments(request, self.scenario.environments)
        render_event = full_event if request.param("full") in ("1", "true") else simple_event
        offset = cursor.offset if cursor else 0
        with self.scenario.lock:
            self.scenario.reveal(now)
            page, has_more = newest_first(issue, start, end, environments, offset, per_page)
            body = [event_item(self.compat, render_event(event, self.project_id)) for event in page]
        # GenericOffsetPaginator counts no hits, so there is no X-Hits here.
        links = event_page_links(offset, per_page, has_more)
        return json_reply(200, body, {"Link": link_header(self._page_url(request), links)})

    def _project(self, ref: str) -> Reply:
        """getProject: the project's details, found by slug or ID."""
        if ref not in (self.project, self.project_id):
            raise ApiError(404, NOT_FOUND)
        body = {
            "id": self.project_id,
            "slug": self.project,
            "name": self.project_name,
            "platform": "ruby",
            "organization": {"id": self.organization_id, "slug": self.organization},
        }
        return json_reply(200, body)

    def _issue_detail(self, request: Request, issue: Issue, now: int) -> Reply:
        environments = requested_environments(request, self.scenario.environments)
        collapse = frozenset(request.query.get("collapse", []))
        with self.scenario.lock:
            self.scenario.reveal(now)
            body = issue_detail(
                issue, self._project_ref(), self._base_url(request), now, environments, collapse
            )
        return json_reply(200, body)


# The documented entry point; the class carries the parameters.
sentry_app = SentryApp


def start_sentry(scenario: SentryScenario, **app_kwargs: Any) -> SimulatorServer:
    """A started loopback server for `sentry_app(scenario, **app_kwargs)`; also a context manager."""
    return SimulatorServer(sentry_app(scenario, **app_kwargs)).start()

"""The request handler: Basic auth, throttling, routing, and the answers of each endpoint.

Errors look like the real API's: 401 plain-text `Forbidden`, 404 `Domain not found`,
400 `{"message": ...}`, and 429 with `Retry-After` / `X-RateLimit-Reset`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import unquote

from monitor.simulators.base import Reply, Request
from monitor.simulators.mailgun.event_requests import (
    decode_event_token,
    encode_event_token,
    parse_event_query,
)
from monitor.simulators.mailgun.events import EventCursor, EventQuery
from monitor.simulators.mailgun.forms import parse_form
from monitor.simulators.mailgun.logs import LOGS_PATH, answer_logs
from monitor.simulators.mailgun.scenario import MailgunScenario, SentMessage
from monitor.simulators.mailgun.suppressions import (
    NOT_FOUND_MESSAGES,
    REMOVED_MESSAGES,
    UNSUBSCRIBE_TAG_MISSING,
)
from monitor.simulators.mailgun.wire import (
    SEND_OPTIONS_MAX_BYTES,
    SUPPRESSION_LIMIT_MAX,
    SUPPRESSION_LISTS,
    BadRequest,
    Clock,
    Fields,
    Files,
    RequestLimit,
    header_number,
    json_reply,
    quote_param,
    requested_limit,
    text_reply,
)

Handler = Callable[[Request], Reply]


class MailgunApp:
    """The simulator as a `base.App` (also known as `mailgun_app`). `public_base_url` (default:
    from the Host header) prefixes paging URLs. `retry_after` / `rate_limit_reset` set the
    headers of the 429s produced by `scenario.throttle()`; `rate_limit_reset` is seconds from
    now, or an absolute epoch if it is larger than 1e9."""

    def __init__(
        self,
        scenario: MailgunScenario,
        *,
        api_key: str,
        domain: str,
        clock: Clock = time.time,
        public_base_url: str | None = None,
        retry_after: float | None = None,
        rate_limit_reset: float | None = None,
        request_limit: int = 2500,
    ) -> None:
        self.scenario = scenario
        self.api_key = api_key
        self.domain = domain
        self.clock = clock
        self.public_base_url = public_base_url.rstrip("/") if public_base_url else None
        self.retry_after = retry_after
        self.rate_limit_reset = rate_limit_reset
        self.request_limit = RequestLimit(request_limit)

    def __call__(self, request: Request) -> Reply:
        reply = self._answer(request)
        reply.headers.update(self.request_limit.headers(self.clock()))  # on every answer, as in 2026
        return reply

    def _answer(self, request: Request) -> Reply:
        if not self._authorized(request):
            return text_reply(401, "Forbidden")
        if self.scenario.take_throttle():
            return self._too_many_requests()
        try:
            return self._dispatch(request)
        except BadRequest as exc:
            return json_reply(400, {"message": str(exc)})

    def _authorized(self, request: Request) -> bool:
        header = request.header("authorization") or ""
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            user, _, password = base64.b64decode(encoded, validate=True).decode("utf-8").partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return False
        return user == "api" and hmac.compare_digest(password.encode(), self.api_key.encode())

    def _too_many_requests(self) -> Reply:
        headers: dict[str, str] = {}
        if self.retry_after is not None:
            headers["Retry-After"] = header_number(self.retry_after)
        if self.rate_limit_reset is not None:
            # Small values are "seconds from now"; epoch-sized values are used as given.
            reset = self.rate_limit_reset
            headers["X-RateLimit-Reset"] = header_number(reset if reset > 1e9 else self.clock() + reset)
        return json_reply(429, {"message": "Too Many Requests"}, headers)

    def _dispatch(self, request: Request) -> Reply:
        if request.path.rstrip("/") == LOGS_PATH:
            return answer_logs(request, self.scenario, self.domain, self.clock())
        parts = request.path.split("/")
        if len(parts) < 4 or parts[0] != "" or parts[1] != "v3" or not all(parts[3:]):
            return text_reply(404, "404 page not found")
        domain, rest = unquote(parts[2]), parts[3:]
        handler = self._route(request.method, rest)
        if handler is None:
            return text_reply(404, "404 page not found")
        if domain.lower() != self.domain.lower():
            return json_reply(404, {"message": f"Domain not found: {domain}"})
        return handler(request)

    def _route(self, method: str, rest: list[str]) -> Handler | None:
        """The handler for a path below /v3/{domain}/; None when the path is unknown,
        405 when it is known but not for this method."""
        head = rest[0]
        routes: dict[tuple[str, int], Handler] = {}
        if head in SUPPRESSION_LISTS:
            address = unquote(rest[1]) if len(rest) == 2 else ""
            routes = {
                ("GET", 1): lambda r: self._list_suppressions(r, head),
                ("GET", 2): lambda r: self._get_suppression(head, address),
                ("DELETE", 2): lambda r: self._delete_suppression(r, head, address),
            }
        elif head == "events":
            routes = {("GET", 1): self._events, ("GET", 2): lambda r: self._events_token(r, rest[1])}
        elif head in ("messages", "messages.mime"):
            routes = {("POST", 1): self._send if head == "messages" else self._send_mime}
        if not any(n == len(rest) for _, n in routes):
            return None
        return routes.get((method, len(rest)), _method_not_allowed)

    def _base_url(self, request: Request) -> str:
        return self.public_base_url or f"http://{request.header('host') or '127.0.0.1'}"

    # suppressions
    def _list_suppressions(self, request: Request, list_name: str) -> Reply:
        limit = requested_limit(request, SUPPRESSION_LIMIT_MAX)
        mode = request.param("page", "") or "first"
        if mode not in ("first", "next", "previous", "last"):
            raise BadRequest(f"Invalid page: {mode!r}, must be 'next', 'previous', 'last' or empty")
        pivot = request.param("address", "") or ""
        term = request.param("term", "") or ""
        items = self.scenario.suppression_page(list_name, mode, pivot, term, limit)
        root = f"{self._base_url(request)}/v3/{self.domain}/{list_name}"
        tail = f"limit={limit}&term={quote_param(term)}"
        after = items[-1]["address"] if items else pivot
        before = items[0]["address"] if items else pivot
        paging = {
            "first": f"{root}?{tail}",
            "last": f"{root}?page=last&{tail}",
            "next": f"{root}?page=next&address={quote_param(after)}&{tail}",
            "previous": f"{root}?page=previous&address={quote_param(before)}&{tail}",
        }
        if self.scenario.repeat_next:
            paging["next"] = self._base_url(request) + request.raw_path
        return json_reply(200, {"items": items, "paging": paging})

    def _get_suppression(self, list_name: str, address: str) -> Reply:
        item = self.scenario.suppression(list_name, address)
        if item is None:
            return json_reply(404, {"message": NOT_FOUND_MESSAGES[list_name]})
        return json_reply(200, item)

    def _delete_suppression(self, request: Request, list_name: str, address: str) -> Reply:
        tag = request.param("tag") if list_name == "unsubscribes" else None
        removed = self.scenario.delete_suppression(list_name, address, tag or None)
        if removed is None:
            unsubscribes = list_name == "unsubscribes"
            missing = UNSUBSCRIBE_TAG_MISSING if unsubscribes else NOT_FOUND_MESSAGES[list_name]
            return json_reply(404, {"message": missing})
        return json_reply(200, {"address": removed["address"], "message": REMOVED_MESSAGES[list_name]})

    # events
    def _events(self, request: Request) -> Reply:
        query = parse_event_query(request, self.clock())
        return self._events_page(request, query, EventCursor("lo" if query.ascending else "hi", +1))

    def _events_token(self, request: Request, token: str) -> Reply:
        query, cursor = decode_event_token(token)
        return self._events_page(request, query, cursor)

    def _events_page(self, request: Request, query: EventQuery, cursor: EventCursor) -> Reply:
        # Visibility is decided now, so a re-request of the same token can find late events.
        page = self.scenario.event_page(query, cursor, self.clock())
        root = f"{self._base_url(request)}/v3/{self.domain}/events/"
        start, end = ("lo", "hi") if query.ascending else ("hi", "lo")
        paging = {
            "next": root + encode_event_token(query, page.next),
            "previous": root + encode_event_token(query, page.previous),
            "first": root + encode_event_token(query, EventCursor(start, +1)),
            "last": root + encode_event_token(query, EventCursor(end, -1)),
        }
        if self.scenario.repeat_next:
            paging["next"] = self._base_url(request) + request.raw_path
        with self.scenario.lock:  # items are the stored dicts; serialise them consistently
            return json_reply(200, {"items": page.items, "paging": paging})

    # sending
    def _send(self, request: Request) -> Reply:
        fields, files = parse_form(request)
        for name in ("from", "to", "subject"):
            if not any(v.strip() for v in fields.get(name, [])):
                raise BadRequest(f"{name} parameter is missing")
        if not any(fields.get(name) for name in ("text", "html", "amp-html", "template")):
            raise BadRequest(
                "Need at least one of 'text', 'html', 'amp-html' or 'template' parameters specified"
            )
        return self._accept_message(fields, files)

    def _send_mime(self, request: Request) -> Reply:
        fields, files = parse_form(request)
        if not any(v.strip() for v in fields.get("to", [])):
            raise BadRequest("to parameter is missing")
        if "message" not in files:
            raise BadRequest("message parameter is missing")
        return self._accept_message(fields, files)

    def _accept_message(self, fields: Fields, files: Files) -> Reply:
        options = [(k, v) for k, vs in fields.items() if k[:2] in ("o:", "h:", "v:", "t:") for v in vs]
        if sum(len(k) + len(v) for k, v in options) > SEND_OPTIONS_MAX_BYTES:
            raise BadRequest(
                "Send options (parameters starting with o:, h:, v:, or t:) are limited to 16KB total"
            )
        now = self.clock()
        number = self.scenario.next_message_number()
        stamp = datetime.fromtimestamp(now, UTC).strftime("%Y%m%d%H%M%S")
        suffix = hashlib.sha256(f"{now}-{number}".encode()).hexdigest()[:8].upper()
        message_id = f"<{stamp}.{number}.{suffix}@{self.domain}>"
        self.scenario.record_message(SentMessage(message_id, fields, files, now))
        return json_reply(200, {"id": message_id, "message": "Queued. Thank you."})


def _method_not_allowed(request: Request) -> Reply:
    return text_reply(405, "Method Not Allowed")


# The documented entry point; the class carries the parameters.
mailgun_app = MailgunApp

"""A small threaded HTTP server that the Sentry and Mailgun simulators build on.

Each simulator is an *app*: a callable that takes a `Request` and returns a `Reply`.
The server adds what every simulator needs: a loopback port chosen by the OS, a request
log, and fault injection (a queue of canned failures consumed before the app answers).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    raw_path: str  # path + query exactly as sent

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"


@dataclass
class Fault:
    """A canned failure. `times` answers are taken from it, for requests whose path
    contains `path_contains`. `truncate` cuts the app's real body to that many bytes;
    `delay` sleeps before answering (slow server / read timeout); `drop` closes the
    connection without an answer."""

    status: int | None = None
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/json"
    times: int = 1
    path_contains: str = ""
    delay: float = 0.0
    truncate: int | None = None
    drop: bool = False
    skip: int = 0  # matching requests answered normally before the fault starts (a later page)


@dataclass(frozen=True)
class LoggedRequest:
    method: str
    path: str
    raw_path: str
    status: int
    headers: dict[str, str]


App = Callable[[Request], Reply]


class SimulatorServer:
    """Serve `app` on 127.0.0.1 in a background thread. Use as a context manager."""

    def __init__(self, app: App, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.requests: list[LoggedRequest] = []
        self.faults: list[Fault] = []
        self.delay = 0.0  # added before every answer (a slowed server, for crash tests)
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> SimulatorServer:
        # Idempotent, so `with start_x(...) as server:` (already started) runs one loop, not two.
        if self._thread is not None and self._thread.is_alive():
            return self
        # A short poll interval makes stop() quick (the default 0.5 s adds up over many tests).
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def inject(self, fault: Fault) -> None:
        with self._lock:
            self.faults.append(fault)

    def clear_log(self) -> None:
        with self._lock:
            self.requests.clear()

    def _take_fault(self, path: str) -> Fault | None:
        with self._lock:
            for fault in self.faults:
                if fault.path_contains in path and fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.path_contains in path:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
        return None

    def answer(self, request: Request) -> tuple[Reply | None, Fault | None]:
        """The reply to one request, after the configured delay and any fault; None when a
        fault drops the connection. Logged in `requests`."""
        if self.delay:
            time.sleep(self.delay)
        fault = self._take_fault(request.path)
        if fault and fault.delay:
            time.sleep(fault.delay)
        if fault and fault.drop:
            return None, fault
        reply = _with_fault(self.app(request), fault)
        with self._lock:
            self.requests.append(
                LoggedRequest(request.method, request.path, request.raw_path, reply.status, request.headers)
            )
        return reply, fault

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes; with Nagle on, a keep-alive client (a requests
            # Session) waits for a delayed ACK (~40 ms) on every answer.
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:
                pass  # the request log replaces stderr noise

            def _serve(self) -> None:
                reply, fault = server.answer(self._request())
                if reply is None:
                    self.close_connection = True
                    self.connection.close()
                    return
                self._write(reply, fault.truncate if fault else None)

            def _request(self) -> Request:
                length = int(self.headers.get("Content-Length") or 0)
                parts = urlsplit(self.path)
                return Request(
                    method=self.command,
                    path=parts.path,
                    query=parse_qs(parts.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                    raw_path=self.path,
                )

            def _write(self, reply: Reply, truncate: int | None) -> None:
                declared = len(reply.body)
                body = reply.body if truncate is None else reply.body[:truncate]
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(declared))
                self.end_headers()
                self.wfile.write(body)
                if len(body) != declared:  # a cut-off body: the client must see the connection end
                    self.close_connection = True

            do_GET = _serve
            do_POST = _serve
            do_DELETE = _serve
            do_PUT = _serve

        return Handler


def _with_fault(reply: Reply, fault: Fault | None) -> Reply:
    if fault is None:
        return reply
    if fault.status is not None:
        body = fault.body if fault.body is not None else b""
        return Reply(fault.status, body, dict(fault.headers), fault.content_type)
    if fault.body is not None:
        return Reply(reply.status, fault.body, reply.headers, fault.content_type)
    return reply

"""The HTTP seam against a real loopback server: retries, rate-limit waits, errors as
sentences, and secrets that never reach a log line or an error."""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from monitor.core.errors import SourceError
from monitor.simulators.base import Fault, Reply, Request, SimulatorServer
from monitor.sources.http import HttpClient, Interrupted, RetryPolicy
from monitor.sources.http_parts import parse_link_header

FAST = RetryPolicy(attempts=4, backoff_base=0.01, backoff_cap=0.05, max_wait=5.0, timeout=2.0)
PAYLOAD = {"ok": True, "items": [1, 2, 3]}
TOKEN = "sntrys_do_not_leak_4f9a"
API_KEY = "key-do-not-leak-7c1e"


def _json(data: object = PAYLOAD, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(data).encode(), headers or {})


@pytest.fixture
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(lambda request: _json()) as running:
        yield running


def _client(policy: RetryPolicy = FAST, **kwargs: object) -> HttpClient:
    return HttpClient("Sentry", policy=policy, **kwargs)  # type: ignore[arg-type]


def _timed(call: Callable[[], object]) -> tuple[object, float]:
    started = time.monotonic()
    result = call()
    return result, time.monotonic() - started


def _statuses(server: SimulatorServer) -> list[int]:
    return [logged.status for logged in server.requests]


# --- retries ---------------------------------------------------------------------------------


def test_a_503_then_a_200_succeeds_after_one_retry(server: SimulatorServer) -> None:
    server.inject(Fault(status=503))
    client = _client()

    page = client.get_json(f"{server.base_url}/api/0/issues/")

    assert page.status == 200 and page.data == PAYLOAD
    assert client.requests_made == 2
    assert _statuses(server) == [503, 200]


def test_a_burst_of_5xx_that_outlasts_the_attempts_is_a_temporary_source_error(
    server: SimulatorServer,
) -> None:
    server.inject(Fault(status=502, times=10))
    client = _client(RetryPolicy(attempts=3, backoff_base=0.01, max_wait=5.0))

    with pytest.raises(SourceError) as caught:
        client.get_json(f"{server.base_url}/api/0/issues/")

    assert not caught.value.permanent
    assert caught.value.status == 502
    assert str(caught.value) == "Sentry answered 502 after 3 tries; the next poll tries again."
    assert client.requests_made == 3


def test_a_cut_off_body_is_retried_and_then_succeeds(server: SimulatorServer) -> None:
    server.inject(Fault(truncate=5))
    client = _client()

    page = client.get_json(f"{server.base_url}/api/0/issues/")

    assert page.data == PAYLOAD
    assert client.requests_made == 2


def test_a_read_timeout_is_retried(server: SimulatorServer) -> None:
    server.inject(Fault(delay=0.6))
    client = _client(RetryPolicy(attempts=3, backoff_base=0.01, max_wait=5.0, timeout=0.2))

    page = client.get_json(f"{server.base_url}/api/0/issues/")

    assert page.data == PAYLOAD
    assert client.requests_made == 2


def test_a_closed_port_is_could_not_be_reached() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = _client(RetryPolicy(attempts=2, backoff_base=0.01, max_wait=5.0))

    with pytest.raises(SourceError) as caught:
        client.get_json(f"http://127.0.0.1:{port}/api/0/issues/")

    assert not caught.value.permanent
    assert str(caught.value) == (
        f"Sentry could not be reached at 127.0.0.1:{port} (connection refused) after 2 tries; "
        "check the base_url and the network."
    )
    assert client.requests_made == 2


def test_a_post_is_never_retried(server: SimulatorServer) -> None:
    server.inject(Fault(status=503, times=5))
    client = _client()

    with pytest.raises(SourceError) as caught:
        client.request("POST", f"{server.base_url}/v3/customers.gitlab.com/messages", data={"to": "x"})

    assert client.requests_made == 1
    assert [(r.method, r.status) for r in server.requests] == [("POST", 503)]
    assert str(caught.value) == "Sentry answered 503; the next poll tries again."


# --- rate limits -----------------------------------------------------------------------------


def test_a_429_with_retry_after_waits_that_long(server: SimulatorServer) -> None:
    server.inject(Fault(status=429, headers={"Retry-After": "0.2"}))
    client = _client()

    page, elapsed = _timed(lambda: client.get_json(f"{server.base_url}/api/0/issues/"))

    assert page.data == PAYLOAD  # type: ignore[attr-defined]
    assert 0.2 <= elapsed < 1.0
    assert _statuses(server) == [429, 200]


def test_a_429_with_a_sentry_reset_time_waits_until_then(server: SimulatorServer) -> None:
    reset = time.time() + 0.3
    server.inject(Fault(status=429, headers={"X-Sentry-Rate-Limit-Reset": f"{reset:.3f}"}))
    client = _client()

    client.get_json(f"{server.base_url}/api/0/issues/")

    assert time.time() >= reset - 0.01  # the retry went out once the window had reset
    assert _statuses(server) == [429, 200]


def test_a_used_up_window_makes_the_next_request_wait_for_the_reset() -> None:
    answered: list[float] = []

    def app(request: Request) -> Reply:
        answered.append(time.time())
        if len(answered) == 1:
            reset = f"{time.time() + 0.3:.3f}"
            return _json(headers={"X-Sentry-Rate-Limit-Remaining": "0", "X-Sentry-Rate-Limit-Reset": reset})
        return _json(headers={"X-Sentry-Rate-Limit-Remaining": "39"})

    with SimulatorServer(app) as server:
        client = _client()
        _first, first_took = _timed(lambda: client.get_json(f"{server.base_url}/a"))
        client.get_json(f"{server.base_url}/b")

    assert first_took < 0.25  # the 200 itself is not delayed
    assert answered[1] - answered[0] >= 0.25  # the next request waited for the window
    assert client.requests_made == 2  # and it earned no 429 on the way


def test_a_wait_beyond_the_budget_fails_at_once_with_a_sentence(server: SimulatorServer) -> None:
    server.inject(Fault(status=429, headers={"Retry-After": "120"}))
    client = _client(RetryPolicy(attempts=4, backoff_base=0.01, max_wait=30.0))

    with pytest.raises(SourceError) as caught:
        _timed(lambda: client.get_json(f"{server.base_url}/api/0/issues/"))

    message = str(caught.value)
    assert message.startswith("Sentry answered 429 (rate limited); waiting 120 s more would pass the 30 s")
    assert "next poll continues" in message
    assert not caught.value.permanent
    assert client.requests_made == 1


def test_a_stop_request_interrupts_a_rate_limit_wait(server: SimulatorServer) -> None:
    server.inject(Fault(status=429, headers={"Retry-After": "3"}))
    stop = threading.Event()
    client = _client(stop=stop)
    threading.Timer(0.1, stop.set).start()

    started = time.monotonic()
    with pytest.raises(Interrupted):
        client.get_json(f"{server.base_url}/api/0/issues/")

    assert time.monotonic() - started < 1.0  # not the full 3 s
    assert client.requests_made == 1


# --- answers that are errors -----------------------------------------------------------------


def _explain(status: int, body: str) -> str:
    return f"Sentry answered {status}: check SENTRY_AUTH_TOKEN and [sentry] organization/project."


@pytest.mark.parametrize("status", [401, 403, 404])
def test_an_auth_or_not_found_answer_is_a_permanent_error_with_the_explanation(
    server: SimulatorServer, status: int
) -> None:
    server.inject(Fault(status=status, body=b'{"detail": "nope"}', times=5))
    client = _client(explain=_explain)

    with pytest.raises(SourceError) as caught:
        client.get_json(f"{server.base_url}/api/0/issues/")

    assert caught.value.permanent
    assert caught.value.status == status
    assert str(caught.value) == _explain(status, "")
    assert client.requests_made == 1  # never retried


@pytest.mark.parametrize("status", [400, 422])
def test_a_refused_request_is_permanent_and_never_retried(server: SimulatorServer, status: int) -> None:
    server.inject(Fault(status=status, body=b'{"detail": "bad query"}'))
    client = _client()

    with pytest.raises(SourceError) as caught:
        client.get_json(f"{server.base_url}/api/0/issues/")

    assert caught.value.permanent
    assert str(caught.value) == f"Sentry answered {status}."
    assert client.requests_made == 1


@pytest.mark.parametrize(
    ("body", "content_type", "named"),
    [
        (b'{"items": [1, 2', "application/json", "malformed JSON"),
        (b"<!DOCTYPE html><html><body>Login</body></html>", "text/html", "an HTML page"),
    ],
)
def test_a_body_that_is_not_json_is_a_source_error_naming_it(
    server: SimulatorServer, body: bytes, content_type: str, named: str
) -> None:
    server.inject(Fault(status=200, body=body, content_type=content_type))

    with pytest.raises(SourceError) as caught:
        _client().get_json(f"{server.base_url}/api/0/issues/")

    assert str(caught.value) == f"Sentry answered {named} instead of JSON at {server.base_url}/api/0/issues/."


# --- pagination ------------------------------------------------------------------------------

SENTRY_LINK = (
    "<https://sentry.io/api/0/projects/gitlab/cdot/events/?query=user.id:1,2&cursor=0:0:1>; "
    'rel="previous"; results="false"; cursor="0:0:1", '
    "<https://sentry.io/api/0/projects/gitlab/cdot/events/?query=user.id:1,2&cursor=0:100:0>; "
    'rel="next"; results="true"; cursor="0:100:0"'
)


def test_a_link_header_with_commas_in_its_urls_parses() -> None:
    links = parse_link_header(SENTRY_LINK)

    assert links["next"] == {
        "url": "https://sentry.io/api/0/projects/gitlab/cdot/events/?query=user.id:1,2&cursor=0:100:0",
        "results": "true",
        "cursor": "0:100:0",
    }
    assert links["previous"]["results"] == "false"
    assert parse_link_header(None) == {}


def test_a_page_carries_its_parsed_links() -> None:
    with SimulatorServer(lambda request: _json(headers={"Link": SENTRY_LINK})) as server:
        page = _client().get_json(f"{server.base_url}/api/0/events/", {"query": "user.id:1,2"})

    assert page.links["next"]["cursor"] == "0:100:0"
    assert page.url == f"{server.base_url}/api/0/events/?query=user.id%3A1%2C2"


# --- secrets ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "secret"),
    [
        ({"headers": {"Authorization": f"Bearer {TOKEN}"}}, TOKEN),
        ({"auth": ("api", API_KEY)}, API_KEY),
    ],
    ids=["bearer", "basic"],
)
def test_the_secret_never_appears_in_debug_logs_or_error_text(
    server: SimulatorServer, caplog: pytest.LogCaptureFixture, options: dict[str, object], secret: str
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    server.inject(Fault(status=503))
    server.inject(
        Fault(status=401, body=f'{{"detail": "bad token {secret}"}}'.encode(), path_contains="/denied")
    )
    client = _client(
        explain=lambda status, body: f"Sentry answered {status}: check SENTRY_AUTH_TOKEN.", **options
    )

    client.get_json(f"{server.base_url}/ok")  # a retry, logged at INFO and DEBUG
    with pytest.raises(SourceError) as caught:
        client.get_json(f"{server.base_url}/denied")

    assert server.requests[0].headers.get("authorization")  # the secret was sent ...
    assert caplog.records  # ... the client did log ...
    assert secret not in caplog.text  # ... but never the secret
    assert secret not in str(caught.value)


# --- the environment: proxies ----------------------------------------------------------------


def _proxy_env(monkeypatch: pytest.MonkeyPatch, proxy: str, no_proxy: str = "") -> None:
    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("http_proxy", proxy)
    monkeypatch.setenv("no_proxy", no_proxy)
    monkeypatch.setenv("NO_PROXY", no_proxy)


def test_requests_go_through_the_proxy_the_environment_names(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _proxy_env(monkeypatch, server.base_url)
    client = _client()
    url = "http://sentry.example.invalid/api/0/issues/"

    first, second = client.get_json(url), client.get_json(url + "?cursor=2")

    assert first.data == PAYLOAD and second.data == PAYLOAD
    # A proxy is asked for the absolute URL, every time (the environment is read once per host).
    assert [logged.raw_path for logged in server.requests] == [url, url + "?cursor=2"]


def test_no_proxy_sends_requests_for_its_hosts_directly(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        dead_proxy = f"http://127.0.0.1:{closed.getsockname()[1]}"
    _proxy_env(monkeypatch, dead_proxy, no_proxy="127.0.0.1,localhost")

    page = _client().get_json(f"{server.base_url}/api/0/issues/")

    assert page.data == PAYLOAD
    assert [logged.raw_path for logged in server.requests] == ["/api/0/issues/"]


def test_a_netrc_entry_for_the_host_does_not_replace_the_token(
    server: SimulatorServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login someone password not-the-token\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))
    client = _client(headers={"Authorization": f"Bearer {TOKEN}"})

    client.get_json(f"{server.base_url}/api/0/issues/")

    assert server.requests[0].headers.get("authorization") == f"Bearer {TOKEN}"

"""The Sentry fault matrix, through the real command line (`python -m monitor poll sentry`).

A lasting fault ends the poll in bounded time with exit 1 (2 for a config problem) and one
sentence on stderr, commits no cursor and no partial page, and the next poll without the fault
stores exactly what an undisturbed poll stores. A passing fault is retried or waited out and
the poll completes."""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from monitor.simulators.base import Fault, Reply, Request, SimulatorServer
from monitor.simulators.sentry import start_sentry
from tests.poll.sentry_helpers import FORBIDDEN, ORG, PROJECT, TOKEN, import_customers
from tests.reliability.faults import UNDISTURBED, Case, Outcome, Source, run_matrix, stop_all
from tests.reliability.helpers import (
    BIG_ISSUE,
    BIG_ISSUE_EVENTS,
    Snapshot,
    error_lines,
    rewrite_answers,
    sentry_base_config,
    sentry_scenario,
)

BIG_EVENTS = f"/issues/{BIG_ISSUE}/events/"
PAGE = 100
HTML = b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
SENTRY_429_BODY = (
    b'"You are attempting to use this endpoint too frequently. Limit is 40 requests in 1 seconds"'
)


def _status(
    status: int, times: int = 50, path: str = "", body: bytes = b'{"detail":"Internal Error"}'
) -> Fault:
    return Fault(status, body, times=times, path_contains=path)


def _rate_limited(reset_in: float, times: int) -> Fault:
    """Sentry's 429: a JSON string body, the reset time in a header, no Retry-After."""
    headers = {
        "X-Sentry-Rate-Limit-Limit": "40",
        "X-Sentry-Rate-Limit-Remaining": "0",
        "X-Sentry-Rate-Limit-Reset": str(int(time.time() + reset_in)),
    }
    return Fault(429, SENTRY_429_BODY, headers, times=times)


def _without_link(_request: Request, reply: Reply) -> Reply:
    headers = {name: value for name, value in reply.headers.items() if name.lower() != "link"}
    return Reply(reply.status, reply.body, headers, reply.content_type)


def _garbled_link(_request: Request, reply: Reply) -> Reply:
    return Reply(
        reply.status, reply.body, {**reply.headers, "Link": "<garbage; rel=next"}, reply.content_type
    )


def _garbled_cursor(_request: Request, reply: Reply) -> Reply:
    link = re.sub(r'cursor=("?)[^>&;"]*', r"cursor=\1zz:top", reply.headers.get("Link", ""))
    return Reply(reply.status, reply.body, {**reply.headers, "Link": link}, reply.content_type)


def _link_to_itself(request: Request, reply: Reply) -> Reply:
    url = f"http://{request.header('host')}{request.raw_path}"
    link = f'<{url}>; rel="next"; results="true"; cursor="0:0:0"'
    return Reply(reply.status, reply.body, {**reply.headers, "Link": link}, reply.content_type)


def _rewrite(
    path: str, change: Callable[[Request, Reply], Reply]
) -> Callable[[SimulatorServer], Callable[[], None]]:
    return lambda server: rewrite_answers(server, path, change)


def _rate_limit_window(server: SimulatorServer) -> Callable[[], None]:
    """Sentry's own limiter: 3 requests per second, refused beyond."""
    app = server.app
    limiter = app.limiter  # type: ignore[attr-defined]
    saved = (limiter.limit, limiter.window, limiter.enforce)
    limiter.limit, limiter.window, limiter.enforce = 3, 1.0, True

    def undo() -> None:
        limiter.limit, limiter.window, limiter.enforce = saved

    return undo


LASTING = [
    *(
        Case(f"{status}", f"Sentry answered {status}", faults=lambda s=status: [_status(s)])
        for status in (500, 503, 504)
    ),
    Case("502-html-from-a-proxy", "Sentry answered 502", faults=lambda: [_status(502, body=HTML)]),
    Case("503-mid-poll", "Sentry answered 503", faults=lambda: [_status(503, path=BIG_EVENTS)]),
    Case("429", "Sentry answered 429 (rate limited)", faults=lambda: [_rate_limited(3600, 50)]),
    Case("connection-refused", "connection refused", closed_port=True),
    Case(
        "read-timeout",
        "timed out",
        faults=lambda: [Fault(delay=2.0, times=50)],
        settings={"timeout_seconds": "0.3"},
    ),
    Case("malformed-json", "malformed JSON", faults=lambda: [Fault(body=b'[{"id": "101", "title": ')]),
    Case("truncated-body", "the answer was cut off", faults=lambda: [Fault(truncate=40, times=50)]),
    Case(
        "html-instead-of-json",
        "an HTML page instead of JSON",
        faults=lambda: [Fault(body=HTML, content_type="text/html")],
    ),
    Case("401", "Sentry refused SENTRY_AUTH_TOKEN (401)", env={"SENTRY_AUTH_TOKEN": "sntryu_revoked_0000"}),
    Case("403", "lacks the event:read scope", env={"SENTRY_AUTH_TOKEN": FORBIDDEN}),
    Case(
        "404",
        "Sentry answered 404: organization 'gitlab'",
        faults=lambda: [_status(404, times=1, body=b'{"detail":"The requested resource does not exist"}')],
    ),
    Case("missing-token", "SENTRY_AUTH_TOKEN", exit_code=2, env={}),
    Case("missing-link-on-a-full-page", "without a Link header", prepare=_rewrite(BIG_EVENTS, _without_link)),
    Case("garbled-link-on-a-full-page", "without a Link header", prepare=_rewrite(BIG_EVENTS, _garbled_link)),
    Case(
        "garbled-link-cursor",
        "refused the 'cursor' parameter (400",
        prepare=_rewrite(BIG_EVENTS, _garbled_cursor),
    ),
    Case(
        "link-to-the-same-page", "points back at the same page", prepare=_rewrite(BIG_EVENTS, _link_to_itself)
    ),
]

PASSING = [
    *(
        Case(f"{status}-once", faults=lambda s=status: [_status(s, times=1)])
        for status in (500, 502, 503, 504)
    ),
    Case("503-once-mid-poll", faults=lambda: [_status(503, times=1, path=BIG_EVENTS)]),
    Case("429-then-reset", faults=lambda: [_rate_limited(1, 1)], settings={"max_wait_seconds": "5"}),
    # One reader: Sentry counts each endpoint apart, while the readers share one budget (README).
    Case(
        "rate-limit-window-used-up",
        prepare=_rate_limit_window,
        settings={"max_wait_seconds": "8", "max_concurrency": "1"},
    ),
    Case(
        "read-timeout-once",
        faults=lambda: [Fault(delay=3.0)],
        settings={"timeout_seconds": "1", "max_wait_seconds": "5"},  # room for a slow answer under load
    ),
    Case("truncated-body-once", faults=lambda: [Fault(truncate=40, path_contains=BIG_EVENTS)]),
    Case("dropped-connection-once", faults=lambda: [Fault(drop=True)]),
    Case("short-page-without-link", prepare=_rewrite("/issues/101/events/", _without_link)),
]


def _seed_db(db_path: Path) -> None:
    import_customers(db_path)


def _config(base_url: str, settings: Mapping[str, str]) -> str:
    return sentry_base_config(base_url, "".join(f"{key} = {value}\n" for key, value in settings.items()))


def _start() -> SimulatorServer:
    return start_sentry(
        sentry_scenario(), token=TOKEN, forbidden_token=FORBIDDEN, organization=ORG, project=PROJECT
    )


SENTRY = Source("sentry", _start, _config, {"SENTRY_AUTH_TOKEN": TOKEN}, _seed_db)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    results = run_matrix(SENTRY, [*LASTING, *PASSING], tmp_path_factory)
    yield results
    stop_all(results)


@pytest.fixture(scope="module")
def undisturbed(outcomes: dict[str, Outcome]) -> Snapshot:
    outcome = outcomes[UNDISTURBED.id]
    assert outcome.first is not None and outcome.first.returncode == 0, outcome.first
    assert outcome.after_first is not None
    assert len(outcome.after_first.keys("sentry")) == 7 + BIG_ISSUE_EVENTS
    return outcome.after_first


def _whole_pages(stored: Snapshot, undisturbed: Snapshot) -> bool:
    """Per issue, the events stored are all of them, none, or whole pages of 100."""
    have = Counter(row[5] for row in stored.signals)
    total = Counter(row[5] for row in undisturbed.signals)
    return all(have[issue] in (0, total[issue]) or have[issue] % PAGE == 0 for issue in have)


@pytest.mark.parametrize("case", LASTING, ids=lambda case: case.id)
def test_a_lasting_fault_fails_in_bounded_time_with_one_sentence_and_commits_nothing_half_done(
    case: Case, outcomes: dict[str, Outcome], undisturbed: Snapshot
) -> None:
    outcome = outcomes[case.id]
    run = outcome.first
    assert run is not None and outcome.after_first is not None
    assert run.elapsed < 20
    assert run.returncode == case.exit_code, run.stderr
    assert "Traceback" not in run.stderr
    (line,) = error_lines(run.stderr)
    assert case.says in line, line
    assert set(outcome.cursors_after_first) == set(case.completes)  # no cursor moved
    assert outcome.after_first.signals <= undisturbed.signals
    assert _whole_pages(outcome.after_first, undisturbed)


@pytest.mark.parametrize("case", LASTING, ids=lambda case: case.id)
def test_the_poll_after_a_lasting_fault_completes_the_data(
    case: Case, outcomes: dict[str, Outcome], undisturbed: Snapshot
) -> None:
    outcome = outcomes[case.id]
    assert outcome.second is not None and outcome.second.returncode == 0, outcome.second
    assert outcome.after_second == undisturbed


@pytest.mark.parametrize("case", PASSING, ids=lambda case: case.id)
def test_a_passing_fault_is_retried_or_waited_out_and_the_poll_completes(
    case: Case, outcomes: dict[str, Outcome], undisturbed: Snapshot
) -> None:
    outcome = outcomes[case.id]
    run = outcome.first
    assert run is not None
    assert run.returncode == 0, run.stderr
    assert run.elapsed < 20
    assert outcome.after_first == undisturbed
    assert set(outcome.cursors_after_first) == {"sentry"}


def test_a_used_up_rate_limit_window_is_waited_for_instead_of_earning_429s(
    outcomes: dict[str, Outcome],
) -> None:
    statuses = Counter(request.status for request in outcomes["rate-limit-window-used-up"].server.requests)
    assert statuses[429] == 0 and statuses[200] > 3


def test_lasting_server_errors_are_retried_before_the_poll_gives_up(outcomes: dict[str, Outcome]) -> None:
    # (A timed-out request is logged only once its late answer is written, so it is not counted here.)
    for name in ("500", "503", "504", "502-html-from-a-proxy", "truncated-body"):
        assert outcomes[name].requests_first >= 2, name
    for name in ("401", "403", "404", "malformed-json", "html-instead-of-json"):
        assert outcomes[name].requests_first == 1, name  # a permanent or garbled answer is not retried

"""The Mailgun fault matrix, through the real command line (`python -m monitor poll mailgun`).

A lasting fault ends the poll in bounded time with exit 1 (2 for a config problem) and one
sentence on stderr, moves no cursor of a part that did not complete, records no suppression as
removed, and the next poll without the fault stores exactly what an undisturbed poll stores.
A passing fault is retried or waited out and the poll completes."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest

from monitor.simulators.base import Fault, SimulatorServer
from monitor.simulators.mailgun import (
    dropped_connection,
    html_error_page,
    malformed_json,
    server_error,
    slow_answer,
    start_mailgun,
    too_many_requests,
    truncated_body,
)
from monitor.sources.mailgun_parse import CURSOR
from tests.poll.mailgun_helpers import import_customers
from tests.reliability.faults import UNDISTURBED, Case, Outcome, Source, run_matrix, stop_all
from tests.reliability.helpers import (
    MAILGUN_DOMAIN,
    MAILGUN_KEY,
    Snapshot,
    error_lines,
    mailgun_base_config,
    mailgun_scenario,
)

EVENTS = "/v1/analytics/logs"  # the Logs API, the default; every page is a POST here
BOUNCES = f"/v3/{MAILGUN_DOMAIN}/bounces"
HTML = b"<html><head><title>Maintenance</title></head><body><h1>Back soon</h1></body></html>"


def _repeating_next(server: SimulatorServer) -> Callable[[], None]:
    scenario = server.scenario  # type: ignore[attr-defined]
    scenario.repeat_next = True

    def undo() -> None:
        scenario.repeat_next = False

    return undo


def _status(status: int, body: bytes, times: int = 50) -> Callable[[], list[Fault]]:
    return lambda: [Fault(status, body, times=times)]


LASTING = [
    *(
        Case(f"{status}", f"Mailgun answered {status}", faults=lambda s=status: [server_error(s, times=50)])
        for status in (500, 503, 504)
    ),
    Case("502-html-from-a-proxy", "Mailgun answered 502", faults=lambda: [html_error_page(502, times=50)]),
    Case(
        "503-on-the-events-only",
        "Mailgun answered 503",
        faults=lambda: [server_error(503, times=50, path_contains=EVENTS)],
    ),
    Case(
        "503-mid-events",
        "Mailgun answered 503",
        faults=lambda: [server_error(503, times=50, path_contains=EVENTS, skip=1)],
    ),
    Case(
        "503-on-the-bounce-list",
        "suppression lists were not reconciled",
        faults=lambda: [server_error(503, times=50, path_contains=BOUNCES)],
        completes=(CURSOR,),
    ),
    Case(
        "429-retry-after",
        "Mailgun answered 429 (rate limited)",
        faults=lambda: [too_many_requests(retry_after=3600, times=50)],
    ),
    Case(
        "429-ratelimit-reset",
        "Mailgun answered 429 (rate limited)",
        faults=lambda: [too_many_requests(reset_at=time.time() + 3600, times=50)],
    ),
    Case("connection-refused", "connection refused", closed_port=True),
    Case(
        "read-timeout",
        "timed out",
        faults=lambda: [slow_answer(2.0, times=50)],
        settings={"timeout_seconds": "0.3"},
    ),
    Case("malformed-json", "malformed JSON", faults=lambda: [malformed_json(times=50)]),
    Case("truncated-body", "the answer was cut off", faults=lambda: [truncated_body(times=50)]),
    Case(
        "html-instead-of-json",
        "an HTML page instead of JSON",
        faults=lambda: [Fault(body=HTML, content_type="text/html", times=50)],
    ),
    Case(
        "401",
        "Mailgun answered 401 Forbidden: check MAILGUN_API_KEY",
        env={"MAILGUN_API_KEY": "key-revoked-000"},
    ),
    Case("403", "Mailgun answered 403", faults=_status(403, b'{"message":"Forbidden for this key"}')),
    Case(
        "404",
        "Mailgun does not know the domain",
        faults=_status(404, b'{"message":"Domain not found: mg.example.test"}'),
    ),
    Case("missing-key", "MAILGUN_API_KEY", exit_code=2, env={}),
    Case("next-repeats-forever", "token it had given before", prepare=_repeating_next),
]

PASSING = [
    *(Case(f"{status}-once", faults=lambda s=status: [server_error(s)]) for status in (500, 502, 503, 504)),
    Case("503-once-mid-events", faults=lambda: [server_error(503, path_contains=EVENTS, skip=1)]),
    Case(
        "429-then-retry-after",
        faults=lambda: [too_many_requests(retry_after=1)],
        settings={"max_wait_seconds": "5"},
    ),
    Case(
        "429-then-ratelimit-reset",
        faults=lambda: [too_many_requests(reset_at=time.time() + 1)],
        settings={"max_wait_seconds": "5"},
    ),
    Case(
        "read-timeout-once",
        faults=lambda: [slow_answer(3.0)],
        settings={"timeout_seconds": "1", "max_wait_seconds": "5"},  # room for a slow answer under load
    ),
    Case("truncated-body-once", faults=lambda: [truncated_body(path_contains=EVENTS, skip=1)]),
    Case("dropped-connection-once", faults=lambda: [dropped_connection()]),
]


def _config(base_url: str, settings: Mapping[str, str]) -> str:
    return mailgun_base_config(base_url, "".join(f"{key} = {value}\n" for key, value in settings.items()))


def _start() -> SimulatorServer:
    # Two events pages and a short bounce list: the faults hit pages, not volume (the crash tests do).
    scenario = mailgun_scenario(STARTED, failures=320, bounces=60)
    return start_mailgun(scenario, api_key=MAILGUN_KEY, domain=MAILGUN_DOMAIN)


def _seed_db(db_path: Path) -> None:
    import_customers(db_path)


STARTED = time.time()  # every case's scenario is built around the same moment: the same data
MAILGUN = Source("mailgun", _start, _config, {"MAILGUN_API_KEY": MAILGUN_KEY}, _seed_db)


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Outcome]]:
    results = run_matrix(MAILGUN, [*LASTING, *PASSING], tmp_path_factory)
    yield results
    stop_all(results)


@pytest.fixture(scope="module")
def undisturbed(outcomes: dict[str, Outcome]) -> Snapshot:
    outcome = outcomes[UNDISTURBED.id]
    assert outcome.first is not None and outcome.first.returncode == 0, outcome.first
    assert outcome.after_first is not None
    categories = Counter(row[2] for row in outcome.after_first.signals)
    assert categories["bounce"] > 60 and categories["failed_delivery"] > 0, categories
    assert categories["complaint"] == categories["unsubscribe"] == 1
    return outcome.after_first


def _promoted_later(row: tuple[object, ...], undisturbed: Snapshot) -> bool:
    """A permanent failure stored before its address was known to be on the bounce list (the
    list was not read): the next complete reconcile turns it into that bounce."""
    key = str(row[1])
    return key.startswith("failed_delivery:") and "bounce" + key[
        len("failed_delivery") :
    ] in undisturbed.keys("mailgun")


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
    assert set(outcome.cursors_after_first) == set(case.completes)
    extra = outcome.after_first.signals - undisturbed.signals
    assert all(_promoted_later(row, undisturbed) for row in extra), extra
    assert outcome.after_first.suppressions <= undisturbed.suppressions  # nothing recorded as removed


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
    assert set(outcome.cursors_after_first) == {CURSOR}


def test_lasting_server_errors_are_retried_and_refusals_are_not(outcomes: dict[str, Outcome]) -> None:
    for name in ("500", "503", "504", "502-html-from-a-proxy", "truncated-body"):
        assert outcomes[name].requests_first >= 2, name
    for name in ("401", "403", "404"):
        # A refusal is permanent: one request for the lists, one for the events, no retry.
        assert outcomes[name].requests_first == 2, name

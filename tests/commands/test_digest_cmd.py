"""`monitor digest` and the digest job: formats and files, once-only delivery over a real
SMTP server, failures that record nothing, crashed and concurrent senders, skip_empty,
late signals and retention after a send."""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.commands.digest_cmd import _check_day
from monitor.config.context import AppContext
from monitor.config.load import Secrets
from monitor.core.errors import InputError, LockedError
from monitor.core.timeutil import to_db
from monitor.digest.job import build_day, deliver_day, digest_job, send_day
from monitor.runner.jobs import run_job
from monitor.store import write_tx
from monitor.store.runs import record_finish, record_start
from tests.digest_helpers import (
    CONFIG,
    DAY,
    NOON,
    NOW,
    Sink,
    free_port,
    new_db,
    save,
    seed_day,
    sentry,
    smtp_server,
    write_settings,
)
from tests.paths import ROOT

RECIPIENTS = {"support@example.com", "billing@example.com"}


def smtp_config(folder: Path, port: int, extra: str = "") -> Path:
    base = CONFIG.replace('transport = "file"', 'transport = "smtp"')
    write_settings(
        folder, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntimeout_seconds = 5\n{extra}', base=base
    )
    return folder / "schedules.toml"


def seeded(folder: Path, extra: str = "", base: str = CONFIG) -> Path:
    settings = write_settings(folder, extra, base=base)
    seed_day(new_db(settings))
    return folder / "schedules.toml"


def app_for(config: Path) -> AppContext:
    return AppContext(config_path=config, _secrets=Secrets())


def sends(config: Path) -> list[tuple[str, str, str]]:
    db = new_db(app_for(config).settings())
    return [
        tuple(r)
        for r in db.execute("SELECT recipient, status, message_id FROM digest_sends ORDER BY recipient")
    ]


def digest(runner: CliRunner, config: Path, *args: str) -> Result:
    return runner.invoke(main, ["--config", str(config), "digest", "--date", "2026-11-23", *args])


def test_each_format_goes_to_standard_output(tmp_path: Path, runner: CliRunner) -> None:
    config = seeded(tmp_path)
    as_json = digest(runner, config, "--format", "json")
    assert as_json.exit_code == 0, as_json.output
    assert [c["customer_id"] for c in json.loads(as_json.stdout)["customers"]] == ["48213", "48214", "48215"]
    assert "CUSTOMERSDOT MONITOR" in digest(runner, config).stdout  # text by default
    assert digest(runner, config, "--format", "html").stdout.startswith("<!DOCTYPE html>")
    eml = message_from_bytes(digest(runner, config, "--format", "eml").stdout_bytes, policy=policy.default)
    assert eml.get_content_type() == "multipart/alternative"


def test_out_writes_an_owner_only_file_in_the_format_its_suffix_names(
    tmp_path: Path, runner: CliRunner
) -> None:
    config = seeded(tmp_path)
    result = digest(runner, config, "--out", str(tmp_path / "d.html"))
    assert result.exit_code == 0 and result.stdout == ""
    written = tmp_path / "d.html"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert written.read_text().startswith("<!DOCTYPE html>")
    folder = tmp_path / "reports"
    folder.mkdir()
    assert digest(runner, config, "--format", "json", "--out", str(folder)).exit_code == 0
    assert json.loads((folder / "digest-2026-11-23.json").read_text())["date"] == "2026-11-23"
    assert sends(config) == []  # writing is not sending


def test_a_bad_date_is_bad_usage(tmp_path: Path, runner: CliRunner) -> None:
    result = digest(runner, seeded(tmp_path), "--date", "2026-13-45")
    assert result.exit_code == 2
    assert "is not a date like 2026-11-23" in result.output


def test_regenerating_a_day_gives_byte_identical_json_and_html(tmp_path: Path, runner: CliRunner) -> None:
    config = seeded(tmp_path)
    for fmt in ("json", "html"):
        first, second = digest(runner, config, "--format", fmt), digest(runner, config, "--format", fmt)
        assert first.exit_code == 0 and first.stdout_bytes == second.stdout_bytes


def test_send_delivers_one_message_per_recipient_refuses_a_second_send_and_resends_on_request(
    tmp_path: Path, runner: CliRunner
) -> None:
    with smtp_server() as (controller, sink):
        config = smtp_config(tmp_path, controller.port)
        seed_day(new_db(app_for(config).settings()))
        first = digest(runner, config, "--send")
        assert first.exit_code == 0, first.output
        assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)
        assert {status for _r, status, _m in sends(config)} == {"sent"}

        second = digest(runner, config, "--send")
        assert second.exit_code == 1
        assert "The digest of 2026-11-23 was already sent to" in second.stderr and "--resend" in second.stderr
        assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)

        again = digest(runner, config, "--resend")
        assert again.exit_code == 0, again.output
        assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 2)
    ids = [message_from_bytes(m["data"], policy=policy.default)["Message-ID"] for m in sink.received]
    assert ids[0] != ids[1]  # a resend is a new message, so mail clients show it


def test_smtp_down_exits_1_and_records_nothing_then_up_sends_once(tmp_path: Path, runner: CliRunner) -> None:
    port = free_port()
    config = smtp_config(tmp_path, port)
    seed_day(new_db(app_for(config).settings()))
    down = digest(runner, config, "--send")
    assert down.exit_code == 1
    assert f"The SMTP server 127.0.0.1:{port} refused the connection." in down.stderr
    assert "Nothing was recorded as sent." in down.stderr
    assert sends(config) == []
    with smtp_server(port) as (_controller, sink):
        assert digest(runner, config, "--send").exit_code == 0
        assert digest(runner, config, "--send").exit_code == 1
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)


def test_a_refused_smtp_login_exits_1_and_records_nothing(
    tmp_path: Path, runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.digest.test_delivery import _authenticator

    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    with smtp_server(authenticator=_authenticator("monitor", "s3cret"), auth_require_tls=False) as (
        controller,
        sink,
    ):
        config = smtp_config(tmp_path, controller.port, 'username = "monitor"')
        result = digest(runner, config, "--send")
    assert result.exit_code == 1
    assert "rejected the login for user monitor (check SMTP_PASSWORD)" in result.stderr
    assert "wrong" not in result.output
    assert sends(config) == [] and sink.received == []


def test_two_concurrent_processes_never_both_send(tmp_path: Path) -> None:
    with smtp_server(sink=Sink(delay=0.5)) as (controller, sink):
        config = smtp_config(tmp_path, controller.port)
        seed_day(new_db(app_for(config).settings()))
        command = [
            sys.executable,
            "-m",
            "monitor",
            "--config",
            str(config),
            "digest",
            "--date",
            "2026-11-23",
            "--send",
        ]
        env = {k: v for k, v in os.environ.items() if not k.startswith("SMTP")}
        processes = [subprocess.Popen(command, cwd=ROOT, env=env, stderr=subprocess.PIPE) for _ in range(2)]
        outcomes = sorted(
            (p.wait(timeout=60), p.stderr.read().decode() if p.stderr else "") for p in processes
        )
    assert [code for code, _err in outcomes] == [0, 1], outcomes
    assert "already sent" in outcomes[1][1] or "is sending the digest" in outcomes[1][1]
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)


def _dead_pid() -> int:
    """The id of a process that has exited (and been reaped)."""
    probe = subprocess.Popen([sys.executable, "-c", "pass"])
    probe.wait()
    return probe.pid


def _claim(config: Path, recipient: str, claimed_by: str, message_id: str = "<crashed@example.com>") -> None:
    db = new_db(app_for(config).settings())
    with write_tx(db) as conn:
        conn.execute(
            "INSERT INTO digest_sends VALUES ('2026-11-23', ?, ?, 'sending', ?, ?, NULL, 'smtp')",
            (recipient, message_id, to_db(datetime.now(UTC)), claimed_by),
        )


def test_a_claim_left_by_a_crashed_sender_is_resent_with_the_same_message_id(
    tmp_path: Path, runner: CliRunner
) -> None:
    with smtp_server() as (controller, sink):
        config = smtp_config(tmp_path, controller.port)
        seed_day(new_db(app_for(config).settings()))
        _claim(config, "support@example.com", f"{socket.gethostname()}:{_dead_pid()}")
        result = digest(runner, config, "--send")
    assert result.exit_code == 0, result.output
    assert "support@example.com may get it twice" in result.stderr
    by_id = {
        message_from_bytes(m["data"], policy=policy.default)["Message-ID"]: sorted(m["to"])
        for m in sink.received
    }
    assert by_id["<crashed@example.com>"] == ["support@example.com"]
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)


def test_a_claim_held_by_a_live_process_is_refused(tmp_path: Path, runner: CliRunner) -> None:
    config = seeded(tmp_path)
    _claim(config, "billing@example.com", f"{socket.gethostname()}:{os.getpid()}")
    with pytest.raises(LockedError, match=r"is sending the digest of 2026-11-23 to billing@example\.com"):
        deliver_day(app_for(config), DAY, datetime.now(UTC))
    result = digest(runner, config, "--send")
    assert result.exit_code == 1 and "let it finish" in result.stderr
    assert not (tmp_path / "out").exists()  # nobody got it: not even the unclaimed recipient


def test_send_day_calls_a_day_already_sent_ok_and_the_job_sends_yesterday(tmp_path: Path) -> None:
    app = app_for(seeded(tmp_path))
    result = digest_job(app, NOW)  # yesterday of 2026-11-24 08:00 UTC in Amsterdam is 2026-11-23
    assert result.ok and result.counts["sent"] == 2, result.summary
    eml = tmp_path / "out" / "digest-2026-11-23.eml"
    assert stat.S_IMODE(eml.stat().st_mode) == 0o600
    again = send_day(app, DAY, NOW)
    assert again.ok and again.summary.startswith("already sent") and again.counts["sent"] == 0
    recorded = run_job(app, "digest", NOW)
    assert recorded.ok and "already sent" in recorded.summary


def test_skip_empty_sends_nothing_on_a_quiet_day_but_still_reports_a_failing_source(tmp_path: Path) -> None:
    app = app_for(
        seeded(tmp_path, "", base=CONFIG.replace('out_dir = "out"', 'out_dir = "out"\nskip_empty = true'))
    )
    db = app.db()
    for job in ("poll-sentry", "poll-mailgun"):
        record_finish(
            db, record_start(db, job, NOW - timedelta(minutes=2)), NOW - timedelta(minutes=1), ok=True
        )
    quiet = send_day(app, date(2026, 11, 10), NOW)
    assert quiet.ok and quiet.counts["sent"] == 0 and "skip_empty" in quiet.summary
    assert not (tmp_path / "out" / "digest-2026-11-10.eml").exists()
    record_finish(db, record_start(db, "poll-mailgun", NOW), NOW, ok=False, error="Mailgun answered 401")
    told = send_day(app, date(2026, 11, 10), NOW)
    assert told.ok and told.counts["sent"] == 2
    text = (tmp_path / "out" / "digest-2026-11-10.eml").read_bytes()
    assert b"Mailgun answered 401" in text


def test_a_signal_stored_after_its_days_digest_went_out_is_late_in_the_next_digest_only(
    tmp_path: Path,
) -> None:
    app = app_for(seeded(tmp_path))
    assert send_day(app, DAY, NOW).ok
    save(
        app.db(), sentry("straggler", NOON, customer_ref="48214", group="4199"), now=NOW + timedelta(hours=1)
    )
    late = {day: build_day(app, day, NOW)["late"] for day in (DAY, date(2026, 11, 24), date(2026, 11, 25))}
    assert late[DAY] == [] and late[date(2026, 11, 25)] == []
    (line,) = late[date(2026, 11, 24)]
    assert (line["day"], line["customer_id"], line["count"]) == ("2026-11-23", "48214", 1)


def test_a_failed_resend_keeps_the_record_of_the_first_send(tmp_path: Path, runner: CliRunner) -> None:
    port = free_port()
    config = smtp_config(tmp_path, port)
    seed_day(new_db(app_for(config).settings()))
    with smtp_server(port):
        assert digest(runner, config, "--send").exit_code == 0
    assert digest(runner, config, "--resend").exit_code == 1  # the server is gone now
    assert {status for _r, status, _m in sends(config)} == {"sent"}
    assert digest(runner, config, "--send").exit_code == 1  # still refused: it was sent


def test_retention_purges_old_signals_after_a_successful_send(tmp_path: Path) -> None:
    # The default retention of 90 days, not the shared config's long one (see CONFIG).
    app = app_for(seeded(tmp_path, base=CONFIG.replace("retention_days = 36500", "")))
    save(
        app.db(),
        sentry("ancient", NOW - timedelta(days=200), customer_ref="48213"),
        now=NOW - timedelta(days=200),
    )
    assert send_day(app, DAY, NOW).ok
    keys = {row[0] for row in app.db().execute("SELECT key FROM signals")}
    assert "ancient" not in keys and "e1" in keys


@pytest.mark.parametrize(
    ("days_back", "refused"), [(-1, "in the future"), (0, None), (89, None), (90, "older than the 90 days")]
)
def test_a_date_is_refused_when_part_of_it_may_be_purged_or_it_has_not_happened(
    days_back: int, refused: str | None
) -> None:
    """Retention purges what is older than now - 90 days: the day 90 days back is partly gone."""
    today = date(2026, 3, 1)  # after February, across no DST change: the arithmetic is by date
    day = today - timedelta(days=days_back)
    if refused is None:
        _check_day(day, today, 90)
    else:
        with pytest.raises(InputError, match=refused):
            _check_day(day, today, 90)

"""The digest goes out exactly once per day and recipient, against a real SMTP server (aiosmtpd)
and real `monitor digest --send` processes: when SMTP is down or refuses the login, when the
sender is killed before the server accepted the message, and when several senders run at
once. The one documented exception: killed after the server accepted but before the record,
the sender's successor sends it again, with the same Message-ID."""

from __future__ import annotations

import asyncio
import subprocess
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

from click.testing import CliRunner, Result

from monitor.cli import main
from monitor.core.timeutil import to_db
from monitor.store import open_db, write_tx
from tests.digest.test_delivery import _authenticator
from tests.digest_helpers import CONFIG, Sink, free_port, new_db, seed_day, smtp_server, write_settings
from tests.reliability.helpers import kill, run_monitor, start_monitor

DAY = "2026-11-23"
RECIPIENTS = {"support@example.com", "billing@example.com"}
STALL = 8.0  # seconds a stalled server holds its answer: longer than the test waits, shorter than the timeout


@dataclass
class Stalling(Sink):
    """A sink that holds one answer, once: DATA before accepting (the message is not taken),
    or QUIT after accepting (the message is taken, the sender never hears the goodbye)."""

    stall_data: bool = False
    stall_quit: bool = False
    reached: threading.Event = field(default_factory=threading.Event)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_data:
            self.stall_data = False
            self.reached.set()
            await asyncio.sleep(STALL)
            return "451 Too late"  # nobody is listening any more
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server: Any, session: Any, envelope: Any) -> str:
        if self.stall_quit:
            self.stall_quit = False
            self.reached.set()
            await asyncio.sleep(STALL)
        return "221 Bye"

    def message_ids(self) -> set[str]:
        return {
            str(message_from_bytes(m["data"], policy=policy.default)["Message-ID"]) for m in self.received
        }


def _config(folder: Path, port: int, extra: str = "") -> Path:
    base = CONFIG.replace('transport = "file"', 'transport = "smtp"')
    settings = write_settings(
        folder, f'[smtp]\nhost = "127.0.0.1"\nport = {port}\ntimeout_seconds = 20\n{extra}', base=base
    )
    seed_day(new_db(settings))
    return folder / "schedules.toml"


def _sends(config: Path) -> list[tuple[str, str, str, str]]:
    db = open_db(config.parent / "monitor.db")
    try:
        rows = db.execute(
            "SELECT recipient, status, message_id, claimed_by FROM digest_sends"
            " WHERE day = ? ORDER BY recipient",
            [DAY],
        ).fetchall()
    finally:
        db.close()
    return [tuple(row) for row in rows]


def _send_in_process(config: Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, ["--config", str(config), "digest", "--date", DAY, "--send"], env=env)


def _send(config: Path) -> Any:
    return run_monitor(config, "digest", "--date", DAY, "--send")


def test_smtp_down_sends_nothing_records_nothing_and_the_next_send_delivers_once(tmp_path: Path) -> None:
    port = free_port()
    config = _config(tmp_path, port)
    down = _send_in_process(config)
    assert down.exit_code == 1 and "refused the connection" in down.stderr and "Traceback" not in down.output
    assert _sends(config) == []
    with smtp_server(port) as (_controller, sink):
        assert _send_in_process(config).exit_code == 0
        again = _send_in_process(config)
    assert again.exit_code == 1 and "already sent" in again.stderr
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)


def test_a_refused_smtp_login_sends_nothing_and_the_fixed_password_delivers_once(tmp_path: Path) -> None:
    with smtp_server(authenticator=_authenticator("monitor", "right"), auth_require_tls=False) as (
        controller,
        sink,
    ):
        config = _config(tmp_path, controller.port, 'username = "monitor"')
        refused = _send_in_process(config, {"SMTP_PASSWORD": "wrong"})
        assert refused.exit_code == 1 and "rejected the login for user monitor" in refused.stderr
        assert _sends(config) == [] and sink.received == []
        assert _send_in_process(config, {"SMTP_PASSWORD": "right"}).exit_code == 0
        assert _send_in_process(config, {"SMTP_PASSWORD": "right"}).exit_code == 1
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)


def _killed_while_stalled(config: Path, sink: Stalling) -> subprocess.Popen[str]:
    process = start_monitor(config, "digest", "--date", DAY, "--send")
    assert sink.reached.wait(20), "the sender never reached the stalled answer"
    kill(process)
    return process


def test_a_sender_killed_before_the_server_accepted_is_completed_once_by_the_next_send(
    tmp_path: Path,
) -> None:
    sink = Stalling(stall_data=True)
    with smtp_server(sink=sink) as (controller, _sink):
        config = _config(tmp_path, controller.port)
        dead = _killed_while_stalled(config, sink)
        claims = _sends(config)
        assert {(r, status) for r, status, _m, _by in claims} == {(r, "sending") for r in RECIPIENTS}
        assert all(by.endswith(f":{dead.pid}") for *_rest, by in claims)  # left by the dead process
        assert sink.received == []
        completed = _send(config)
        assert completed.returncode == 0, completed.stderr
        refused = _send(config)
    assert refused.returncode == 1 and "already sent" in refused.stderr
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)
    assert sink.message_ids() == {claims[0][2]}  # the claim's Message-ID
    assert {status for _r, status, _m, _by in _sends(config)} == {"sent"}


def test_a_sender_killed_after_the_server_accepted_may_duplicate_once_with_the_same_message_id(
    tmp_path: Path,
) -> None:
    sink = Stalling(stall_quit=True)
    with smtp_server(sink=sink) as (controller, _sink):
        config = _config(tmp_path, controller.port)
        _killed_while_stalled(config, sink)
        assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)  # accepted, but not recorded
        resent = _send(config)
        assert resent.returncode == 0, resent.stderr
        assert "may get it twice" in resent.stderr
        refused = _send(config)
    assert refused.returncode == 1
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 2)  # the documented duplicate, no third copy
    assert len(sink.message_ids()) == 1  # ... carrying the same Message-ID, so mail clients show one


def _claim(config: Path, recipient: str, claimed_by: str, claimed_at: datetime) -> None:
    db = open_db(config.parent / "monitor.db")
    try:
        with write_tx(db) as conn:
            conn.execute(
                "INSERT INTO digest_sends VALUES"
                " (?, ?, '<digest-crashed@example.com>', 'sending', ?, ?, NULL, 'smtp')",
                (DAY, recipient, to_db(claimed_at), claimed_by),
            )
    finally:
        db.close()


def test_a_claim_of_another_host_is_respected_for_an_hour_then_taken_over(tmp_path: Path) -> None:
    with smtp_server() as (controller, sink):
        config = _config(tmp_path, controller.port)
        now = datetime.now(UTC)
        _claim(config, "support@example.com", "other-host.example:4242", now - timedelta(minutes=5))
        busy = _send_in_process(config)
        assert (
            busy.exit_code == 1
            and "other-host.example:4242" in busy.stderr
            and "let it finish" in busy.stderr
        )
        assert sink.received == []
        db = open_db(config.parent / "monitor.db")
        with write_tx(db) as conn:  # the other host never came back
            conn.execute("UPDATE digest_sends SET claimed_at = ?", (to_db(now - timedelta(hours=2)),))
        db.close()
        assert _send_in_process(config).exit_code == 0
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)
    by_recipient = {
        tuple(m["to"]): str(message_from_bytes(m["data"], policy=policy.default)["Message-ID"])
        for m in sink.received
    }
    assert by_recipient[("support@example.com",)] == "<digest-crashed@example.com>"


def test_three_senders_at_once_deliver_one_message_per_recipient(tmp_path: Path) -> None:
    with smtp_server(sink=Sink(delay=0.4)) as (controller, sink):
        config = _config(tmp_path, controller.port)
        processes = [start_monitor(config, "digest", "--date", DAY, "--send") for _ in range(3)]
        outcomes = sorted((p.wait(timeout=60), p.communicate()[1]) for p in processes)
    assert [code for code, _err in outcomes] == [0, 1, 1], outcomes
    for _code, err in outcomes[1:]:
        assert "already sent" in err or "is sending the digest" in err
    assert sink.per_recipient() == dict.fromkeys(RECIPIENTS, 1)

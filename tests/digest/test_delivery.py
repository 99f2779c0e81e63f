"""The transports against real servers on loopback: aiosmtpd (plain, STARTTLS, implicit TLS,
login), a Mailgun send endpoint, and the file transport."""

from __future__ import annotations

import ssl
import stat
from collections.abc import Iterator
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword

from monitor.core.errors import DeliveryError
from monitor.digest.delivery import FileTransport, MailgunTransport, SmtpTransport
from monitor.simulators.base import Reply, Request, SimulatorServer
from tests.digest_helpers import Sink, free_port, self_signed_cert, smtp_server

RECIPIENTS = ["support@example.com", "billing@example.com"]


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "Monitor <monitor@example.com>"
    msg["To"] = ", ".join(RECIPIENTS)
    msg["Subject"] = "CustomersDot monitor: 1 customer affected on 2026-11-23"
    msg["Message-ID"] = "<digest-2026-11-23-0123456789abcdef@example.com>"
    msg["X-Digest-Date"] = "2026-11-23"
    msg.set_content("text")
    msg.add_alternative("<p>html</p>", subtype="html")
    return msg


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting only this test's self-signed certificate)."""
    cert, key = self_signed_cert(tmp_path_factory.mktemp("tls"))
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


def test_smtp_without_tls_delivers_one_message_to_every_recipient() -> None:
    with smtp_server() as (controller, sink):
        refused = SmtpTransport("127.0.0.1", controller.port).send(message(), RECIPIENTS)
    assert refused == {}
    assert sink.per_recipient() == {r: 1 for r in RECIPIENTS}
    assert sink.received[0]["from"] == "monitor@example.com"
    parsed = message_from_bytes(sink.received[0]["data"], policy=policy.default)
    assert parsed["Message-ID"] == "<digest-2026-11-23-0123456789abcdef@example.com>"


def test_smtp_with_starttls_delivers_over_an_encrypted_connection(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server, client = tls
    seen: list[bool] = []

    class TlsSink(Sink):
        async def handle_DATA(self, smtp: Any, session: Any, envelope: Any) -> str:
            seen.append(session.ssl is not None)
            return await super().handle_DATA(smtp, session, envelope)

    with smtp_server(sink=TlsSink(), tls_context=server, require_starttls=True) as (controller, sink):
        SmtpTransport("localhost", controller.port, "starttls", ssl_context=client).send(
            message(), RECIPIENTS
        )
    assert seen == [True]
    assert sink.per_recipient() == {r: 1 for r in RECIPIENTS}


def test_smtp_with_starttls_refuses_a_certificate_it_does_not_trust(
    tls: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server, _client = tls
    failed = pytest.raises(DeliveryError, match=r"TLS handshake with the SMTP server localhost:\d+ failed")
    with smtp_server(tls_context=server, require_starttls=True) as (controller, sink), failed:
        SmtpTransport("localhost", controller.port, "starttls").send(message(), RECIPIENTS)
    assert sink.received == []


def test_smtp_with_implicit_tls_delivers(tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> None:
    server, client = tls
    with smtp_server(ssl_context=server) as (controller, sink):
        SmtpTransport("localhost", controller.port, "tls", ssl_context=client).send(message(), RECIPIENTS)
    assert sink.per_recipient() == {r: 1 for r in RECIPIENTS}


def _authenticator(user: str, password: str) -> Any:
    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login, data.password) == (
            user.encode(),
            password.encode(),
        )
        return AuthResult(success=ok, handled=False)

    return check


@pytest.fixture
def auth_server() -> Iterator[tuple[int, Sink]]:
    with smtp_server(authenticator=_authenticator("monitor", "s3cret"), auth_require_tls=False) as (
        controller,
        sink,
    ):
        yield controller.port, sink


def test_smtp_logs_in_when_a_username_is_set(auth_server: tuple[int, Sink]) -> None:
    port, sink = auth_server
    SmtpTransport("127.0.0.1", port, username="monitor", password="s3cret").send(message(), RECIPIENTS)
    assert sink.per_recipient() == {r: 1 for r in RECIPIENTS}


def test_a_refused_login_names_the_user_and_the_secret_to_check(auth_server: tuple[int, Sink]) -> None:
    port, sink = auth_server
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport("127.0.0.1", port, username="monitor", password="wrong").send(message(), RECIPIENTS)
    assert str(caught.value) == (
        f"The SMTP server 127.0.0.1:{port} rejected the login for user monitor (check SMTP_PASSWORD)."
    )
    assert "wrong" not in str(caught.value)
    assert sink.received == []


def test_a_closed_port_is_a_refused_connection() -> None:
    port = free_port()
    with pytest.raises(DeliveryError) as caught:
        SmtpTransport("127.0.0.1", port, timeout=5).send(message(), RECIPIENTS)
    assert str(caught.value) == f"The SMTP server 127.0.0.1:{port} refused the connection."


def test_recipients_the_server_refuses_are_returned_and_the_others_get_it() -> None:
    class Picky(Sink):
        async def handle_RCPT(
            self, server: Any, session: Any, envelope: Any, address: str, options: Any
        ) -> str:
            if address.startswith("billing"):
                return "550 5.1.1 no such mailbox"
            envelope.rcpt_tos.append(address)
            return "250 OK"

    with smtp_server(sink=Picky()) as (controller, sink):
        refused = SmtpTransport("127.0.0.1", controller.port).send(message(), RECIPIENTS)
    assert refused == {"billing@example.com": "550 5.1.1 no such mailbox"}
    assert sink.per_recipient() == {"support@example.com": 1}


def mailgun_app(received: list[Request], status: int = 200) -> Any:
    def app(request: Request) -> Reply:
        received.append(request)
        if status != 200:
            return Reply(status, b'{"message": "Invalid private key"}')
        return Reply(200, b'{"id": "<20261124.1@customers.gitlab.com>", "message": "Queued. Thank you."}')

    return app


def test_mailgun_posts_the_same_mime_message_once() -> None:
    received: list[Request] = []
    with SimulatorServer(mailgun_app(received)) as server:
        MailgunTransport(server.base_url, "customers.gitlab.com", "key-123").send(message(), RECIPIENTS)
    (request,) = received
    assert (request.method, request.path) == ("POST", "/v3/customers.gitlab.com/messages.mime")
    assert request.header("Authorization") == "Basic YXBpOmtleS0xMjM="  # api:key-123
    assert b"support@example.com,billing@example.com" in request.body
    assert b"<digest-2026-11-23-0123456789abcdef@example.com>" in request.body


def test_a_mailgun_error_is_a_delivery_error_and_is_never_retried() -> None:
    received: list[Request] = []
    failed = pytest.raises(DeliveryError, match="check MAILGUN_API_KEY")
    with SimulatorServer(mailgun_app(received, status=401)) as server, failed:
        MailgunTransport(server.base_url, "customers.gitlab.com", "bad").send(message(), RECIPIENTS)
    assert len(received) == 1


def test_the_file_transport_writes_an_owner_only_eml(tmp_path: Path) -> None:
    FileTransport(tmp_path / "out").send(message(), RECIPIENTS)
    written = tmp_path / "out" / "digest-2026-11-23.eml"
    assert stat.S_IMODE(written.stat().st_mode) == 0o600
    assert message_from_bytes(written.read_bytes(), policy=policy.default)["X-Digest-Date"] == "2026-11-23"

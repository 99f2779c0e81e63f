"""Delivering the digest: SMTP (none, STARTTLS, implicit TLS, optional login), Mailgun's send
API, or a file in `out_dir`. Every failure becomes a DeliveryError whose text names the fix.

A transport delivers one message to a list of recipients and returns the recipients the
server refused (an SMTP server may accept some and refuse others); anything else raises."""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Protocol

from monitor.config.load import Secrets
from monitor.config.settings import Settings
from monitor.core.errors import ConfigError, DeliveryError, SourceError
from monitor.sources.http import HttpClient, RetryPolicy


class Transport(Protocol):
    name: str

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        """Deliver; return {refused recipient: the server's reason}. Raises DeliveryError."""
        ...


@dataclass
class SmtpTransport:
    host: str
    port: int
    security: str = "none"  # none | starttls | tls
    username: str = ""
    password: str = ""
    timeout: float = 30.0
    ssl_context: ssl.SSLContext | None = None  # tests trust their own certificate through this
    name: str = "smtp"

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        sender = parseaddr(str(message["From"]))[1]
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                refused = smtp.send_message(message, from_addr=sender, to_addrs=list(recipients))
        except smtplib.SMTPRecipientsRefused as err:
            reasons = {r: _reason(code, text) for r, (code, text) in err.recipients.items()}
            raise DeliveryError(
                f"The SMTP server {self.where} refused every recipient: {listing(reasons)}."
            ) from None
        except smtplib.SMTPException as err:
            raise DeliveryError(self._explain(err)) from None
        except ssl.SSLError as err:
            raise DeliveryError(
                f"The TLS handshake with the SMTP server {self.where} failed ({err.reason or err}); "
                "check smtp.security and the server's certificate."
            ) from None
        except TimeoutError:
            raise DeliveryError(
                f"The SMTP server {self.where} did not answer within {self.timeout:.0f} s."
            ) from None
        except ConnectionRefusedError:
            raise DeliveryError(f"The SMTP server {self.where} refused the connection.") from None
        except OSError as err:
            raise DeliveryError(
                f"The SMTP server {self.where} could not be reached ({err.strerror or err}); check smtp.host."
            ) from None
        return {r: _reason(code, text) for r, (code, text) in refused.items()}

    def _connect(self) -> smtplib.SMTP:
        context = self.ssl_context or ssl.create_default_context()
        if self.security == "tls":
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            if self.security == "starttls":
                smtp.ehlo()
                smtp.starttls(context=context)
                smtp.ehlo()
        except BaseException:
            smtp.close()
            raise
        return smtp

    def _explain(self, err: smtplib.SMTPException) -> str:
        if isinstance(err, smtplib.SMTPAuthenticationError):
            return (
                f"The SMTP server {self.where} rejected the login for user {self.username} "
                "(check SMTP_PASSWORD)."
            )
        if isinstance(err, smtplib.SMTPNotSupportedError):
            what = "STARTTLS" if self.security == "starttls" else "login"
            return (
                f"The SMTP server {self.where} does not offer {what}; check smtp.security and smtp.username."
            )
        if isinstance(err, smtplib.SMTPServerDisconnected):
            return f"The SMTP server {self.where} closed the connection ({err or 'no answer'})."
        if isinstance(err, smtplib.SMTPResponseException):
            return f"The SMTP server {self.where} answered {_reason(err.smtp_code, err.smtp_error)}."
        return f"The SMTP server {self.where} failed: {err}."


@dataclass
class MailgunTransport:
    """`POST /v3/{domain}/messages.mime` with the very same MIME message; never retried, since
    a blind retry of a send could deliver it twice."""

    base_url: str
    domain: str
    api_key: str
    timeout: float = 30.0
    name: str = "mailgun"

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        client = HttpClient(
            "Mailgun",
            auth=("api", self.api_key),
            policy=RetryPolicy(attempts=1, timeout=self.timeout),
            explain=self._explain,
        )
        url = f"{self.base_url}/v3/{self.domain}/messages.mime"
        try:
            client.request(
                "POST",
                url,
                data={"to": ",".join(recipients)},
                files={"message": ("digest.eml", message.as_bytes(), "message/rfc822")},
            )
        except SourceError as err:
            raise DeliveryError(str(err)) from None
        finally:
            client.close()
        return {}

    def _explain(self, status: int, body: str) -> str:
        if status == 401:
            return "Mailgun answered 401 to the send: check MAILGUN_API_KEY."
        if status in (403, 404):
            return (
                f"Mailgun answered {status}: the domain {self.domain} cannot send with this key "
                f"({body.strip()[:200]}); check mailgun.domain and the key's rights."
            )
        return f"Mailgun answered {status} to the send ({body.strip()[:200]})."


@dataclass
class FileTransport:
    """Writes `<out_dir>/digest-<day>.eml` (0600): for a relay that picks files up, or a test."""

    out_dir: Path
    name: str = "file"

    def send(self, message: EmailMessage, recipients: Sequence[str]) -> dict[str, str]:
        day = str(message["X-Digest-Date"] or "undated")
        try:
            write_private(self.out_dir / f"digest-{day}.eml", message.as_bytes())
        except OSError as err:
            raise DeliveryError(f"Cannot write the digest into {self.out_dir} ({err.strerror}).") from None
        return {}


def write_private(path: Path, data: bytes) -> None:
    """Write `data` to `path` with mode 0600, replacing it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def transport_for(
    settings: Settings, secrets: Secrets, *, ssl_context: ssl.SSLContext | None = None
) -> Transport:
    """The configured transport, with the one secret it needs (ConfigError when missing)."""
    kind = settings.digest.transport
    if kind == "file":
        return FileTransport(settings.digest.out_dir)
    if kind == "mailgun":
        if settings.mailgun is None or secrets.mailgun_key is None:
            raise ConfigError(["secrets.MAILGUN_API_KEY: digest.transport 'mailgun' needs MAILGUN_API_KEY"])
        return MailgunTransport(
            settings.mailgun.base_url, settings.mailgun.domain, secrets.mailgun_key.reveal()
        )
    smtp = settings.smtp
    password = ""
    if smtp.username:
        if secrets.smtp_password is None:
            raise ConfigError(["secrets.SMTP_PASSWORD: smtp.username is set, so SMTP_PASSWORD is needed"])
        password = secrets.smtp_password.reveal()
    return SmtpTransport(
        smtp.host, smtp.port, smtp.security, smtp.username, password, smtp.timeout_seconds, ssl_context
    )


def _reason(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {' '.join(message.split())}".strip()


def listing(reasons: dict[str, str]) -> str:
    return "; ".join(f"{recipient} ({reason})" for recipient, reason in sorted(reasons.items()))

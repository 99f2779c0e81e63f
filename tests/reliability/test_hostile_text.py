"""Outside text is hostile. Titles, names, addresses and companies from Sentry, Mailgun and the
customer file carry script tags, attribute breakouts, CR/LF header injections, `javascript:`
URLs and 10,000-character strings; they go through the real path (import, both polls, the
digest as eml, HTML and text) and come out escaped in HTML, unable to add a mail header,
clipped in the reports and percent-encoded inside links."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.simulators.mailgun import MailgunScenario, start_mailgun
from monitor.simulators.sentry import SentryScenario, start_sentry
from tests.poll.sentry_helpers import ORG, PROJECT, TOKEN, event_id
from tests.reliability.helpers import MAILGUN_DOMAIN, MAILGUN_KEY

SCRIPT = "<script>alert(1)</script>"
BREAKOUT = '"><img src=x onerror=alert(2)>'
HEADER = "Eve\r\nBcc: victim@example.com\r\nX-Injected: yes"
LONG = "L" * 10_000
EVIL_ID = f"48213{BREAKOUT}/../admin?x=1#"
EVIL_EMAIL = 'x"><img/src=x/onerror=alert(3)>@evil.example'
CUSTOMERS_CSV = (
    "id,email,first_name,last_name,company\r\n"
    f'"{EVIL_ID.replace(chr(34), chr(34) * 2)}","{EVIL_EMAIL.replace(chr(34), chr(34) * 2)}",{SCRIPT},{LONG},'
    f'"{BREAKOUT.replace(chr(34), chr(34) * 2)}"\r\n'
    f'48214,bob@globex.example,"{HEADER}",Smith,javascript:alert(4)\r\n'
)
MOMENT = time.time() - 2 * 3600  # everything happened two hours ago: old enough for Mailgun's poll
DAY = datetime.fromtimestamp(MOMENT, UTC).date().isoformat()
OUTSIDE = [SCRIPT, BREAKOUT, "onerror=alert", "X-Injected", "javascript:alert", "<svg", LONG[:300]]


def _sentry_scenario() -> SentryScenario:
    scenario = SentryScenario()
    scenario.add_issue(
        "201", f"{SCRIPT} Your card was declined", BREAKOUT, "Stripe::CardError", f"{HEADER} {LONG}"
    )
    when = datetime.fromtimestamp(MOMENT, UTC)
    users = [
        {"id": EVIL_ID, "email": EVIL_EMAIL, "name": HEADER},
        {"id": "javascript:alert(5)", "email": "bob@globex.example", "name": LONG},
        {"email": '"<svg/onload=alert(6)>"@stranger.example', "name": SCRIPT},
    ]
    for number, user in enumerate(users):
        scenario.add_event("201", event_id(number + 1), when, user=user, title=f"{SCRIPT}{HEADER}{LONG}")
    return scenario


def _mailgun_scenario() -> MailgunScenario:
    scenario = MailgunScenario(sender_domain=MAILGUN_DOMAIN)
    scenario.add_event(
        "failed",
        EVIL_EMAIL,
        MOMENT,
        severity="permanent",
        reason="generic",
        code=550,
        message=f"{SCRIPT}\r\nBcc: victim@example.com {LONG}",
    )
    scenario.add_event(
        "failed", "bob@globex.example\r\nBcc: victim@example.com", MOMENT + 1, severity="permanent"
    )
    scenario.add_event("complained", '"<svg/onload=alert(7)>"@stranger.example', MOMENT + 2)
    scenario.add_unsubscribe(
        "bob@globex.example",
        tags=[SCRIPT, "javascript:alert(8)"],
        created_at=datetime.fromtimestamp(MOMENT, UTC),
    )
    return scenario


def _config(folder: Path, sentry_url: str, mailgun_url: str) -> Path:
    config = folder / "schedules.toml"
    config.write_text(
        f"""
[monitor]
timezone = "UTC"
database = "monitor.db"

[sentry]
base_url = "{sentry_url}"
organization = "{ORG}"
project = "{PROJECT}"

[mailgun]
base_url = "{mailgun_url}"
domain = "{MAILGUN_DOMAIN}"

[digest]
recipients = ["support@example.com"]
sender = "Monitor <monitor@example.com>"
transport = "file"
out_dir = "out"
"""
    )
    return config


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    folder = tmp_path_factory.mktemp("hostile")
    runner = CliRunner()
    env = {"SENTRY_AUTH_TOKEN": TOKEN, "MAILGUN_API_KEY": MAILGUN_KEY}
    # The Sentry simulator's permalinks start with a `javascript:` URL, as a hostile proxy could send.
    with (
        start_sentry(
            _sentry_scenario(),
            token=TOKEN,
            organization=ORG,
            project=PROJECT,
            public_base_url="javascript:alert(9)//x",
        ) as sentry,  # fmt: skip
        start_mailgun(_mailgun_scenario(), api_key=MAILGUN_KEY, domain=MAILGUN_DOMAIN) as mailgun,
    ):
        config = _config(folder, sentry.base_url, mailgun.base_url)
        (folder / "customers.csv").write_text(CUSTOMERS_CSV, newline="")

        def cli(*args: str) -> Any:
            result = runner.invoke(main, ["--config", str(config), *args], env=env)
            assert result.exit_code == 0, result.output
            return result

        imported = cli("customers", "import", str(folder / "customers.csv"))
        cli("poll")
        found: dict[str, Any] = {"import": imported.stdout}
        for fmt in ("html", "text", "json"):
            found[fmt] = cli("digest", "--date", DAY, "--format", fmt).stdout_bytes.decode()
        cli("digest", "--date", DAY, "--send")
        found["eml"] = (folder / "out" / f"digest-{DAY}.eml").read_bytes()
        yield found


def _message(outputs: dict[str, Any]) -> EmailMessage:
    message = message_from_bytes(outputs["eml"], policy=policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_hostile_data_reached_the_digest(outputs: dict[str, Any]) -> None:
    assert "Imported 2 customers" in outputs["import"]
    whole = outputs["json"]
    for text in ('48213\\"><img', "onerror=alert(3)", "<svg/onload=alert(7)>", "Bcc: victim"):
        assert text in whole, text  # JSON keeps outside text whole; the reports below must not


class _Tags(HTMLParser):
    """Every tag and attribute of a document, as the browser's tokenizer would see them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes.extend((name, value or "") for name, value in attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _html_forms(outputs: dict[str, Any]) -> list[str]:
    part = _message(outputs).get_body(preferencelist=("html",))
    assert part is not None
    return [outputs["html"], part.get_content()]


def test_html_escapes_every_outside_string_so_no_script_handler_or_tag_is_injected(
    outputs: dict[str, Any],
) -> None:
    for html in _html_forms(outputs):
        parsed = _Tags()
        parsed.feed(html)
        assert "script" not in parsed.tags and "img" not in parsed.tags and "svg" not in parsed.tags
        assert not [name for name, _ in parsed.attributes if name.startswith("on")]
        assert "&lt;script&gt;" in html  # there, as text
        assert any(SCRIPT in chunk for chunk in parsed.text)


def test_every_link_is_http_and_carries_outside_text_percent_encoded(outputs: dict[str, Any]) -> None:
    for html in _html_forms(outputs):
        parsed = _Tags()
        parsed.feed(html)
        hrefs = [value for name, value in parsed.attributes if name in ("href", "src")]
        assert hrefs
        for href in hrefs:
            assert urlsplit(href).scheme in ("http", "https"), href  # never javascript:
            assert not re.search(r'[\s"<>]', href), href
        admin = f"https://customers.gitlab.com/admin/customer/{quote(EVIL_ID, safe='')}"
        assert admin in hrefs
        assert any(quote(EVIL_EMAIL, safe="") in href for href in hrefs)  # the Mailgun logs search


def test_no_outside_text_can_add_or_break_a_mail_header(outputs: dict[str, Any]) -> None:
    message = _message(outputs)
    assert message["Bcc"] is None and message["X-Injected"] is None
    assert [str(value) for value in message.get_all("To", [])] == ["support@example.com"]
    head = outputs["eml"].split(b"\r\n\r\n" if b"\r\n\r\n" in outputs["eml"] else b"\n\n", 1)[0]
    names = {line.split(b":", 1)[0].lower() for line in head.splitlines() if line and line[:1] not in b" \t"}
    assert names <= {
        b"from",
        b"to",
        b"date",
        b"subject",
        b"message-id",
        b"auto-submitted",
        b"x-digest-date",
        b"mime-version",
        b"content-type",
        b"content-transfer-encoding",
    }
    assert "\n" not in str(message["Subject"]) and "\r" not in str(message["Subject"])


def test_reports_clip_outside_text_and_keep_it_on_one_line(outputs: dict[str, Any]) -> None:
    text_part = _message(outputs).get_body(preferencelist=("plain",))
    assert text_part is not None
    for report in (outputs["text"], text_part.get_content(), *_html_forms(outputs)):
        assert LONG[:300] not in report  # 10,000 characters shown as at most a few hundred
        assert "…" in report
    for text in (outputs["text"], text_part.get_content()):
        assert "\nBcc: victim" not in text and "\rBcc" not in text  # CR/LF became spaces
        for line in text.splitlines():
            assert len(line) < 600, line[:120]

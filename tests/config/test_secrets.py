"""Secrets: environment first, then `<VAR>_FILE`, then the systemd credentials folder; never shown."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from monitor.config.load import Secrets, load_secrets, load_settings
from monitor.config.secrets import Secret, lookup_secret
from tests.conftest import BASE_CONFIG

SENTRY = '[sentry]\norganization = "gitlab"\nproject = "customersgitlabcom"\n'
MAILGUN = '[mailgun]\ndomain = "customers.gitlab.com"\n'


def _files(tmp_path: Path) -> tuple[Path, Path]:
    token_file = tmp_path / "token"
    token_file.write_text("from-file\n")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "sentry_auth_token").write_text("from-credentials\n")
    return token_file, credentials


def test_the_environment_variable_wins_over_the_file_and_the_credential(tmp_path: Path) -> None:
    token_file, credentials = _files(tmp_path)
    env = {
        "SENTRY_AUTH_TOKEN": "from-env",
        "SENTRY_AUTH_TOKEN_FILE": str(token_file),
        "CREDENTIALS_DIRECTORY": str(credentials),
    }

    found = lookup_secret("SENTRY_AUTH_TOKEN", env)

    assert found.secret is not None and found.secret.reveal() == "from-env"


def test_the_file_variable_wins_over_the_credential(tmp_path: Path) -> None:
    token_file, credentials = _files(tmp_path)
    env = {"SENTRY_AUTH_TOKEN_FILE": str(token_file), "CREDENTIALS_DIRECTORY": str(credentials)}

    found = lookup_secret("SENTRY_AUTH_TOKEN", env)

    assert found.secret == Secret("from-file")  # the trailing newline is gone


def test_a_systemd_credential_is_read_by_its_lower_case_name(tmp_path: Path) -> None:
    _token_file, credentials = _files(tmp_path)

    found = lookup_secret("SENTRY_AUTH_TOKEN", {"CREDENTIALS_DIRECTORY": str(credentials)})

    assert found.secret == Secret("from-credentials")


def test_only_the_trailing_newline_is_stripped(tmp_path: Path) -> None:
    path = tmp_path / "key"
    path.write_text("  key with spaces\r\n")

    found = lookup_secret("MAILGUN_API_KEY", {"MAILGUN_API_KEY_FILE": str(path)})

    assert found.secret == Secret("  key with spaces")


def test_a_missing_file_is_a_problem_naming_where_it_was_looked_for(tmp_path: Path) -> None:
    missing = tmp_path / "nope"

    found = lookup_secret("SENTRY_AUTH_TOKEN", {"SENTRY_AUTH_TOKEN_FILE": str(missing)})

    assert found.secret is None
    assert found.problem == f"cannot read SENTRY_AUTH_TOKEN_FILE={missing}: No such file or directory"


def test_an_empty_file_is_a_problem_naming_it(tmp_path: Path) -> None:
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "mailgun_api_key").write_text("\n")

    found = lookup_secret("MAILGUN_API_KEY", {"CREDENTIALS_DIRECTORY": str(credentials)})

    assert found.secret is None
    assert found.problem == f"credential {credentials / 'mailgun_api_key'} is empty"


def test_a_secret_never_shows_its_value(caplog: pytest.LogCaptureFixture) -> None:
    secret = Secret("hunter2-token")
    secrets = Secrets(sentry_token=secret)
    caplog.set_level(logging.DEBUG)

    logging.getLogger("monitor.test").debug("token %s, %r, %s", secret, secret, secrets)

    for text in (repr(secret), str(secret), f"{secret}", repr(secrets), caplog.text):
        assert "hunter2" not in text
    assert secret.reveal() == "hunter2-token"


def test_only_the_configured_sources_need_a_secret(write_config) -> None:
    settings = load_settings(write_config(SENTRY))

    secrets, problems = load_secrets(settings, {})

    assert [p.split(":")[0] for p in problems] == ["secrets.SENTRY_AUTH_TOKEN"]
    assert "SENTRY_AUTH_TOKEN_FILE" in problems[0] and "sentry_auth_token" in problems[0]
    assert secrets == Secrets()


@pytest.mark.parametrize(
    ("transport", "username", "needed"),
    [("smtp", "monitor", True), ("smtp", "", False), ("file", "monitor", False)],
)
def test_smtp_password_is_needed_only_for_an_smtp_login(
    write_config, transport: str, username: str, needed: bool
) -> None:
    base = BASE_CONFIG.replace('transport = "file"', f'transport = "{transport}"')
    settings = load_settings(write_config(f'[smtp]\nusername = "{username}"\n', base=base))

    _secrets, problems = load_secrets(settings, {})

    assert bool(problems) is needed
    assert all(p.startswith("secrets.SMTP_PASSWORD:") for p in problems)


def test_found_secrets_are_handed_over_by_source(write_config, tmp_path: Path) -> None:
    settings = load_settings(write_config(SENTRY + MAILGUN))
    key_file = tmp_path / "mailgun"
    key_file.write_text("key-123\n")

    secrets, problems = load_secrets(
        settings, {"SENTRY_AUTH_TOKEN": "tok", "MAILGUN_API_KEY_FILE": str(key_file)}
    )

    assert problems == []
    assert secrets.sentry_token == Secret("tok")
    assert secrets.mailgun_key == Secret("key-123")
    assert secrets.smtp_password is None

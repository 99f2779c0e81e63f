"""Sentences for Sentry's refusals, naming the fix: the token, its scope, the slugs, a refused
parameter. Pure."""

from __future__ import annotations

import json
import re

from monitor.config.settings import SentrySettings
from monitor.sources.http import Explain
from monitor.sources.http_parts import short_text


def explain_for(settings: SentrySettings, *, organization_token: bool = False) -> Explain:
    """Sentences for Sentry's refusals, naming the fix: the token, its scope, the slugs."""
    org, project, host = settings.organization, settings.project, settings.base_url
    env = f", environment '{settings.environment}'" if settings.environment else ""

    def explain(status: int, body: str) -> str:
        if status == 401:
            kind = (
                "it is an organization token (sntrys_...), which cannot read issues; "
                if organization_token
                else "it is wrong, revoked or expired; "
            )
            return (
                f"Sentry refused SENTRY_AUTH_TOKEN (401): {kind}use an internal-integration or "
                "user auth token with the event:read scope."
            )
        if status == 403:
            return (
                f"Sentry answered 403: the token in SENTRY_AUTH_TOKEN lacks the event:read scope "
                f"for organization '{org}'; give it event:read (and membership of that organization)."
            )
        if status == 404:
            return (
                f"Sentry answered 404: organization '{org}', project '{project}'{env} was not found "
                f"at {host}; check [sentry] organization, project and base_url (sentry.io, "
                "us.sentry.io, de.sentry.io or your own server)."
            )
        if status in (400, 422):
            return refused_request_sentence(status, _detail(body))
        return f"Sentry answered {status}: {_detail(body)}"

    return explain


def refused_request_sentence(status: int, detail: str) -> str:
    """400/422: Sentry refused a parameter; name it when the answer does."""
    named = re.search(r"\b(?:invalid|unknown|unsupported)\s+(\w+)(?:\s+parameter|:)", detail, re.I)
    named = named or re.search(r"['\"`](\w+)['\"`]", detail)
    what = f"the '{named.group(1)}' parameter" if named else "a parameter of the request"
    return (
        f"Sentry refused {what} ({status}: {detail}); the request is not retried. Check [sentry] "
        "project, environment and base_url, or report it if they are right."
    )


def _detail(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        data = body
    detail = data.get("detail", data) if isinstance(data, dict) else data
    text = " ".join(str(detail).split()) or "no detail given"
    return short_text(text)

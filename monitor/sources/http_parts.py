"""The HTTP seam's small parts: a page as read, the Link header, and the words its sentences
use (hosts, reasons, tries). Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

LINK_ENTRY = re.compile(r'<([^>]*)>;\s*rel="([^"]+)";\s*results="(true|false)";\s*cursor="([^"]*)"')


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    headers: Mapping[str, str]
    data: Any
    links: dict[str, dict[str, str]] = field(default_factory=dict)


def parse_link_header(value: str | None) -> dict[str, dict[str, str]]:
    """Sentry's Link header, entry by entry with a regex: URLs may hold commas."""
    links: dict[str, dict[str, str]] = {}
    for url, rel, results, cursor in LINK_ENTRY.findall(value or ""):
        links[rel] = {"url": url, "results": results, "cursor": cursor}
    return links


def number_or_none(value: str | None) -> float | None:
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def reason_of(err: Exception) -> str:
    if isinstance(err, requests.Timeout):
        return "timed out"
    text = str(err)
    if "Connection refused" in text:
        return "connection refused"
    if "IncompleteRead" in text or "Connection broken" in text:
        return "the answer was cut off"
    return type(err).__name__


def host_of(url: str) -> str:
    """host:port only: a URL's path, query or user info has no place in an error sentence."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else str(parts.hostname)


def after_tries(tries: int) -> str:
    return f" after {tries} tries" if tries > 1 else ""


def short_text(text: str, limit: int = 200) -> str:
    """A text cut to a length an error sentence can carry, marked as cut."""
    return text if len(text) <= limit else text[: limit - 3] + "..."


def short_url(url: str) -> str:
    return short_text(url, 120)

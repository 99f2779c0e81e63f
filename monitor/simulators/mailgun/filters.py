"""The Events API's filter parameters (`event=failed`, `recipient=a OR b`, ...) compiled
into predicates over stored events."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import cast

from monitor.simulators.mailgun.wire import JSON

Matcher = Callable[[set[str]], bool]
_TOKEN_RE = re.compile(r'\s*(\(|\)|"[^"]*"|[^\s()"]+)')


def _either(a: Matcher, b: Matcher) -> Matcher:
    return lambda values: a(values) or b(values)


def _both(a: Matcher, b: Matcher) -> Matcher:
    return lambda values: a(values) and b(values)


def _negate(a: Matcher) -> Matcher:
    return lambda values: not a(values)


def _term(value: str) -> Matcher:
    return lambda values: value in values


class _ExpressionParser:
    """Mailgun filter expressions: `a b` / `a AND b`, `a OR b`, `NOT a`, `"a b"`, parentheses."""

    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        pos = 0
        while text[pos:].strip():
            match = _TOKEN_RE.match(text, pos)
            if match is None:
                raise ValueError(f"cannot parse {text[pos:]!r}")
            self.tokens.append(match.group(1))
            pos = match.end()
        self.pos = 0

    def parse(self) -> Matcher:
        matcher = self._or()
        if self._peek() is not None:
            raise ValueError(f"unexpected {self._peek()!r}")
        return matcher

    def _peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def _take(self) -> str | None:
        token = self._peek()
        self.pos += 1
        return token

    def _or(self) -> Matcher:
        matcher = self._and()
        while self._peek() == "OR":
            self.pos += 1
            matcher = _either(matcher, self._and())
        return matcher

    def _and(self) -> Matcher:
        matcher = self._not()
        while self._peek() not in (None, "OR", ")"):
            if self._peek() == "AND":
                self.pos += 1
            matcher = _both(matcher, self._not())
        return matcher

    def _not(self) -> Matcher:
        if self._peek() == "NOT":
            self.pos += 1
            return _negate(self._not())
        return self._atom()

    def _atom(self) -> Matcher:
        word = self._take()
        if word == "(":
            matcher = self._or()
            if self._take() != ")":
                raise ValueError("missing ')'")
            return matcher
        if word is None or word in (")", "OR", "AND"):
            raise ValueError(f"expected a value, got {word!r}")
        return _term(word.strip('"').lower())


def _headers(data: JSON) -> JSON:
    return cast(JSON, data.get("message", {}).get("headers", {}))


# The filterable fields, in the order a query lists them; each reads its values from an event.
FILTER_FIELDS: dict[str, Callable[[JSON], list[str]]] = {
    "event": lambda d: [d["event"]],
    "severity": lambda d: [d["severity"]] if "severity" in d else [],
    "recipient": lambda d: [d.get("recipient", "")],
    "tags": lambda d: list(d.get("tags", [])),
    "from": lambda d: [_headers(d).get("from", "")],
    "to": lambda d: [_headers(d).get("to", "")],
    "subject": lambda d: [_headers(d).get("subject", "")],
    "message-id": lambda d: [_headers(d).get("message-id", "")],
}


def compile_filters(filters: Iterable[tuple[str, str]]) -> Callable[[JSON], bool]:
    """Compile (field, expression) pairs into one predicate; raises ValueError on bad syntax."""
    compiled = [(FILTER_FIELDS[name], _ExpressionParser(expr).parse()) for name, expr in filters]

    def accept(data: JSON) -> bool:
        return all(match({str(v).lower() for v in getter(data)}) for getter, match in compiled)

    return accept

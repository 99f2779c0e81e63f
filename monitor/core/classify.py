"""Which Sentry errors are purchase errors, of what kind, and what support should do next. Pure.

Operator rules from `[[classification.rules]]` come first: a case-insensitive regular
expression matched against some of an error's texts (title, message, culprit, exception type
and value, the `transaction` tag); the first that matches decides. Then the built-in
classification, by principle (the words are in `classify_vocab`):

1. WHERE. A background job, scheduled task or non-purchase page is never a customer's
   purchase, whatever its message says. A customer-facing purchase request is.
2. WHAT, for purchase requests (or errors with no place at all): address or card wording
   first, then an expired subscription, then anything else (`other_purchase_error`).

The rule name says which part decided ("where: background job", "what: card declined or
invalid"), and, when the parts disagree, both. Texts are cut to MAX_TEXT characters before
matching, so no pattern can run long on a huge message.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from monitor.config.settings import RuleSettings
from monitor.core import classify_vocab as vocab
from monitor.core.errors import ConfigError
from monitor.core.models import NOT_PURCHASE

MAX_TEXT = 2000  # characters of each text a pattern sees: bounds the work of any pattern

# The next step per category, from the support runbook. `{customer_id}` is filled per signal.
ACTIONS = {
    "address_or_card": (
        "Check the address (city, state, postal code) and the payment method in My Account, "
        "then ask the customer to retry"
    ),
    "expired_subscription": (
        "Look for an expired subscription blocking the new purchase and help the customer renew it first"
    ),
    "other_purchase_error": (
        "Find the customer's Sentry events with user.id:{customer_id} and check the purchase flow"
    ),
    NOT_PURCHASE: "",
}
UNKNOWN_CUSTOMER = "<customer ID>"


class ErrorText(NamedTuple):
    """The texts of one error that rules look at; empty when Sentry sent none."""

    title: str = ""
    message: str = ""
    culprit: str = ""
    exception_type: str = ""
    exception_value: str = ""
    transaction: str = ""


FIELDS: tuple[str, ...] = ErrorText._fields
TEXT = ("title", "message", "exception_type", "exception_value")  # what the error says
WHERE = ("culprit", "transaction")  # where in the portal it happened


@dataclass(frozen=True)
class Rule:
    name: str
    category: str
    pattern: re.Pattern[str]
    fields: tuple[str, ...] = FIELDS
    action: str = ""  # empty: the category's action


@dataclass(frozen=True)
class Classification:
    category: str
    action: str  # may hold `{customer_id}`; see `action_for`
    rule: str  # the name of the rule that decided ("" when none matched)


def rules_from_settings(rules: Sequence[RuleSettings]) -> tuple[Rule, ...]:
    """The operator's rules, compiled. Unknown field names are a ConfigError naming the rule."""
    compiled = []
    problems = []
    for index, rule in enumerate(rules):
        unknown = [name for name in rule.fields if name not in FIELDS]
        if unknown:
            problems.append(
                f"classification.rules.{index}.fields: unknown field(s) {', '.join(unknown)}; "
                f"known: {', '.join(FIELDS)}"
            )
            continue
        name = rule.name or f"rule {index + 1} ({rule.pattern})"
        pattern = re.compile(rule.pattern, re.IGNORECASE)
        compiled.append(Rule(name, rule.category, pattern, tuple(rule.fields), rule.action))
    if problems:
        raise ConfigError(problems, "the classification rules")
    return tuple(compiled)


def classify(text: ErrorText, rules: Sequence[Rule] = ()) -> Classification:
    """The first matching rule, operator rules before the built-in ones."""
    return _classify(text, tuple(rules))


# The events of one issue nearly always carry the same texts, so a backfill of 100 events per
# issue would run the same regular expressions 100 times: remembered instead (pure function).
@lru_cache(maxsize=512)
def _classify(text: ErrorText, rules: tuple[Rule, ...]) -> Classification:
    text = ErrorText(*(value[:MAX_TEXT] for value in text))
    for rule in rules:
        if any(rule.pattern.search(getattr(text, name)) for name in rule.fields if getattr(text, name)):
            return Classification(rule.category, rule.action or ACTIONS[rule.category], rule.name)
    category, rule_name = builtin(text)
    return Classification(category, ACTIONS[category], rule_name)


def builtin(text: ErrorText) -> tuple[str, str]:
    """The built-in verdict: (category, the name of what decided)."""
    said = " | ".join(
        value
        for value in (text.title, text.message, text.exception_type, text.exception_value, _class_words(text))
        if value
    )
    places = [value for value in (text.culprit, text.transaction) if value]
    where = " | ".join(places)
    if vocab.ROUTING_NOISE.search(text.exception_type) or vocab.ROUTING_NOISE.search(text.title):
        return NOT_PURCHASE, "where: routing noise (a route that does not exist)"
    if where:
        if vocab.BACKGROUND.search(where):
            return NOT_PURCHASE, _disagree("where: background job", said)
        if vocab.NOT_A_CUSTOMER.search(where):
            return NOT_PURCHASE, _disagree("where: non-purchase page", said)
        if vocab.PURCHASE_PLACE.search(where):
            return _what(said, in_purchase=True) or (
                "other_purchase_error",
                "where: purchase flow (what: no card, address or expiry wording)",
            )
        if vocab.ACCOUNT_PAGE.search(where):
            return NOT_PURCHASE, _disagree("where: non-purchase page", said)
        if any(vocab.PAGE.search(place) and not vocab.GENERIC_PAGE.search(place) for place in places):
            return NOT_PURCHASE, _disagree("where: a page outside the purchase flow", said)
    # No place, or one that says nothing: the error's own words decide.
    if vocab.JOB_IN_TEXT.search(said):
        return NOT_PURCHASE, "what: a job named in the message (no purchase place)"
    verdict = _what(said)
    if verdict:
        return verdict[0], verdict[1] + " (no purchase place)"
    if vocab.PURCHASE_WORDS.search(said):
        return "other_purchase_error", "what: purchase wording (no purchase place)"
    return NOT_PURCHASE, "no purchase place or wording"


_CLASS_NAME = re.compile(r"^[A-Z][\w:]*(?=:\s|$)")
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def _class_words(text: ErrorText) -> str:
    """The exception's class name as words ("Purchases::InactiveSubscriptionError" reads
    "Purchases inactive subscription error"): a class is named after the failure it stands for."""
    found = _CLASS_NAME.match(text.exception_type) or _CLASS_NAME.match(text.title)
    if found is None:
        return ""
    return _WORD_START.sub(" ", found.group(0).replace("::", " ").replace("_", " ")).lower()


WHAT = (
    ("address_or_card", "what: card declined or invalid", vocab.CARD),
    ("address_or_card", "what: address invalid", vocab.ADDRESS),
    ("expired_subscription", "what: expired subscription", vocab.EXPIRED),
)


def _what(said: str, *, in_purchase: bool = False) -> tuple[str, str] | None:
    """The category the words say. Inside a purchase an infrastructure failure is the error,
    whatever address or card it was working on; elsewhere it says nothing of a purchase."""
    if in_purchase and vocab.INFRASTRUCTURE.search(said):
        return "other_purchase_error", "what: infrastructure failure"
    for category, name, pattern in WHAT:
        text = vocab.OTHER_EXPIRY.sub(" ", said) if category == "expired_subscription" else said
        if pattern.search(text):
            return category, name
    return None


def _disagree(where: str, said: str) -> str:
    """A place that is never a purchase; says so when the words alone would have said otherwise."""
    verdict = _what(said)
    return f"{where}, although {verdict[1].removeprefix('what: ')}" if verdict else where


def action_for(classification: Classification, customer_id: str | None) -> str:
    """The action with the customer's ID filled in (or a placeholder when Sentry had none)."""
    return classification.action.replace("{customer_id}", customer_id or UNKNOWN_CUSTOMER)

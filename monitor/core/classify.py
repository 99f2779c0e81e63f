"""Which Sentry errors are purchase errors, of what kind, and what support should do next. Pure.

A rule is a case-insensitive regular expression matched against some of an error's texts
(title, message, culprit, exception type and value, the `transaction` tag). Operator rules
from `[[classification.rules]]` are tried first, in order, then the built-in rules below,
which know the portal's purchase flow. The first rule that matches decides; an error that
no rule matches is outside the purchase flow (`not_purchase`): stored, never reported.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from monitor.config.settings import RuleSettings
from monitor.core.errors import ConfigError
from monitor.core.models import NOT_PURCHASE

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


def _rule(name: str, category: str, on: tuple[str, ...], *alternatives: str) -> Rule:
    return Rule(name, category, re.compile("|".join(alternatives), re.IGNORECASE), on)


# Nouns of an address (a billing/sold-to contact) that a validation message can name.
_PLACE = (
    r"(?:city|state(?! (?:transition|machine|change))|province|postal[ _-]?code|post[ _-]?code"
    r"|zip(?:[ _-]?code)?(?! ?(?:file|archive|entry))|country)"
)
# An address, but not an email or IP address.
_ADDRESS = r"(?<!email )(?<!e-mail )(?<!ip )(?<!mac )\baddress(?:es)?\b"
_BAD = r"(?:invalid|missing|blank|required|not valid|incomplete|unsupported|unknown|not supported|mismatch)"
_CARD = r"(?:(?:credit|debit|payment)[ _-]?)?cards?\b"

BUILTIN_RULES: tuple[Rule, ...] = (
    # Bots and typos hitting routes that do not exist, even under /subscriptions/: never a purchase.
    _rule(
        "routing noise",
        NOT_PURCHASE,
        ("exception_type", "title"),
        r"^ActionController::(?:RoutingError|UnknownFormat|UnknownHttpMethod|BadRequest)\b",
    ),
    _rule(
        "card declined or invalid",
        "address_or_card",
        TEXT,
        rf"\b{_CARD}[^.]{{0,40}}\b(?:declined|expired|invalid|rejected|not supported|failed|refused)",
        rf"\b(?:declined|expired|invalid|rejected|unsupported)\b[^.]{{0,20}}\b{_CARD}",
        r"card_?error|card_declined|\bdo not honou?r\b|insufficient[ _]funds",
        r"\btransaction (?:was |has been )?(?:declined|refused|rejected)",
        r"\b(?:cvv2?|cvc2?|card verification|security code)\b",
        r"\b3-?d[ -]?secure\b|\b3ds2?\b|strong customer authentication|authentication_required",
        r"\bexpir(?:y|ation) (?:date|month|year)\b",
        r"payment[ _]method[^.]{0,40}\b(?:rejected|declined|failed|invalid|not valid|expired|missing)",
        r"\bpayments?\b[^.]{0,20}\b(?:declined|rejected|refused)\b",
        r"zuora::(?:payment|gateway)\w*|\bzuora\b[^.]{0,60}\b(?:payment|gateway|card)\b",
        r"\bpayment (?:gateway|processing|authori[sz]ation) (?:error|failed|failure)",
    ),
    _rule(
        "address invalid",
        "address_or_card",
        TEXT,
        r"\b(?:billing|shipping|sold[ _-]?to|bill[ _-]?to) (?:address|contact)\b",
        rf"{_ADDRESS}[^.]{{0,40}}\b{_BAD}",
        rf"\b{_BAD} (?:billing |postal |street |mailing )?{_ADDRESS}",
        rf"\b{_PLACE}\s+(?:can'?t be blank|cannot be blank|is {_BAD}|is not (?:valid|supported))",
        rf"\b{_BAD} (?:value )?(?:for |of )?(?:the )?(?:field |parameter )?{_PLACE}\b",
        r"\b(?:postal|post|zip)[ _-]?codes?\b",
        r"\baddress verification\b|\bavs\b",
        r"\btax (?:location|jurisdiction)\b|\bvat (?:number|id) (?:is )?invalid",
    ),
    _rule(
        "expired subscription",
        "expired_subscription",
        TEXT,
        r"\bsubscriptions?\b[^.]{0,60}\b(?:has|is|was|had) (?:already )?expired\b",
        r"\bexpired[ _]subscriptions?\b|\bexpired\b[^.]{0,40}\bsubscriptions?\b",
        r"subscriptions?::expired\w*|expiredsubscription\w*|subscription_?expired",
        r"\bcan ?not (?:purchase|buy|renew|upgrade|add|create)\b[^.]{0,80}\bexpired\b",
        r"\bsubscription (?:is )?(?:no longer active|not active|inactive|terminated|cancel+ed)\b",
    ),
    _rule(
        "purchase flow",
        "other_purchase_error",
        FIELDS,
        r"subscription|purchas|checkout|payment|zuora|billing|invoice|renewal|\brenew|upgrade",
        r"\badd[-_ ]?ons?\b|addon|\bseats?\b|\bseat_|\btrials?\b|\bquantity\b|\bplans?\b|plan_id",
        r"\border(?:s|ing)?\b(?! to\b)|orders?controller|\bcart\b|customersdot",
        r"\b(?:subscriptions?|payments?|orders?|checkouts?|purchases?|billings?|trials?|carts?|invoices?"
        r"|add_?ons?|seats?|upgrades?|renewals?)(?:controller|service|worker|job)\b",
    ),
)


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
    for rule in (*rules, *BUILTIN_RULES):
        if any(rule.pattern.search(getattr(text, name)) for name in rule.fields if getattr(text, name)):
            return Classification(rule.category, rule.action or ACTIONS[rule.category], rule.name)
    return Classification(NOT_PURCHASE, ACTIONS[NOT_PURCHASE], "")


def action_for(classification: Classification, customer_id: str | None) -> str:
    """The action with the customer's ID filled in (or a placeholder when Sentry had none)."""
    return classification.action.replace("{customer_id}", customer_id or UNKNOWN_CUSTOMER)

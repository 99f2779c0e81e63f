"""The words the built-in classification reads, by principle rather than by example. Pure.

WHERE an error happened comes from its culprit and `transaction` tag: a customer-facing
purchase request (checkout, subscriptions, purchases, add-ons, seats, renewals, upgrades,
payment methods, orders, billing), a background job (Sidekiq workers, ActiveJob, cron, rake,
syncs), or another page (sign-in, admin, trials, health checks, callbacks and the API that
GitLab.com calls). WHAT happened comes from its title, message and exception: payment-gateway
decline wording and address validation (`address_or_card`), then an expired, cancelled or
lapsed subscription (`expired_subscription`); anything else in a purchase is
`other_purchase_error`. Sources of the wording: Stripe's decline codes, Braintree's processor
responses, Adyen's refusal reasons, Authorize.net's response codes, Zuora's API errors, Rails'
validation messages."""

from __future__ import annotations

import re


def _any(*alternatives: str) -> re.Pattern[str]:
    return re.compile("|".join(alternatives), re.IGNORECASE)


# --- where --------------------------------------------------------------------------------

BACKGROUND = _any(
    r"\bsidekiq\b",
    r"worker(?:s)?(?:#|\b)",
    r"job(?:s)?(?:#|\b)",
    r"#perform\b",
    r"\bactivejob\b",
    r"\bcron\b|cron::",
    r"\brake\b|\.rake\b",
    r"\bscheduler\b|\bscheduled task\b",
)
OTHER_PAGE = _any(
    r"\badmin\b|\badmin::|/admin/",
    r"sessions?controller|sign_?in|sign_?up|sign_?out|registrations?controller|omniauth|/login\b",
    r"passwords?controller|/password\b|confirmations?controller",
    r"trials?controller|/trials?\b",
    r"health|/-/(?:liveness|readiness|metrics)",
    r"callbacks?controller|/callbacks?\b|webhooks?",
    r"/api/v\d+/gitlab\b|seat_?usage",
)
PURCHASE_PLACE = _any(
    r"checkout|subscriptions?|subscribe\b|purchas|add[-_ ]?ons?|addons|\bseats?\b|seats?controller|seats?#",
    r"renewals?|renew\b|upgrades?|payment[-_ ]?methods?|paymentmethods?|payments?",
    r"\borders?\b|orders?controller|orders?#|\bbilling|\bcart\b|carts?controller|invoices?",
)

# --- what ---------------------------------------------------------------------------------

_CARD = r"(?:(?:credit|debit|payment)[ _-]?)?cards?\b"
CARD = _any(
    rf"\b{_CARD}[^.]{{0,40}}\b(?:declined|expired|invalid|incorrect|rejected|not supported|failed|refused)",
    rf"\b(?:declined|expired|invalid|incorrect|rejected|unsupported)\b[^.]{{0,20}}\b{_CARD}",
    r"card_?error|card_declined|\bdo not honou?r\b|insufficient[ _]funds|not enough balance",
    r"\b(?:transaction|payment|charge)s? (?:was |has been |is )?(?:declined|refused|rejected)",
    r"\bprocessor declined\b|\brefused\b|\bdeclined\b",
    r"\b(?:cvv2?|cvc2?|card verification|security code)\b",
    r"\b3-?d[ -]?secure\b|\b3ds2?\b|strong customer authentication|authentication_required",
    r"\bexpir(?:y|ation) (?:date|month|year)\b|\bexpired[_ ]card\b",
    r"\bcard (?:number|account)\b|\bincorrect_number\b|\b(?:lost|stolen)[_ ]card\b|\bpick ?up\b",
    r"payment[ _]method[^.]{0,40}\b(?:rejected|declined|failed|invalid|not valid|expired|missing)",
    r"\bpayment (?:gateway|processing|authori[sz]ation) (?:error|failed|failure)",
    r"\bpayment ?error\b|\bpayment (?:could not|couldn't|can ?not) be (?:processed|completed|authori[sz]ed)",
)
_PLACE = (
    r"(?:city|state(?! (?:transition|machine|change))|province|postal[ _-]?code|post[ _-]?code"
    r"|zip(?:[ _-]?code)?(?! ?(?:file|archive|entry))|country|address(?: ?line ?\d?)?)"
)
_ADDRESS = r"(?<!email )(?<!e-mail )(?<!ip )(?<!mac )\baddress(?:es)?\b"
_BAD = (
    r"(?:invalid|missing|blank|required|not valid|incomplete|unsupported|unknown|not supported|mismatch"
    r"|does not match|do not match|too long|too short|exceeds|not included|could not be found|must be)"
)
ADDRESS = _any(
    r"\b(?:billing|shipping|sold[ _-]?to|bill[ _-]?to) (?:address|contact)\b",
    r"\b(?:bill|sold|ship)tocontact\.\w+",
    rf"{_ADDRESS}[^.]{{0,60}}\b{_BAD}",
    rf"\b{_BAD} (?:billing |postal |street |mailing )?{_ADDRESS}",
    rf"\b{_PLACE}\s+(?:can'?t be blank|cannot be blank|is {_BAD}|is not (?:valid|supported)|{_BAD})",
    rf"\b{_BAD} (?:value )?(?:for |of )?(?:the )?(?:field |parameter )?{_PLACE}\b",
    r"\b(?:postal|post|zip)[ _-]?codes?\b|\bstate/province\b",
    r"\baddress verification\b|\bavs\b",
    r"\btax (?:location|jurisdiction)\b|\bvat (?:number|id) (?:is )?invalid",
)
EXPIRED = _any(
    r"\bsubscriptions?\b[^.]{0,60}\b(?:has|is|was|had) (?:already )?(?:expired|lapsed)\b",
    r"\bexpired[ _]subscriptions?\b|\bexpired\b[^.]{0,40}\bsubscriptions?\b",
    r"\bsubscriptions?\b[^.]{0,40}\bexpired on\b",
    r"subscriptions?::(?:expired|inactive)\w*|expiredsubscription\w*|subscription_?expired",
    r"\bcan ?not (?:purchase|buy|renew|upgrade|add|create|change)\b[^.]{0,80}\b(?:expired|lapsed)\b",
    r"\bsubscription\b[^.]{0,60}\b(?:no longer active|not active|inactive|terminated|suspended|cancel+ed)\b",
    r"\b(?:in|is) cancel+ed status\b|\bhas lapsed\b|\brenew (?:it |your subscription )?first\b",
    r"\brenew(?:al)? (?:is )?required\b|\bterminated on\b",
)
# An error that names a job in its own text (a message captured without culprit or transaction).
JOB_IN_TEXT = _any(r"\bsidekiq\b", r"\bjob\b[^.]{0,40}\bfailed\b", r"\w+(?:worker|job)\b")
# Wording of the purchase flow, for errors that carry no place at all.
PURCHASE_WORDS = _any(
    r"subscription|purchas|checkout|payment|billing|invoice|renewal|\brenew|upgrade",
    r"\badd[-_ ]?ons?\b|\bseats?\b|\bquantity\b|\bplans?\b|\border\b|\bcart\b",
)
ROUTING_NOISE = _any(r"^ActionController::(?:RoutingError|UnknownFormat|UnknownHttpMethod|BadRequest)\b")

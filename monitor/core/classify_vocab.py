"""The words the built-in classification reads, by principle rather than by example. Pure.

WHERE an error happened comes from its culprit and `transaction` tag, in three steps: a place
that is never a customer buying (a background job, staff and vendor pages, trials, health
checks, sign-in, the API GitLab.com calls), then a purchase area (checkout, subscriptions,
purchases, add-ons, seats, renewals, upgrades, payment methods, orders), then the account's
own pages; any other named page is not a purchase either. WHAT happened comes from its
title, message and exception: payment-gateway decline wording and address validation
(`address_or_card`), then a subscription that expired, lapsed or stopped
(`expired_subscription`); anything else in a purchase is `other_purchase_error`. Sources of
the wording: Stripe's decline codes, Braintree's processor responses, Adyen's refusal
reasons, Authorize.net's and CyberSource's response codes, Zuora's API errors, Rails'
validation messages, address services (SmartyStreets, Avalara). Each family was widened when
errors written by someone who had not read these rules showed a gap (see the corpus README in
`tests/data/classification/`)."""

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
    r"\bresque\b|\bmailers?\b|mailer#|\bdeliver_(?:now|later)\b",  # mail goes out from a job
    r"\breconcil",  # reconciliation runs on a schedule, never in a customer's request
)
# Places that are never a customer buying, even inside a purchase area: staff pages, the
# vendors calling the portal (Zuora callouts and notifications, webhooks, a vendor's
# callback), health checks, trials, sign-in, and the API that GitLab.com calls.
NOT_A_CUSTOMER = _any(
    r"\badmin\b|\badmin::|/admin/",
    r"webhooks?|callouts?\b|callouts?::|/callouts?/|notifications?controller|/notifications?/",
    r"(?:zuora|stripe|adyen|braintree|paypal|cybersource)\w*(?:::|/)?callbacks?",
    r"trials?controller|/trials?\b",
    r"(?<!checkout::)(?<!checkout/)billing_?accounts?",  # the account's overview, not buying
    r"health|/-/(?:liveness|readiness|metrics)",
    # The API GitLab.com and instances call: namespaces, licenses, seat usage and seat links.
    r"/api/v\d+/(?:gitlab|namespaces|licenses)\b|api::v\d+::(?:gitlab|namespaces|licenses)\b",
    r"seat_?usage|seat_?links?",
    r"\bdevise\b|\bdoorkeeper\b|\boauth\b|omniauth",
)
# The areas of a purchase, from the portal's routes and controllers.
PURCHASE_PLACE = _any(
    r"checkout|subscriptions?|subscribe\b|purchas|add[-_ ]?ons?|addons",
    r"(?:\b|_)seats?(?:\b|_)|seats?controller|seats?#",
    # What the portal sells besides plans and seats, and the steps of buying it.
    r"compute[-_ ]?minutes|ci[-_ ]?minutes|(?<!active)(?:\b|_)storage(?:\b|_)",  # not Rails' ActiveStorage
    r"plan[-_ ]?changes?|change[-_ ]?plan",
    r"promo(?:tion)?[-_ ]?codes?|coupons?|\bquotes?\b|quotes?controller",
    r"renewals?|renew\b|upgrades?|payment[-_ ]?methods?|paymentmethods?|payments?",
    r"cards?controller|/cards?\b|credit[-_ ]?cards?",  # a card is a payment method
    r"\borders?\b|orders?controller|orders?#|\bcarts?\b|carts?controller|\bstore\b|store::|/store/|\bshop\b",
)
# The account's own pages (Devise): not a purchase, unless a purchase area owns them
# (`Checkout::ConfirmationsController` is checked as a purchase place first).
ACCOUNT_PAGE = _any(
    r"sessions?controller|sign_?in|sign_?up|sign_?out|/login\b|/users/",
    r"passwords?controller|confirmations?controller|registrations?controller",
    r"/password\b|/confirmation\b",
    r"profiles?\b|profiles?controller|updateprofile|accounts?controller|/account\b",
)

# A page of the portal: a controller or a request path. One that is neither a purchase nor
# one of the pages above is still not a purchase; a library frame or a service object says
# nothing about where (`lib/zuora/client.rb`), and neither does a generic endpoint.
PAGE = _any(
    r"controller\b|controller#",
    # A request path, not a source file's ("/app/feed.py in send" is a frame, not a page).
    r"^(?:(?:get|post|put|patch|delete|head) )?/(?![^ ]*\.(?:py|rb|js|ts|go|java|php|exs?)\b)[^ ]*$",
    r"^https?://",
    r"resolver\b|resolver#|mutations?::",  # a GraphQL request's place is its resolver or mutation
)
GENERIC_PAGE = _any(r"graphql|^(?:(?:get|post|put|patch|delete) )?/?$|^(?:(?:get|post) )?/api/?$")

# --- what ---------------------------------------------------------------------------------

_CARD = r"(?:(?:credit|debit|payment)[ _-]?)?cards?\b"
CARD = _any(
    rf"\b{_CARD}[^.]{{0,40}}\b(?:declined|expired|invalid|incorrect|rejected|not supported|failed|refused)",
    rf"\b(?:declined|expired|invalid|incorrect|rejected|unsupported)\b[^.]{{0,20}}\b{_CARD}",
    r"card_?error|card_declined|\bdo not honou?r\b|insufficient[ _]funds|not enough balance",
    r"\b(?:transaction|payment|charge)s? (?:was |has been |is )?(?:declined|refused|rejected)",
    # Infrastructure refuses connections and access; a gateway refuses payments.
    # ... and the portal refuses a purchase or an operation for reasons of its own.
    r"\bprocessor declined\b|(?<!connection )(?<!access )(?<!permission )(?<!purchase )(?<!operation )"
    r"(?<!request )(?<!order )(?<!upgrade )(?<!renewal )(?<!change )\brefused\b(?! (?:to )?connect)",
    # Gateway identifiers: CyberSource's DCARDEXPIRED and decision=REJECT, Adyen's refusalReason.
    r"card_?(?:expired|declined|refused|rejected|invalid|blocked)|\bdecision=reject\b|\bdavsno\b",
    r"\brefusal_?reason\b|\b3-?d\b[^.]{0,20}\bauthenticat",
    r"\b(?:billing|card|issuing) country\b",  # the billing country checked against the card's
    r"\bdeclined\b",
    # The issuer of a card, not of a TLS certificate ("unable to get local issuer certificate").
    r"\bcardholder\b|\bcard ?holder\b|(?<!local )\bissu(?:er|ing bank)\b(?! cert)|\bfraud(?:ulent)?\b",
    r"\b(?:blocked|restricted|lost|stolen|invalid|unsupported) (?:credit |debit )?card\b",
    r"\bgateway rejected\b|\bpayer (?:could not be )?authenticat",
    # A card field named in an identifier, refused: "errorField_creditCardNumber=InvalidCardNumber".
    r"card_?(?:number|holder_?name|security_?code|expir\w*)\w*[^.]{0,20}(?:invalid|missing|required|blank|incorrect)",
    r"\breported (?:lost|stolen)\b|\b(?:withdrawal|approval amount|activity) limit\b",
    r"\bvoice authori[sz]ation\b",
    rf"\b{_CARD}[^.]{{0,30}}\b(?:does not support|not accepted|is not allowed|not permitted|not enabled"
    r"|not activated)",
    rf"\b{_CARD}[^.]{{0,30}}\b(?:validity|expiry|expiration)\b|\btransaction not (?:allowed|permitted)\b",
    r"(?:\b|_)(?:cvv2?|cvc2?)(?:\b|_)|\bcard verification\b|\bsecurity code\b",
    r"\b3-?d[ -]?secure\b|\b3ds2?\b|three ?d ?secure|strong customer authentication|authentication_required",
    r"\bexpir(?:y|ation) (?:date|month|year)\b|\bexpired[_ ]card\b",
    r"\bcard (?:number|account)\b|\bincorrect_number\b|\b(?:lost|stolen)[_ ]card\b|\bpick ?up\b",
    r"payment[ _]method[^.]{0,40}\b(?:rejected|declined|failed|invalid|not valid|expired|missing)",
    r"\bpayment (?:gateway|processing|authori[sz]ation) (?:error|failed|failure)",
    r"\bgateway (?:processing )?error\b|\bprocessing_error\b",
    r"\btransaction\b[^.]{0,20}\bcould not be processed\b",
    r"\bpayment ?error\b|\bpayment (?:could not|couldn't|can ?not) be (?:processed|completed|authori[sz]ed)",
)
_PLACE = (
    r"(?:city|county|state(?! (?:transition|machine|change))|province|postal[ _-]?code|post[ _-]?code"
    r"|zip(?:[ _-]?code)?(?! ?(?:file|archive|entry))|country|address(?: ?line ?\d?)?)"
)
_ADDRESS = r"(?<!email )(?<!e-mail )(?<!ip )(?<!mac )\baddress(?:es)?\b"
_BAD = (
    r"(?:invalid|missing|blank|required|not valid|incomplete|unsupported|unknown|not supported|mismatch"
    r"|does not match|do not match|too long|too short|exceeds|not included|could not be found|must be"
    r"|(?:validation|verification|check) failed|failed (?:validation|verification)"
    r"|(?:could not|cannot|can't) be (?:verified|validated|found)|unverified|not verified|out of range"
    r"|not an? (?:recogni[sz]ed|known|valid)|unrecogni[sz]ed|not recogni[sz]ed)"
)
ADDRESS = _any(
    r"\b(?:billing|shipping|sold[ _-]?to|bill[ _-]?to) (?:address|contact)\b",
    r"\b(?:bill|sold|ship)tocontact\.\w+",
    rf"{_ADDRESS}[^.]{{0,60}}\b{_BAD}",
    rf"\b{_BAD} (?:billing |postal |street |mailing )?{_ADDRESS}",
    rf"\b{_PLACE}\s+errors\.messages\.\w+",  # an untranslated Rails message key
    rf"\b{_PLACE}(?:[ _-]?(?:field|value|name|code))?\s+(?:should|must) (?:contain|be|have|include|match)",
    rf"\b{_PLACE}(?:[ _-]?(?:field|value|name|code))?\s+(?:can'?t be blank|cannot be blank|is {_BAD}"
    rf"|is not (?:valid|supported)|{_BAD})",
    rf"\b{_BAD} (?:value )?(?:for |of )?(?:the )?(?:field |parameter )?{_PLACE}\b",
    # A quoted value of a place that is refused: "State code 'XX' is not valid".
    rf"\b{_PLACE}(?:[ _-]?(?:code|name))?:?\s*['\"][^'\"]{{0,40}}['\"]\s*(?:is |was )?(?:not )?{_BAD}",
    # A state or province that does not belong to the country given.
    r"\b(?:state|province|region|county)s?\b[^.]{0,40}\bcountry\b",
    r"\b(?:postal|post|zip)[ _-]?codes?\b|\bstate/province\b",
    r"\baddress verification\b|(?:\b|_)avs(?:\b|_)",
    # Address services' own exceptions (SmartyStreets, Avalara): UnverifiedAddressError, AddressRangeError.
    r"(?:invalid|unverified|unknown|bad)_?(?:billing_?|street_?)?address|address_?(?:validation|verification|range|invalid)",
    r"\btax (?:location|jurisdiction)\b|\bvat (?:number|id) (?:is )?invalid",
)
# Things other than a subscription that expire: taken out of the text before EXPIRED is read,
# so "Zuora session expired while creating the subscription" is not an expired subscription.
OTHER_EXPIRY = _any(
    r"\b(?:session|token|signature|link|password|jwt|certificate|cookie|otp|code|key|url|nonce|lock|cache)s?\b"
    r"[^.]{0,20}?\b(?:has |is |was |had )?(?:already )?expired\b",
    r"\bexecution expired\b",  # Ruby's Timeout message
)
EXPIRED = _any(
    r"\bsubscriptions?\b[^.]{0,40}\b(?:has |had )?ended\b",
    r"\bsubscriptions?\b[^.]{0,60}\b(?:has|is|was|had) (?:already )?(?:expired|lapsed)\b",
    r"\bexpired[ _]subscriptions?\b|\bexpired\b[^.]{0,40}\bsubscriptions?\b",
    r"\bsubscriptions?\b[^.]{0,40}\bexpired on\b",
    # "Subscription expired", but not a session, token or link that expired during one.
    r"\bsubscriptions?\b(?:(?!session|token|signature|link|password|jwt|certificate|card|cookie)[^.]){0,60}"
    r"\b(?:expired|lapsed)\b",
    r"subscriptions?::(?:expired|inactive)\w*|expiredsubscription\w*|subscription_?expired",
    r"\bcan ?not (?:purchase|buy|renew|upgrade|add|create|change)\b[^.]{0,80}\b(?:expired|lapsed)\b",
    r"\bsubscription\b[^.]{0,60}\b(?:no longer active|not active|inactive|deactivated|disabled|terminated"
    r"|suspended|cancel+ed)\b",
    r"\b(?:in|is) cancel+ed status\b|\bhas lapsed\b|\brenew (?:it |your subscription )?first\b",
    r"\brenew(?:al)? (?:is )?required\b|\bterminated on\b",
    r"\bsubscriptions?\b[^.]{0,40}\b(?:ended|lapsed|expires?d?|terminated|cancel+ed) (?:on|at)\b",
    r"\b(?:cancel+ed|suspended|inactive|lapsed|terminated|ended) subscriptions?\b",
    r"\bsubscriptions?\b[^.]{0,40}\b(?:must be|is not|isn't|not|to be) (?:in )?(?:an? )?active\b",
    r"\bsubscriptions?\b[^.]{0,40}\breached (?:its|the) end(?: date)?\b",
    r"\b(?:only|requires?|needs?|without|must have|no|has no) (?:an? )?active subscriptions?\b",
    r"\bsubscription\b[^.]{0,30}\bstatus\b[^.]{0,20}\b(?:expired|cancel+ed|suspended|lapsed)\b",
    r"\bterm (?:has )?ended\b|\bterm end(?:ed)? (?:on|date)\b|\b(?:was|has) not (?:been )?renewed\b",
    r"\bend date (?:has )?passed\b|\b(?:past|after) (?:its|the) (?:subscription |term )?end date\b",
    r"\bend date\b[^.]{0,30}\bin the past\b|\bincomplete_expired\b",  # the last: Stripe's status
    r"\brenewal (?:window|period) (?:has )?(?:closed|passed|ended|expired)\b",
    # A subscription, plan or term that has stopped, in the many words for it.
    r"\b(?:subscription|plan|term|contract)s?\b[^.]{0,60}\b(?:finished|terminated|dormant|on hold"
    r"|not current|r[au]n out|no longer (?:running|current|in effect|valid)|is over|has ended"
    r"|ended (?:on|with|at|last))\b",
    r"\b(?:subscription|plan|term)s?\b[^.]{0,40}\b(?:is|was|has been) (?:paused|stopped|closed|halted)\b",
    r"\b(?:dormant|paused|stopped|terminated|finished|ended|lapsed) (?:subscriptions?|plans?)\b",
    r"\bstopped on \d",
    r"\bsubscriptions?\b[^.]{0,30}\b(?:still running|still active|still current|in effect)\b",
    r"\b(?:fell|falls|fallen|reverted|downgraded) (?:back )?to (?:the )?free\b",  # a paid plan lapsed
    r"\bend date\b[^.]{0,30}\b(?:has )?passed\b",
    r"\bsubscription\b[^.]{0,40}\breactivat|\breactivat\w*\b[^.]{0,30}\bsubscription|reactivation_?required",
    # Identifier forms: subscription.status=Suspended, InactiveSubscription, SubscriptionNotActive.
    r"subscription[._ ]?status\W{0,3}(?:expired|cancel+ed|suspended|lapsed|inactive|terminated)",
    r"(?:inactive|lapsed|suspended|cancel+ed)_?subscription|subscription_?(?:not_?active|inactive|lapsed|suspended)",
    r"\brenew\b[^.]{0,40}\b(?:before|first)\b",
)
# An infrastructure failure: inside a purchase it is `other_purchase_error` even when the
# message names the address or card it was working on ("tax quote for billing address ...
# timed out"). Not "unavailable" alone: "Issuer Unavailable" is a gateway's decline.
INFRASTRUCTURE = _any(
    r"\btimed out\b|\btime ?out\b|\btimeouterror\b|\bservice unavailable\b|\bhttp (?:status )?5\d\d\b",
    r"\breturned (?:http |status )?5\d\d\b|\bconnection (?:refused|reset|closed)\b|\bcould not connect\b",
    r"\becon\w+|\bgetaddrinfo\b|\bssl_connect\b|\bexecution expired\b",
)
# An error that names a job in its own text (a message captured without culprit or transaction).
JOB_IN_TEXT = _any(
    r"\bsidekiq\b",
    r"\bjob\b[^.]{0,40}\bfailed\b",
    r"(?<=\w)(?:worker|job)\b",
    r"\breconcil",
    r"\bbatch\b",
    # Catalog, plan and account syncs run in the background ("syncing plans", "ZuoraCatalogSync").
    r"\bsync(?:ing|ed|s)?\b|(?-i:[a-z]Sync(?:er)?\b)",
)
# Wording of the purchase flow, for errors that carry no place at all.
PURCHASE_WORDS = _any(
    r"subscription|purchas|checkout|payment|billing|renewal|\brenew|upgrade",
    r"\badd[-_ ]?ons?\b|\bseats?\b|\bquantity\b|\bplans?\b|\border\b|\bcart\b",
    r"rate[ _]?plan|\bcharges?\b|\bcoupons?\b|\bpromo(?:tion)?[ _]?codes?\b",  # Zuora's order vocabulary
)
# A request for a route or method the portal does not have: no page was ever reached. (A bad
# format or parameters of a real purchase page is that page's error, not noise.)
ROUTING_NOISE = _any(r"^ActionController::(?:RoutingError|UnknownHttpMethod)\b")

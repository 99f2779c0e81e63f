"""How a signal finds its customer. Pure: the rules and the SQL that applies them, as data.

Order of trust: the Sentry `user.id` *is* the customer ID (known from the import or not);
else the address matched case-insensitively to one customer's email; else, weakly, a company
domain that exactly one customer has. A public mail provider's domain never matches."""

from __future__ import annotations

from collections.abc import Iterable

from monitor.core.models import MATCH_CONFIDENCE

PUBLIC_MAIL_DOMAINS = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "outlook.com",
        "hotmail.com",
        "hotmail.co.uk",
        "live.com",
        "msn.com",
        "yahoo.com",
        "yahoo.co.uk",
        "yahoo.co.jp",
        "ymail.com",
        "icloud.com",
        "me.com",
        "mac.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "pm.me",
        "gmx.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "mail.com",
        "mail.ru",
        "yandex.ru",
        "yandex.com",
        "qq.com",
        "163.com",
        "126.com",
        "zoho.com",
        "fastmail.com",
        "hey.com",
        "tutanota.com",
        "t-online.de",
        "orange.fr",
        "free.fr",
        "laposte.net",
        "libero.it",
        "naver.com",
        "daum.net",
        "seznam.cz",
        "wp.pl",
        "o2.pl",
        "comcast.net",
        "att.net",
        "verizon.net",
        "sbcglobal.net",
        "btinternet.com",
        "rediffmail.com",
    ]
)


def public_domains(extra: Iterable[str] = ()) -> frozenset[str]:
    return PUBLIC_MAIL_DOMAINS | {domain.strip().lower() for domain in extra if domain.strip()}


# Each step links signals that have no link yet; run in this order. `:after_id` limits the
# work to the signals a page just added (ids only grow), so a poll's cost per page does not
# grow with what it stored before; 0 relinks everything (after an import). Every lookup
# goes through an index: one probe per signal, never a pass over the customers.
LINK_BY_CUSTOMER_ID = f"""
INSERT INTO links (signal_id, customer_id, match, confidence)
SELECT s.id, s.customer_ref, 'customer_id', {MATCH_CONFIDENCE["customer_id"]}
FROM signals s
WHERE s.customer_ref IS NOT NULL AND s.id > :after_id
  AND NOT EXISTS (SELECT 1 FROM links l WHERE l.signal_id = s.id)
"""

# One probe of the address index per signal; MIN picks one when two customers share an address.
# A signal with a customer ID was linked by the step before: skipped without probing `links`.
LINK_BY_EMAIL = f"""
INSERT INTO links (signal_id, customer_id, match, confidence)
SELECT s.id, MIN(c.id), 'email', {MATCH_CONFIDENCE["email"]}
FROM signals s JOIN customers c ON c.email_norm = s.email_norm
WHERE s.email_norm IS NOT NULL AND s.customer_ref IS NULL AND s.id > :after_id
  AND NOT EXISTS (SELECT 1 FROM links l WHERE l.signal_id = s.id)
GROUP BY s.id
"""

# `:public_domains` is a JSON array of the public mail domains (never a match). "Exactly one
# customer has it" is decided per signal by reading at most two entries of the domain index:
# a big company's thousand customers cost two index steps, not a GROUP BY over the directory.
# The candidates are materialized so that lookup runs once per signal, not again in the filter.
LINK_BY_DOMAIN = f"""
INSERT INTO links (signal_id, customer_id, match, confidence)
WITH candidates AS MATERIALIZED (
  SELECT s.id AS signal_id,
         (SELECT CASE WHEN COUNT(*) = 1 THEN MIN(two.id) END
          FROM (SELECT c.id FROM customers c WHERE c.domain = s.domain LIMIT 2) two) AS customer_id
  FROM signals s
  WHERE s.customer_ref IS NULL AND s.domain IS NOT NULL AND s.id > :after_id
    AND NOT EXISTS (SELECT 1 FROM links l WHERE l.signal_id = s.id)
    AND s.domain NOT IN (SELECT value FROM json_each(:public_domains))
)
SELECT signal_id, customer_id, 'domain', {MATCH_CONFIDENCE["domain"]}
FROM candidates WHERE customer_id IS NOT NULL
"""

# Customers a page has just learned (a Sentry user.id with an address) may be the owners of
# unlinked signals stored earlier with only that address: link those by email too (a signal
# with a customer ID is linked by it; `customer_ref IS NULL` also lets the partial index serve).
# `:emails` is a JSON array of the learned addresses (normalized).
LINK_LEARNED_BY_EMAIL = f"""
INSERT INTO links (signal_id, customer_id, match, confidence)
SELECT s.id, (SELECT MIN(c.id) FROM customers c WHERE c.email_norm = s.email_norm),
       'email', {MATCH_CONFIDENCE["email"]}
FROM signals s
WHERE s.email_norm IN (SELECT value FROM json_each(:emails)) AND s.customer_ref IS NULL
  AND NOT EXISTS (SELECT 1 FROM links l WHERE l.signal_id = s.id)
  AND EXISTS (SELECT 1 FROM customers c WHERE c.email_norm = s.email_norm)
"""

# After an import, weak links may be wrong (the domain is no longer unique) or beatable (the
# exact address is now a customer): drop them and let the steps above decide again.
UNLINK_WEAK = "DELETE FROM links WHERE match = 'domain'"

LINK_STEPS = (LINK_BY_CUSTOMER_ID, LINK_BY_EMAIL, LINK_BY_DOMAIN)

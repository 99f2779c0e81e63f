"""The demo's sample: a deterministic, realistic slice of CustomersDot trouble.

Plain data, relative to a given `today`, so the same day always gives the same sample. It
covers every category, customers hit by both sources, a public-mail address and a shared
company domain (weak and refused domain matches), signals that match no customer, errors
outside the purchase flow (stored, never reported) and an error title carrying HTML."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo

FIRST = (
    "Jane John Maria Wei Aisha Lucas Sofia Omar Emma Noah Yuki Lena Ravi Chloe Mateo Ines Tariq Nora".split()
)
LAST = (
    "Doe Smith Garcia Chen Khan Muller Rossi Haddad Jansen Novak Tanaka Berg Patel Martin Silva Costa".split()
)
COMPANIES = [
    ("Acme Corp", "acme.example"),
    ("Globex", "globex.example"),
    ("Initech", "initech.example"),
    ("Umbrella", "umbrella.example"),
    ("Hooli", "hooli.example"),
    ("Stark Industries", "stark.example"),
    ("Wayne Enterprises", "wayne.example"),
    ("Tyrell", "tyrell.example"),
    ("Soylent", "soylent.example"),
    ("Cyberdyne", "cyberdyne.example"),
]


@dataclass(frozen=True)
class SampleCustomer:
    id: str
    email: str
    first_name: str
    last_name: str
    company: str


@dataclass(frozen=True)
class SampleIssue:
    issue_id: str
    title: str
    culprit: str
    exc_type: str
    transaction: str
    purchase: bool  # False: outside the purchase flow, must never be reported


@dataclass(frozen=True)
class SampleEvent:
    issue_id: str
    event_id: str
    at: datetime
    user: dict[str, str] | None


@dataclass(frozen=True)
class SampleMail:
    kind: str  # bounce | complaint | unsubscribe | failed (permanent, not on the bounce list)
    address: str
    at: datetime
    code: str = "550"
    message: str = ""


@dataclass
class Sample:
    today: date
    zone: tzinfo = UTC  # the days above are days of this zone
    customers: list[SampleCustomer] = field(default_factory=list)
    issues: list[SampleIssue] = field(default_factory=list)
    events: list[SampleEvent] = field(default_factory=list)
    mail: list[SampleMail] = field(default_factory=list)


ISSUES = [
    SampleIssue(
        "4101",
        "Zuora::Error: Postal code is invalid for the billing address",
        "SubscriptionsController#create",
        "Zuora::Error",
        "SubscriptionsController#create",
        True,
    ),
    SampleIssue(
        "4102",
        "Your card was declined.",
        "PaymentsController#create",
        "Stripe::CardError",
        "PaymentsController#create",
        True,
    ),
    SampleIssue(
        "4103",
        "Validation failed: State can't be blank for country US",
        "Orders::CreateService#execute",
        "ActiveRecord::RecordInvalid",
        "OrdersController#create",
        True,
    ),
    SampleIssue(
        "4104",
        "Cannot purchase add-on: the subscription has expired",
        "Subscriptions::AddOnService#execute",
        "Subscriptions::ExpiredError",
        "SubscriptionsController#add_on",
        True,
    ),
    SampleIssue(
        "4105",
        "NoMethodError: undefined method `plan_id' for nil in checkout",
        "CheckoutController#show",
        "NoMethodError",
        "CheckoutController#show",
        True,
    ),
    SampleIssue(
        "4106",
        "<img src=x onerror=alert(1)> Purchase failed: unexpected response from Zuora",
        "Zuora::Client#subscribe",
        "Zuora::UnknownError",
        "SubscriptionsController#create",
        True,
    ),
    SampleIssue(
        "4201",
        "ActionView::Template::Error in Admin::DashboardController#index",
        "Admin::DashboardController#index",
        "ActionView::Template::Error",
        "Admin::DashboardController#index",
        False,
    ),
    SampleIssue(
        "4202",
        "Redis::TimeoutError: Connection timed out",
        "SessionsController#new",
        "Redis::TimeoutError",
        "SessionsController#new",
        False,
    ),
]


# Local hours. The day's last hour stays empty so that, even just after local midnight, every
# sample record of yesterday is older than Mailgun's 30-minute trust lag and polled at once.
WHOLE_DAY = (0, 23)
DAYTIME = (9, 15)


def _at(sample: Sample, day: date, rng: random.Random, hours: tuple[int, int] = WHOLE_DAY) -> datetime:
    """A moment of `day` in the sample's zone, as UTC."""
    local = time(rng.randrange(*hours), rng.randrange(0, 60), rng.randrange(0, 60))
    return datetime.combine(day, local, sample.zone).astimezone(UTC)


def build_sample(
    today: date, zone: tzinfo = UTC, customers: int = 60, days: int = 4, seed: int = 20261124
) -> Sample:
    """Everything the demo serves, for the `days` days before `today`, `today` being a day of
    `zone` (the configured time zone, whose yesterday the digest reports)."""
    rng = random.Random(seed)
    sample = Sample(today=today, zone=zone, issues=list(ISSUES))
    for number in range(customers):
        first, last = FIRST[number % len(FIRST)], LAST[(number * 7) % len(LAST)]
        company, domain = COMPANIES[number % len(COMPANIES)]
        # Every fifth customer signs up with a public mail address: never a domain match.
        domain = "gmail.com" if number % 5 == 4 else domain
        sample.customers.append(
            SampleCustomer(
                str(48200 + number), f"{first}.{last}{number}@{domain}".lower(), first, last, company
            )
        )
    # One company with a domain of its own: mail to another address there is a weak (domain) match.
    sample.customers.append(
        SampleCustomer("48999", "art@vandelay.example", "Art", "Vandelay", "Vandelay Industries")
    )
    _add_events(sample, rng, days)
    _add_mail(sample, rng, days)
    return sample


def _add_events(sample: Sample, rng: random.Random, days: int) -> None:
    people = sample.customers
    for offset in range(1, days + 1):
        day = sample.today - timedelta(days=offset)
        for issue in sample.issues:
            for _ in range(rng.randrange(1, 5)):
                person = rng.choice(people)
                user: dict[str, str] | None = {
                    "id": person.id,
                    "email": person.email,
                    "name": person.first_name,
                }
                roll = rng.random()
                if roll < 0.1:
                    user = None  # an anonymous visitor: stored, unlinked
                elif roll < 0.2:
                    user = {"email": person.email.upper()}  # no user.id: linked by email, case-insensitively
                elif roll < 0.25:
                    user = {"id": str(99000 + rng.randrange(100)), "email": "new.buyer@newco.example"}
                event_id = f"{rng.getrandbits(128):032x}"
                sample.events.append(SampleEvent(issue.issue_id, event_id, _at(sample, day, rng), user))
    # Customers hit by both sources: the first three get a card error and a bounce yesterday.
    yesterday = sample.today - timedelta(days=1)
    for person in people[:3]:
        user = {"id": person.id, "email": person.email, "name": f"{person.first_name} {person.last_name}"}
        sample.events.append(
            SampleEvent("4102", f"{rng.getrandbits(128):032x}", _at(sample, yesterday, rng, DAYTIME), user)
        )


def _add_mail(sample: Sample, rng: random.Random, days: int) -> None:
    people = sample.customers
    for offset in range(1, days + 1):
        day = sample.today - timedelta(days=offset)
        for person in rng.sample(people[3:], 3):
            sample.mail.append(
                SampleMail("bounce", person.email, _at(sample, day, rng), "550", "5.1.1 mailbox unavailable")
            )
        sample.mail.append(SampleMail("complaint", rng.choice(people).email, _at(sample, day, rng)))
        sample.mail.append(SampleMail("unsubscribe", rng.choice(people).email, _at(sample, day, rng)))
        sample.mail.append(
            SampleMail(
                "failed",
                rng.choice(people).email,
                _at(sample, day, rng),
                "554",
                "5.7.1 message rejected as spam",
            )
        )
        # Nobody we know: an unlinked bounce, and an unknown colleague at a customer's company (weak match).
        sample.mail.append(
            SampleMail(
                "bounce", f"old.contact{offset}@gmail.com", _at(sample, day, rng), "550", "no such user"
            )
        )
    yesterday = sample.today - timedelta(days=1)
    for person in people[:3]:
        sample.mail.append(
            SampleMail("bounce", person.email, _at(sample, yesterday, rng, DAYTIME), "550", "mailbox full")
        )
    # Six customers share tyrell.example: no weak match there. Vandelay has its own domain: a weak match.
    for address in ("billing@tyrell.example", "accounts@vandelay.example"):
        sample.mail.append(
            SampleMail("bounce", address, _at(sample, yesterday, rng, DAYTIME), "550", "unknown user")
        )


def customers_csv(sample: Sample) -> str:
    lines = ["id,email,first_name,last_name,company"]
    lines += [f"{c.id},{c.email},{c.first_name},{c.last_name},{c.company}" for c in sample.customers]
    return "\n".join(lines) + "\n"

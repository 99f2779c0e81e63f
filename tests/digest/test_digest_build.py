"""The digest build: grouping, ranking, next steps, source health, day windows, late signals
and the JSON shape of interface.md."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import jsonschema
import pytest

from monitor.config.settings import MailgunSettings, SentrySettings, Settings
from monitor.core.models import MATCH_CONFIDENCE, Customer
from monitor.core.timeutil import day_window, to_db
from monitor.digest.build import build_digest, is_quiet
from monitor.digest.model import DigestInput, SignalRow, SourceRuns
from monitor.store import write_tx
from monitor.store.digest import digest_input
from monitor.store.runs import record_finish, record_start
from tests.digest_helpers import (
    DAY,
    NOON,
    NOW,
    add_customers,
    mail,
    new_db,
    save,
    seed_day,
    sentry,
    write_settings,
)
from tests.paths import TESTS

ZONE = ZoneInfo("Europe/Amsterdam")
WINDOW = day_window(DAY, ZONE)
SETTINGS = Settings(
    sentry=SentrySettings(organization="gitlab", project="customersgitlabcom"),
    mailgun=MailgunSettings(domain="customers.gitlab.com"),
)


def row(
    customer: str | None,
    category: str,
    at: datetime = NOON,
    *,
    match: str = "customer_id",
    group: str = "",
    email: str | None = None,
    title: str = "",
    url: str = "",
    action: str = "",
) -> SignalRow:
    source = (
        "sentry"
        if category in ("address_or_card", "expired_subscription", "other_purchase_error")
        else "mailgun"
    )
    return SignalRow(
        source=source,
        category=category,
        occurred_at=at,
        stored_at=at,
        title=title or f"{category} title",
        group=group or category,
        url=url,
        email=email,
        email_norm=email.lower() if email else None,
        action=action,
        customer_id=customer,
        match=match if customer else None,
        confidence=MATCH_CONFIDENCE[match] if customer else 0.0,
        customer_name=f"Customer {customer}" if customer else "",
    )


def build(
    rows: list[SignalRow], *, late: list[SignalRow] | None = None, sources: list[SourceRuns] | None = None
) -> dict[str, Any]:
    inp = DigestInput(
        day=DAY,
        zone=ZONE,
        window=WINDOW,
        rows=rows,
        late=late or [],
        trend=[],
        sources=sources or [],
        now=NOW,
    )
    return build_digest(inp, SETTINGS)


def ranked(digest: dict[str, Any]) -> list[str]:
    return [c["customer_id"] for c in digest["customers"]]


RANKING = [
    (
        "both sources beat many severe errors",
        [row("100", "address_or_card")] * 6
        + [row("200", "other_purchase_error", match="domain"), row("200", "unsubscribe", match="domain")],
        ["200", "100"],
    ),
    (
        "a card error beats another purchase error",
        [row("100", "other_purchase_error"), row("200", "address_or_card")],
        ["200", "100"],
    ),
    (
        "an expired subscription beats another purchase error",
        [row("100", "other_purchase_error"), row("200", "expired_subscription")],
        ["200", "100"],
    ),
    ("a bounce beats an unsubscribe", [row("100", "unsubscribe"), row("200", "bounce")], ["200", "100"]),
    (
        "a complaint beats a failed delivery",
        [row("100", "failed_delivery"), row("200", "complaint")],
        ["200", "100"],
    ),
    (
        "more signals rank higher",
        [row("100", "address_or_card")] + [row("200", "address_or_card")] * 4,
        ["200", "100"],
    ),
    (
        "a later signal ranks higher",
        [row("100", "bounce", NOON - timedelta(hours=6)), row("200", "bounce", NOON)],
        ["200", "100"],
    ),
    (
        "a customer-ID match beats a domain match",
        [row("100", "bounce", match="domain"), row("200", "bounce")],
        ["200", "100"],
    ),
    ("ties go by customer ID", [row("200", "bounce"), row("100", "bounce")], ["100", "200"]),
]


@pytest.mark.parametrize(("case", "rows", "expected"), RANKING, ids=[case for case, _r, _e in RANKING])
def test_customers_are_ranked_most_likely_affected_first(
    case: str, rows: list[SignalRow], expected: list[str]
) -> None:
    digest = build(rows)
    assert ranked(digest) == expected, case
    scores = [c["score"] for c in digest["customers"]]
    assert scores == sorted(scores, reverse=True)


def test_scores_are_between_0_and_1_with_two_decimals_and_both_sources_score_above_one_half() -> None:
    rows = [row("1", "address_or_card"), row("1", "bounce"), row("2", "unsubscribe", match="domain")]
    digest = build(rows)
    for customer in digest["customers"]:
        assert 0.0 <= customer["score"] <= 1.0
        assert customer["score"] == round(customer["score"], 2)
    assert digest["customers"][0]["score"] > 0.5 and digest["customers"][0]["both"] is True
    assert digest["customers"][1]["score"] <= 0.5 and digest["customers"][1]["both"] is False
    assert digest["totals"]["both"] == 1


def test_signals_of_one_group_become_one_line_with_count_first_last_and_the_latest_title_and_url() -> None:
    rows = [
        row(
            "1",
            "address_or_card",
            NOON + timedelta(minutes=m),
            group="4101",
            title=f"t{m}",
            url=f"https://s.example/{m}",
        )
        for m in (20, 0, 40)
    ] + [row("1", "address_or_card", NOON, group="4102")]
    (customer,) = build(rows)["customers"]
    first, second = customer["signals"]
    assert (first["count"], second["count"]) == (3, 1)
    assert first["first_seen"] == "2026-11-23T11:00:00+00:00"
    assert first["last_seen"] == "2026-11-23T11:40:00+00:00"
    assert (first["title"], first["url"]) == ("t40", "https://s.example/40")


def test_lines_are_ordered_most_serious_category_first() -> None:
    rows = [
        row("1", "unsubscribe"),
        row("1", "other_purchase_error"),
        row("1", "address_or_card"),
        row("1", "bounce"),
    ]
    (customer,) = build(rows)["customers"]
    assert [s["category"] for s in customer["signals"]] == [
        "address_or_card",
        "bounce",
        "other_purchase_error",
        "unsubscribe",
    ]


def test_a_bounce_hides_the_same_addresses_failed_delivery_of_that_day_only() -> None:
    rows = [
        row("1", "bounce", email="Jane@Acme.example"),
        row("1", "failed_delivery", NOON + timedelta(hours=1), email="jane@acme.example"),
        row("2", "failed_delivery", email="bob@globex.example"),  # another address: kept
    ]
    digest = build(rows)
    by_id = {c["customer_id"]: [s["category"] for s in c["signals"]] for c in digest["customers"]}
    assert by_id == {"1": ["bounce"], "2": ["failed_delivery"]}


def test_the_match_of_a_customer_is_its_strongest_link() -> None:
    (customer,) = build([row("1", "bounce", match="domain"), row("1", "address_or_card", match="email")])[
        "customers"
    ]
    assert customer["match"] == "email"
    assert customer["confidence"] == MATCH_CONFIDENCE["email"]


def test_each_signal_line_says_its_strongest_match_and_the_customers_match_is_the_strongest_line() -> None:
    """Two events of one issue: the older names the customer by user.id, the newer only by
    address. The line and the customer both say customer_id, whichever came last."""
    rows = [
        row("1", "address_or_card", NOON, match="customer_id", group="issue-7"),
        row("1", "address_or_card", NOON + timedelta(hours=1), match="email", group="issue-7"),
        row("1", "bounce", match="domain"),
    ]
    (customer,) = build(rows)["customers"]
    lines = {line["category"]: line["match"] for line in customer["signals"]}
    assert lines == {"address_or_card": "customer_id", "bounce": "domain"}
    assert customer["match"] == "customer_id"


def test_a_customer_found_only_by_domain_and_email_says_email() -> None:
    (customer,) = build([row("1", "bounce", match="email"), row("1", "complaint", match="domain")])[
        "customers"
    ]
    assert customer["match"] == "email"
    assert {line["match"] for line in customer["signals"]} == {"email", "domain"}


def test_actions_come_most_serious_first_and_end_with_the_sentry_and_mailgun_links() -> None:
    rows = [
        row("48213", "bounce", email="jane@acme.example"),
        row("48213", "address_or_card", action="Check the address (city, state, postal code) in My Account"),
    ]
    (customer,) = build(rows)["customers"]
    assert customer["actions"][0] == "Check the address (city, state, postal code) in My Account"
    assert customer["actions"][1].startswith("Mail to this address bounces")
    assert customer["actions"][2] == (
        "Search Sentry for user.id:48213: "
        "https://sentry.io/organizations/gitlab/issues/?query=user.id%3A48213"
    )
    assert customer["actions"][3].endswith("/domains/customers.gitlab.com/logs?search=jane%40acme.example")
    assert customer["admin_url"] == "https://customers.gitlab.com/admin/customer/48213"


def test_links_built_from_data_are_url_encoded() -> None:
    (customer,) = build([row("a/b c?d", "address_or_card")])["customers"]
    assert customer["admin_url"] == "https://customers.gitlab.com/admin/customer/a%2Fb%20c%3Fd"
    assert "user.id%3Aa%2Fb%20c%3Fd" in customer["actions"][-1]


def test_a_weak_domain_match_warns_before_anyone_is_contacted() -> None:
    (customer,) = build([row("1", "bounce", match="domain", email="billing@tyrell.example")])["customers"]
    assert customer["actions"][1].startswith("Weak match by the company domain tyrell.example")


def test_unlinked_signals_are_kept_and_grouped_by_address() -> None:
    rows = [
        row(None, "complaint", email="x@y.example"),
        row(None, "complaint", email="X@y.example"),
        row(None, "bounce", email="z@y.example"),
    ]
    digest = build(rows)
    assert digest["customers"] == []
    assert [(u["category"], u["email"].lower(), u["count"]) for u in digest["unlinked"]] == [
        ("bounce", "z@y.example", 1),
        ("complaint", "x@y.example", 2),
    ]
    assert digest["totals"]["unlinked"] == 3


@pytest.mark.parametrize(
    ("runs", "expected"),
    [
        (
            SourceRuns("sentry", NOW - timedelta(minutes=5), "ok", None, None),
            {"ok": True, "failing_since": None},
        ),
        (
            SourceRuns(
                "sentry",
                NOW - timedelta(hours=3),
                "failed",
                "Sentry answered 401: check SENTRY_AUTH_TOKEN",
                NOW - timedelta(hours=2),
            ),
            {
                "ok": False,
                "failing_since": "2026-11-24T06:00:00+00:00",
                "last_error": "Sentry answered 401: check SENTRY_AUTH_TOKEN",
            },
        ),
        (
            SourceRuns("sentry", NOW - timedelta(hours=30), "ok", None, None),
            {"ok": False, "failing_since": None},
        ),
        (SourceRuns("sentry", None, None, None, None), {"ok": False, "last_success": None}),
    ],
    ids=["healthy", "failing", "silent for 30 hours", "never polled"],
)
def test_source_health_shows_a_silent_or_failing_source(runs: SourceRuns, expected: dict[str, Any]) -> None:
    health = build([], sources=[runs])["sources"]["sentry"]
    assert set(health) >= {"last_success", "ok", "failing_since", "last_error"}
    assert {key: health[key] for key in expected} == expected


def test_a_quiet_day_with_healthy_sources_is_quiet_and_a_failing_source_is_not() -> None:
    healthy = SourceRuns("sentry", NOW, "ok", None, None)
    failing = SourceRuns("mailgun", NOW, "failed", "Mailgun answered 401", NOW)
    assert is_quiet(build([], sources=[healthy]))
    assert not is_quiet(build([], sources=[healthy, failing]))
    assert not is_quiet(build([row(None, "bounce", email="a@b.example")], sources=[healthy]))


# The shape interface.md fixes for `monitor digest --format json` (extra keys are allowed).
DIGEST_SCHEMA = json.loads((TESTS / "schemas" / "digest.schema.json").read_text())


def test_a_seeded_day_gives_the_json_shape_of_the_interface(tmp_path: Path) -> None:
    settings = write_settings(tmp_path)
    db = new_db(settings)
    seed_day(db)
    run = record_start(db, "poll-sentry", NOW - timedelta(minutes=10))
    record_finish(db, run, NOW - timedelta(minutes=9), ok=True)
    digest = build_digest(digest_input(db, settings, DAY, NOW), settings)
    jsonschema.validate(digest, DIGEST_SCHEMA)
    assert list(digest)[:7] == ["date", "timezone", "window", "customers", "unlinked", "late", "sources"]
    assert digest["window"] == {"start": "2026-11-22T23:00:00+00:00", "end": "2026-11-23T23:00:00+00:00"}
    assert ranked(digest) == ["48213", "48214", "48215"]  # both sources; purchase error; weak domain match
    assert [u["email"] for u in digest["unlinked"]] == ["old.contact@gmail.com"]
    assert digest["sources"]["sentry"]["ok"] is True and digest["sources"]["mailgun"]["last_success"] is None
    assert len(digest["trend"]["days"]) == 14 and digest["trend"]["categories"]["address_or_card"][-1] == 2


@pytest.mark.parametrize(
    ("day", "hours", "inside", "outside"),
    [
        # Spring forward: 2026-03-29 has 23 hours; local midnight is 23:00 UTC before, 22:00 UTC after.
        (
            date(2026, 3, 29),
            23,
            ["2026-03-28T23:00:00", "2026-03-29T21:59:59"],
            ["2026-03-28T22:59:59", "2026-03-29T22:00:00"],
        ),
        # Fall back: 2026-10-25 has 25 hours; local midnight is 22:00 UTC before, 23:00 UTC after.
        (
            date(2026, 10, 25),
            25,
            ["2026-10-24T22:00:00", "2026-10-25T22:59:59"],
            ["2026-10-24T21:59:59", "2026-10-25T23:00:00"],
        ),
        (
            date(2026, 11, 23),
            24,
            ["2026-11-22T23:00:00", "2026-11-23T22:59:59"],
            ["2026-11-22T22:59:59", "2026-11-23T23:00:00"],
        ),
    ],
    ids=["spring DST day", "autumn DST day", "ordinary day"],
)
def test_a_day_runs_from_local_midnight_to_local_midnight_across_dst(
    tmp_path: Path, day: date, hours: int, inside: list[str], outside: list[str]
) -> None:
    settings = write_settings(tmp_path)
    db = new_db(settings)
    add_customers(db, Customer("1", "jane@acme.example", "Jane", "Doe"))
    moments = [datetime.fromisoformat(text).replace(tzinfo=UTC) for text in inside + outside]
    save(db, *[sentry(f"k{i}", at, customer_ref="1", group=f"g{i}") for i, at in enumerate(moments)], now=NOW)
    inp = digest_input(db, settings, day, NOW)
    assert (inp.window[1] - inp.window[0]) == timedelta(hours=hours)
    seen = sorted(r.occurred_at for r in inp.rows)
    assert seen == sorted(moments[: len(inside)])


def test_a_late_signal_appears_in_exactly_one_digest(tmp_path: Path) -> None:
    settings = write_settings(tmp_path)
    db = new_db(settings)
    add_customers(db, Customer("1", "jane@acme.example", "Jane", "Doe"))
    early_day = date(2026, 11, 20)
    sent_at = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    with write_tx(db) as conn:
        conn.execute(
            "INSERT INTO digest_sends VALUES (?, 'support@example.com', '<m>', 'sent', ?, 'h:1', ?, 'file')",
            (early_day.isoformat(), to_db(sent_at), to_db(sent_at)),
        )
    occurred = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    save(db, sentry("in-time", occurred, customer_ref="1", group="a"), now=sent_at - timedelta(hours=1))
    save(
        db,
        sentry("late", occurred, customer_ref="1", group="b"),
        now=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    )
    save(
        db,
        sentry("unsent-day", datetime(2026, 11, 19, 9, 0, tzinfo=UTC), customer_ref="1", group="c"),
        now=NOON,
    )

    late_by_day = {}
    for offset in range(0, 6):
        day = date(2026, 11, 19) + timedelta(days=offset)
        digest = build_digest(digest_input(db, settings, day, NOW), settings)
        late_by_day[day.isoformat()] = [
            (line["day"], line["customer_id"], line["count"]) for line in digest["late"]
        ]
    assert late_by_day == {
        "2026-11-19": [],
        "2026-11-20": [],
        "2026-11-21": [],
        "2026-11-22": [],
        "2026-11-23": [("2026-11-20", "1", 1)],  # stored on the 23rd, after the 20th's digest went out
        "2026-11-24": [],
    }


def test_a_suppression_lists_first_snapshot_is_history_not_late_news(tmp_path: Path) -> None:
    settings = write_settings(tmp_path)
    db = new_db(settings)
    early_day = date(2026, 11, 20)
    sent_at = datetime(2026, 11, 21, 7, 0, tzinfo=UTC)
    with write_tx(db) as conn:
        conn.execute(
            "INSERT INTO digest_sends VALUES (?, 'support@example.com', '<m>', 'sent', ?, 'h:1', ?, 'file')",
            (early_day.isoformat(), to_db(sent_at), to_db(sent_at)),
        )
    occurred = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
    old_bounce = mail("bounce:old@x.example:2026-11-20", occurred, "bounce", "old@x.example")
    first_snapshot = old_bounce._replace(key="bounce:first@x.example:2026-11-20", detail={"backfill": True})
    stored = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    save(db, old_bounce, first_snapshot, now=stored)

    digest = build_digest(digest_input(db, settings, date(2026, 11, 23), NOW), settings)

    assert [line["email"] for line in digest["late"]] == ["old@x.example"]

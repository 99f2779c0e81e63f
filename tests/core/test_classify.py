"""Classification: realistic CustomersDot error texts to categories and next steps."""

from __future__ import annotations

import pytest

from monitor.config.settings import RuleSettings
from monitor.core.classify import ACTIONS, ErrorText, action_for, classify, rules_from_settings
from monitor.core.errors import ConfigError

# (title, exception type, culprit, transaction tag) -> category
TABLE = [
    # address_or_card: the address, or the card / payment method
    ("Zuora::Error: Postal code is invalid", "Zuora::Error", "", "", "address_or_card"),
    ("Zuora::Error: Postal code is invalid for the billing address", "", "", "", "address_or_card"),
    ("Validation failed: State can't be blank for country US", "ActiveRecord::RecordInvalid", "", "",
     "address_or_card"),
    ("Validation failed: City can't be blank", "ActiveRecord::RecordInvalid", "", "", "address_or_card"),
    ("Invalid ZIP code 1234A for country NL", "", "", "", "address_or_card"),
    ("Province is invalid", "", "", "", "address_or_card"),
    ("Zuora::Error: Invalid value for field Country", "Zuora::Error", "", "", "address_or_card"),
    ("Country is not supported for this purchase", "", "", "", "address_or_card"),
    ("Billing address could not be verified", "", "", "", "address_or_card"),
    ("Your card was declined.", "Stripe::CardError", "PaymentsController#create", "", "address_or_card"),
    ("Your card has expired.", "", "", "", "address_or_card"),
    ("Transaction declined.402 - [card_declined/insufficient_funds]", "Zuora::Error", "", "",
     "address_or_card"),
    ("Transaction declined.do_not_honor - Do Not Honor", "", "", "", "address_or_card"),
    ("Your card's security code (CVV) is incorrect", "", "", "", "address_or_card"),
    ("Payment method was rejected by the gateway", "", "", "", "address_or_card"),
    ("3D Secure authentication failed", "", "", "", "address_or_card"),
    ("Zuora::PaymentError: Payment could not be processed", "Zuora::PaymentError", "", "", "address_or_card"),
    ("Insufficient funds", "", "", "", "address_or_card"),
    ("Expiration date is in the past", "", "", "", "address_or_card"),
    # expired_subscription: an expired subscription blocks the purchase
    ("Cannot create subscription: the subscription has expired", "", "", "", "expired_subscription"),
    ("Cannot purchase add-on: the subscription has expired", "Subscriptions::ExpiredError", "", "",
     "expired_subscription"),
    ("Cannot purchase additional seats for an expired subscription", "", "", "", "expired_subscription"),
    ("Subscriptions::ExpiredSubscriptionError", "Subscriptions::ExpiredSubscriptionError", "", "",
     "expired_subscription"),
    ("Unable to renew: subscription is no longer active", "", "", "", "expired_subscription"),
    # other_purchase_error: something else in the purchase flow
    ("NoMethodError: undefined method `plan_id' for nil", "NoMethodError", "CheckoutController#show", "",
     "other_purchase_error"),
    ("Net::ReadTimeout", "Net::ReadTimeout", "Zuora::Client#subscribe", "", "other_purchase_error"),
    ("ActiveRecord::RecordNotFound", "ActiveRecord::RecordNotFound", "", "OrdersController#show",
     "other_purchase_error"),
    ("Purchase failed: unexpected response from Zuora", "", "", "", "other_purchase_error"),
    ("Seat count mismatch after upgrade", "", "", "", "other_purchase_error"),
    ("<img src=x onerror=alert(1)> Checkout broke", "", "", "", "other_purchase_error"),
    # not_purchase: stored, never reported
    ("ActionController::RoutingError: No route matches [GET] \"/wp-login.php\"",
     "ActionController::RoutingError", "", "", "not_purchase"),
    ("ActionController::RoutingError: No route matches [GET] \"/subscriptions/x.php\"",
     "ActionController::RoutingError", "", "", "not_purchase"),
    ("Redis::TimeoutError: Connection timed out", "Redis::TimeoutError", "SessionsController#new", "",
     "not_purchase"),
    ("ActionView::Template::Error in Admin::DashboardController#index", "", "", "", "not_purchase"),
    ("Email address is invalid", "", "RegistrationsController#create", "", "not_purchase"),
    ("AASM::InvalidTransition: Event 'start' cannot transition from 'running': invalid state transition",
     "", "Ci::BuildWorker", "", "not_purchase"),
    ("Zip::Error: invalid zip file", "Zip::Error", "ImportWorker", "", "not_purchase"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("title", "exc_type", "culprit", "transaction", "category"), TABLE, ids=lambda v: v[:40]
)
def test_built_in_rules_classify_realistic_errors(
    title: str, exc_type: str, culprit: str, transaction: str, category: str
) -> None:
    text = ErrorText(title=title, exception_type=exc_type, culprit=culprit, transaction=transaction)
    assert classify(text).category == category


def test_every_purchase_category_comes_with_the_runbooks_next_step() -> None:
    card = classify(ErrorText(title="Your card was declined."))
    assert card.action == ACTIONS["address_or_card"] and "postal code" in card.action
    expired = classify(ErrorText(title="the subscription has expired"))
    assert "expired subscription" in expired.action
    other = classify(ErrorText(title="Checkout failed"))
    assert action_for(other, "48213") == (
        "Find the customer's Sentry events with user.id:48213 and check the purchase flow"
    )
    assert "user.id:<customer ID>" in action_for(other, None)
    assert classify(ErrorText(title="Redis down")).action == ""


def test_the_rule_that_decided_is_named() -> None:
    assert classify(ErrorText(title="Your card was declined.")).rule == (
        "what: card declined or invalid (no purchase place)"
    )
    in_a_job = ErrorText(title="Your card was declined.", culprit="Zuora::SyncAccountWorker#perform")
    assert classify(in_a_job).rule == "where: background job, although card declined or invalid"
    assert classify(ErrorText(title="nothing to see")).rule == "no purchase place or wording"


def test_operator_rules_are_tried_before_the_built_in_ones() -> None:
    rules = rules_from_settings(
        [
            RuleSettings(
                pattern=r"VAT number", category="address_or_card", name="vat", action="Check the VAT ID"
            ),
            RuleSettings(pattern=r"^Redis::", category="other_purchase_error", fields=("exception_type",)),
            RuleSettings(pattern=r"declined", category="not_purchase", fields=("message",)),
        ]
    )
    vat = classify(ErrorText(title="Zuora::Error: VAT number format is wrong"), rules)
    assert (vat.category, vat.action, vat.rule) == ("address_or_card", "Check the VAT ID", "vat")
    redis = classify(ErrorText(title="Timeout", exception_type="Redis::TimeoutError"), rules)
    assert redis.category == "other_purchase_error" and redis.action == ACTIONS["other_purchase_error"]
    # A rule limited to `message` does not see the title.
    assert classify(ErrorText(title="Card declined"), rules).category == "address_or_card"
    assert classify(ErrorText(title="x", message="test card declined"), rules).category == "not_purchase"


def test_an_operator_rule_with_an_unknown_field_is_refused_by_name() -> None:
    with pytest.raises(ConfigError) as caught:
        rules_from_settings([RuleSettings(pattern="x", category="not_purchase", fields=("titel",))])
    assert "classification.rules.0.fields" in str(caught.value) and "titel" in str(caught.value)


def test_matching_ignores_case() -> None:
    assert classify(ErrorText(title="YOUR CARD WAS DECLINED")).category == "address_or_card"


@pytest.mark.parametrize(
    ("culprit", "transaction", "category"),
    [
        # A source file's frame (an SDK without a web framework) says nothing about where.
        ("/app/feed.py in send", "", "address_or_card"),
        ("app/services/zuora/client.rb in post", "", "address_or_card"),
        ("GraphqlController#execute", "POST /graphql", "address_or_card"),
        # A named page that is no purchase area is not a purchase, whatever the message says.
        ("ProfilesController#update", "PATCH /profile", "not_purchase"),
        ("", "/billing_accounts/overview", "not_purchase"),
        ("Resolvers::InvoicesResolver#resolve", "POST /graphql", "not_purchase"),
        ("ActiveStorage::DiskController#show", "GET /rails/active_storage/disk/x/avatar.png", "not_purchase"),
        ("AddOns::StorageController#create", "POST /add_ons/storage", "address_or_card"),
        # A purchase area owns its own confirmation page; Devise's is the account's.
        ("Checkout::ConfirmationsController#create", "POST /checkout/confirmation", "address_or_card"),
        ("Users::ConfirmationsController#show", "GET /users/confirmation", "not_purchase"),
    ],
)
def test_where_a_card_decline_happened_decides_whether_it_is_a_purchase_error(
    culprit: str, transaction: str, category: str
) -> None:
    title = "Stripe::CardError: Your card was declined."
    text = ErrorText(title=title, culprit=culprit, transaction=transaction)
    assert classify(text).category == category


def test_inside_a_purchase_an_infrastructure_failure_is_the_error_even_when_it_names_the_address() -> None:
    text = ErrorText(
        title="Avalara::TimeoutError: Tax quote for billing address 'Hauptstr. 5' timed out after 15s",
        culprit="Purchases::TaxController#quote",
    )
    verdict = classify(text)
    assert (verdict.category, verdict.rule) == ("other_purchase_error", "what: infrastructure failure")
    # Without a place, the same failure says nothing of a purchase.
    alone = ErrorText(title="Redis::CannotConnectError: Connection refused")
    assert classify(alone).category == "not_purchase"


def test_a_session_or_token_that_expired_is_not_an_expired_subscription() -> None:
    place = "SubscriptionsController#create"
    for title in ("Zuora session expired while creating the subscription", "Subscription token has expired"):
        assert classify(ErrorText(title=title, culprit=place)).category == "other_purchase_error", title
    assert classify(ErrorText(title="Subscription expired", culprit=place)).category == "expired_subscription"

"""Serve the demo's sample (monitor.demo.sample) from the simulators, in each vendor's wire shape."""

from __future__ import annotations

from monitor.demo.sample import Sample
from monitor.simulators.mailgun import MailgunScenario
from monitor.simulators.sentry import SentryScenario


def seed_sentry(scenario: SentryScenario, sample: Sample) -> None:
    for issue in sample.issues:
        scenario.add_issue(issue.issue_id, issue.title, culprit=issue.culprit, exc_type=issue.exc_type)
    transactions = {issue.issue_id: issue.transaction for issue in sample.issues}
    for event in sample.events:
        scenario.add_event(
            event.issue_id,
            event.event_id,
            event.at,
            user=event.user,
            tags={"transaction": transactions[event.issue_id]},
        )


def seed_mailgun(scenario: MailgunScenario, sample: Sample) -> None:
    """Each mail problem as Mailgun reports it: on a suppression list and/or as an event."""
    for number, mail in enumerate(sample.mail):
        stamp = mail.at.timestamp()
        if mail.kind == "bounce":
            scenario.add_bounce(mail.address, code=mail.code, error=mail.message, created_at=mail.at)
            scenario.add_event(
                "failed",
                mail.address,
                stamp,
                severity="permanent",
                reason="bounce",
                code=int(mail.code),
                message=mail.message,
                event_id=f"demo-bounce-{number}",
            )
        elif mail.kind == "complaint":
            scenario.add_complaint(mail.address, created_at=mail.at)
            scenario.add_event("complained", mail.address, stamp, event_id=f"demo-complaint-{number}")
        elif mail.kind == "unsubscribe":
            scenario.add_unsubscribe(mail.address, created_at=mail.at)
            scenario.add_event("unsubscribed", mail.address, stamp, event_id=f"demo-unsub-{number}")
        else:  # a permanent failure that never reached the bounce list
            scenario.add_event(
                "failed",
                mail.address,
                stamp,
                severity="permanent",
                reason="generic",
                code=int(mail.code),
                message=mail.message,
                event_id=f"demo-failed-{number}",
            )
    # Temporary failures are noise the poll must leave out.
    for number, mail in enumerate(sample.mail[:5]):
        scenario.add_event(
            "failed",
            mail.address,
            mail.at.timestamp() + 60,
            severity="temporary",
            reason="greylisted",
            code=451,
            event_id=f"demo-temp-{number}",
        )

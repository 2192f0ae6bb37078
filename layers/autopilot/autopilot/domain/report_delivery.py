"""Each week's report is emailed once, whatever is retried.

The week is claimed (a conditional write) before the email is handed to SES and marked sent with
SES's message id after. What a retry finds decides what it does:

- nothing: nobody sent it; send.
- SENT: done; return the earlier result.
- SENDING: an attempt stopped between the claim and SES's answer; the email may have gone out,
  so it is not sent again: it becomes UNCERTAIN and a person is told how to resend.
- UNCERTAIN: already told; nothing more to do.

SES rejecting the request (it answered with an error) releases the claim, so a retry sends.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

import msgspec

from autopilot.domain.errors import AutopilotError
from autopilot.domain.notifications import Notification

# A SENDING claim older than this was abandoned (every SES call ends well within it), so a
# resend may take it over. Younger, another attempt may still be waiting for SES's answer.
ABANDONED_AFTER = timedelta(minutes=10)


class DeliveryRejectedError(AutopilotError):
    """SES refused the email (it answered with an error): it was not sent; a retry may send."""


class DeliveryUncertainError(AutopilotError):
    """The request may have reached SES but its answer was lost: the email may have been sent."""


class DeliveryState(StrEnum):
    SENDING = "sending"  # claimed; SES's answer not recorded yet
    SENT = "sent"  # SES accepted it; `message_id` says which email
    UNCERTAIN = "may-have-been-sent"  # SES's answer was lost: never sent again by itself


class Delivery(msgspec.Struct, frozen=True):
    """The ledger's record of one week's email."""

    week: str
    state: DeliveryState
    claim: str  # who holds it: one id per attempt
    claimed_at: datetime
    total: str = ""
    html: str = ""
    csv: str = ""
    message_id: str = ""
    sent_at: datetime | None = None
    reason: str = ""


class DeliveryRecords(Protocol):
    """Where deliveries are recorded (the ledger table). Every write is conditional."""

    def find(self, week: str) -> Delivery | None: ...

    def claim(self, delivery: Delivery, *, takeover: bool = False) -> bool:
        """Hold the week; False if another attempt holds it. `takeover` (a resend) replaces
        any record but a SENDING one younger than ABANDONED_AFTER."""
        ...

    def settle(self, delivery: Delivery, *, only_from: DeliveryState | None = None) -> None:
        """Replace the record if its claim is `delivery.claim` (and its state `only_from`);
        else ConflictError."""
        ...

    def release(self, delivery: Delivery) -> None:
        """Delete the record if it is still this claim's and SENDING."""
        ...


def resend_command(week: str) -> str:
    return f"autopilot report --week {week} --resend"


def outcome(delivery: Delivery, *, earlier: bool = False) -> dict[str, str]:
    """What the report function returns for a delivery (`earlier`: recorded by an earlier run)."""
    result = {
        "week": delivery.week,
        "total": delivery.total,
        "delivery": "already-sent"
        if earlier and delivery.state is DeliveryState.SENT
        else delivery.state.value,
        "html": delivery.html,
        "csv": delivery.csv,
    }
    if delivery.message_id:
        result["message_id"] = delivery.message_id
    if delivery.state is not DeliveryState.SENT:
        result["reason"] = delivery.reason
        result["resend"] = resend_command(delivery.week)
    return result


def uncertain_notification(delivery: Delivery) -> Notification:
    week = delivery.week
    return Notification(
        f"[autopilot] cost report {week} may not have been delivered",
        f"The ECS cost report for {week} may or may not have been emailed: {delivery.reason}.\n"
        "It will not be sent again by itself, so that nobody gets it twice.\n"
        f"If the recipients did not get it, resend it: {resend_command(week)}\n"
        f"A copy is in {delivery.html}.",
        "warning",
    )

"""Rollback, tracking, hold and operator notifications: who needs to hear what, and how urgently."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import Notification
from autopilot.workflows.registry import notification_for

ARN_PREFIX = "arn:aws:ecs:us-east-1:123456789012"
SERVICE_ARN = f"{ARN_PREFIX}:service/prod/web"
DIGEST = "sha256:" + "0123456789abcdef" * 4
# scan-pending too: the executor asks for its notice only when the scan will not come by itself
HELD_CODES = [
    "alarm-firing",
    "scan-pending",
    "scan-blocked",
    "quarantined",
    "frozen",
    "paused",
    "invalid-revision",
]


def entry(
    kind: str,
    outcome: Outcome,
    *,
    reason: str = "",
    code: str = "",
    trigger: str = "alarm",
    trigger_id: str = "evt-42",
    from_revision: int = 7,
    to_revision: int = 6,
) -> LedgerEntry:
    return LedgerEntry(
        service_arn=SERVICE_ARN,
        action_id="d18b6402bc0804c9fd5784fbbd07f262",
        kind=kind,
        trigger=trigger,
        trigger_id=trigger_id,
        trigger_time=datetime(2026, 11, 20, 10, 25, tzinfo=UTC),
        recorded_at=datetime(2026, 11, 20, 10, 26, tzinfo=UTC),
        outcome=outcome,
        reason=reason,
        code=code,
        repository="web",
        digest=DIGEST,
        tag="main",
        from_task_definition=f"{ARN_PREFIX}:task-definition/web:{from_revision}",
        to_task_definition=f"{ARN_PREFIX}:task-definition/web:{to_revision}",
        containers=("app",),
    )


def notify(ledger_entry: LedgerEntry, extra_text: str = "") -> Notification:
    notification = notification_for(ledger_entry, extra_text)
    assert notification is not None, f"expected a notification for {ledger_entry.outcome}"
    return notification


# Rollbacks.


def test_a_rollback_is_critical_and_names_the_revision_it_went_back_to() -> None:
    # Given an automatic rollback of prod/web from 7 to 6 after an alarm
    rolled_back = entry("rollback", Outcome.ROLLED_BACK, reason="after alarm prod-web-cpu-high")

    # When it is announced
    notification = notify(rolled_back)

    # Then it is critical, the subject names the target, the text the way back and why
    assert notification.severity == "critical"
    assert notification.subject == "[autopilot] ROLLED BACK prod/web to web:6"
    assert "web:7 -> web:6" in notification.text
    assert "after alarm prod-web-cpu-high" in notification.text
    assert "alarm evt-42" in notification.text


def test_a_rollback_not_taken_is_a_warning_that_says_how_to_act() -> None:
    # Given an alarm outside the bake window: a person is told instead
    notified = entry(
        "rollback",
        Outcome.NOTIFIED,
        reason="outside the bake window",
        code="outside-bake-window",
        trigger_id="prod-web-cpu-high",
    )

    # When it is announced
    notification = notify(notified)

    # Then it is a warning naming the service, why not, and the command to roll back
    assert notification.severity == "warning"
    assert "prod/web" in notification.subject
    assert "outside the bake window" in notification.text
    assert "runs web:7" in notification.text
    assert "autopilot rollback prod/web" in notification.text


def test_a_failed_rollback_is_critical() -> None:
    # Given a rollback that could not be done
    failed = entry("rollback", Outcome.FAILED, reason="AccessDenied")

    # When it is announced
    notification = notify(failed)

    # Then it is critical and says why
    assert notification.severity == "critical"
    assert "AccessDenied" in notification.text


def test_a_skipped_rollback_is_not_announced() -> None:
    # Given a second alarm after a rollback (already rolled back)
    skipped = entry("rollback", Outcome.SKIPPED, code="already-rolled-back")

    # When a notification is asked for
    # Then there is none: one incident, one message
    assert notification_for(skipped) is None


# Tracking deployments.


def test_a_completed_deployment_is_the_new_last_known_good() -> None:
    # Given the automation's deployment of web:7 completed
    completed = entry("track", Outcome.COMPLETED, trigger="ecs-deployment", to_revision=7)

    # When it is announced
    notification = notify(completed)

    # Then it is informational and says 7 is now the last known good
    assert notification.severity == "info"
    assert notification.subject == "[autopilot] prod/web is on web:7"
    assert "last known good" in notification.text


def test_a_failed_deployment_is_critical_and_says_why() -> None:
    # Given the automation's deployment of web:7 failed
    failed = entry(
        "track",
        Outcome.FAILED,
        trigger="ecs-deployment",
        to_revision=7,
        reason="ECS deployment circuit breaker: task failed to start.",
    )

    # When it is announced
    notification = notify(failed)

    # Then it is critical and gives the reason
    assert notification.severity == "critical"
    assert "FAILED" in notification.subject
    assert "web:7" in notification.text
    assert "circuit breaker" in notification.text


def test_a_skipped_track_is_not_announced() -> None:
    # Given a deployment event for a deployment the automation did not start
    skipped = entry("track", Outcome.SKIPPED, code="not-ours")

    # When a notification is asked for
    # Then there is none
    assert notification_for(skipped) is None


# Holds: a push meant for the service did not go out.


@pytest.mark.parametrize("code", HELD_CODES)
def test_a_held_push_is_a_warning(code: str) -> None:
    # Given a push skipped because something held it
    held = entry("deploy", Outcome.SKIPPED, code=code, reason="held for a reason", trigger="ecr")

    # When it is announced
    notification = notify(held)

    # Then it is a warning naming what was not deployed, where, and why
    assert notification.severity == "warning"
    assert notification.subject == "[autopilot] not deploying web:main to prod/web"
    assert "held for a reason" in notification.text


@pytest.mark.parametrize(
    "code",
    ["tag-not-tracked", "not-using-repository", "already-running", "not-opted-in"],
)
def test_other_skips_are_not_announced(code: str) -> None:
    # Given a push skipped for a routine reason
    skipped = entry("deploy", Outcome.SKIPPED, code=code, reason="routine", trigger="ecr")

    # When a notification is asked for
    # Then there is none
    assert notification_for(skipped) is None


# Operator actions.


@pytest.mark.parametrize("kind", ["pause", "resume", "release"])
def test_an_applied_operator_action_is_informational_and_says_who(kind: str) -> None:
    # Given an operator's action that was applied
    applied = entry(
        kind, Outcome.APPLIED, reason="maintenance window", trigger="operator", trigger_id="alice"
    )

    # When it is announced
    notification = notify(applied)

    # Then it is informational, names the action, the service, the reason and the operator
    assert notification.severity == "info"
    assert notification.subject == f"[autopilot] {kind} prod/web"
    assert "maintenance window" in notification.text
    assert "By alice." in notification.text


@pytest.mark.parametrize("kind", ["pause", "resume", "release"])
def test_an_operator_action_that_was_not_applied_is_not_announced(kind: str) -> None:
    # Given an operator's action that was skipped
    skipped = entry(kind, Outcome.SKIPPED, trigger="operator")

    # When a notification is asked for
    # Then there is none
    assert notification_for(skipped) is None


# Extra text.


def test_extra_text_is_appended_after_the_text() -> None:
    # Given a rollback that also quarantined a digest and froze the service
    rolled_back = entry("rollback", Outcome.ROLLED_BACK, reason="after alarm x")
    extra = "Quarantined sha256:0123456789ab\nprod/web is now FROZEN"

    # When it is announced with that extra text
    plain = notify(rolled_back)
    notification = notify(rolled_back, extra)

    # Then the extra text follows the usual text; subject and severity are unchanged
    assert notification.text == f"{plain.text}\n{extra}"
    assert notification.subject == plain.subject
    assert notification.severity == plain.severity


def test_extra_text_does_not_turn_a_silent_outcome_into_a_notification() -> None:
    # Given an outcome nobody needs to hear about
    skipped = entry("deploy", Outcome.SKIPPED, code="tag-not-tracked")

    # When extra text is given
    # Then there is still no notification
    assert notification_for(skipped, "something extra") is None

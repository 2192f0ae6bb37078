"""Deploy notifications: what, where, from what to what, and why, at a glance."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import Notification
from autopilot.records import replace
from autopilot.workflows.registry import notification_for

ARN_PREFIX = "arn:aws:ecs:eu-west-1:123456789012"
DIGEST = "sha256:" + "0123456789abcdef" * 4
SHORT_DIGEST = "sha256:0123456789ab"
LABEL = "prod/web"


def ledger_entry(
    outcome: Outcome,
    *,
    reason: str = "",
    to_task_definition: str = f"{ARN_PREFIX}:task-definition/web:7",
    deployment_id: str = "ecs-svc/1234567890123456789",
) -> LedgerEntry:
    return LedgerEntry(
        service_arn=f"{ARN_PREFIX}:service/prod/web",
        action_id="d18b6402bc0804c9fd5784fbbd07f262",
        kind="deploy",
        trigger="ecr-push",
        trigger_id="evt-42",
        trigger_time=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        recorded_at=datetime(2025, 5, 1, 12, 1, tzinfo=UTC),
        outcome=outcome,
        reason=reason,
        repository="web",
        digest=DIGEST,
        tag="1.5.0",
        from_task_definition=f"{ARN_PREFIX}:task-definition/web:6",
        to_task_definition=to_task_definition,
        deployment_id=deployment_id,
        containers=("app", "worker"),
    )


def notify(outcome: Outcome, **changes: str) -> Notification:
    notification = notification_for(ledger_entry(outcome, **changes))
    assert notification is not None, f"expected a notification for {outcome}"
    return notification


def test_a_deploy_says_what_where_and_from_which_revision_to_which() -> None:
    # Given a deploy that went out
    # When it is announced
    notification = notify(Outcome.DEPLOYED)

    # Then it is informational and names image, service, revisions, containers and deployment
    assert notification.severity == "info"
    assert notification.subject == "[autopilot] deploying prod/web: web:1.5.0"
    assert f"web:1.5.0 ({SHORT_DIGEST})" in notification.text
    assert "web:6 -> web:7" in notification.text
    assert "app, worker" in notification.text
    assert "ecs-svc/1234567890123456789" in notification.text
    assert "ecr-push evt-42" in notification.text


def test_a_deploy_without_a_deployment_id_says_so() -> None:
    # Given a deploy whose deployment id is unknown
    # When it is announced
    notification = notify(Outcome.DEPLOYED, deployment_id="")

    # Then the text says n/a instead of leaving a blank
    assert "Deployment: n/a." in notification.text


def test_a_dry_run_says_what_would_have_been_deployed_and_that_nothing_changed() -> None:
    # Given a deploy decided in dry-run mode
    # When it is announced
    notification = notify(Outcome.DRY_RUN, to_task_definition="")

    # Then it is informational, names what would have gone out, and says nothing changed
    assert notification.severity == "info"
    assert notification.subject == "[autopilot] dry run: would deploy prod/web"
    assert f"web:1.5.0 ({SHORT_DIGEST})" in notification.text
    assert "app, worker" in notification.text
    assert "Nothing was changed." in notification.text


def test_a_failure_is_critical_and_says_why_and_what_still_runs() -> None:
    # Given a deploy that failed
    # When it is announced
    notification = notify(
        Outcome.FAILED, to_task_definition="", reason="no such containers: worker"
    )

    # Then it is critical, gives the reason, and names the revision still running
    assert notification.severity == "critical"
    assert notification.subject == "[autopilot] FAILED to deploy prod/web"
    assert "no such containers: worker" in notification.text
    assert "The service still runs web:6." in notification.text


@pytest.mark.parametrize("outcome", [Outcome.DEPLOYED, Outcome.DRY_RUN, Outcome.FAILED])
def test_messages_show_the_short_digest_not_the_full_one(outcome: Outcome) -> None:
    # Given any announced outcome
    # When it is announced
    notification = notify(outcome)

    # Then the digest is shortened for reading
    assert SHORT_DIGEST in notification.text
    assert DIGEST not in notification.text
    assert DIGEST not in notification.subject


@pytest.mark.parametrize("outcome", [Outcome.SKIPPED, Outcome.STARTED])
def test_skips_and_unfinished_actions_are_not_announced(outcome: Outcome) -> None:
    # Given an outcome nobody needs to hear about (it is in the logs and the ledger)
    entry = ledger_entry(outcome, reason="tag feature-x does not match tag:main")

    # When a notification is asked for
    notification = notification_for(entry)

    # Then there is none
    assert notification is None


@pytest.mark.parametrize("kind", ["deploy", "track", "resume-held", "pause"])
def test_an_action_given_up_after_every_attempt_is_told_whatever_its_kind(kind: str) -> None:
    # Given any kind of action the executor gave up on (the batch records it FAILED gave-up)
    reason = "failed 3 attempts, last with ClientError: throttled. Redrive it to try again"
    entry = replace(ledger_entry(Outcome.FAILED, reason=reason), kind=kind, code="gave-up")

    # When it is announced
    notification = notification_for(entry)

    # Then on-call hears it, critical, with the reason (how to resume), and no claim about
    # what runs now or how a deployment ended: the attempts stopped who knows where
    assert notification is not None
    assert notification.severity == "critical"
    assert (
        notification.subject
        == f"[autopilot] {kind} on prod/web FAILED: given up after every attempt"
    )
    assert reason in notification.text
    assert "still runs" not in notification.text


@pytest.mark.parametrize(
    ("via", "strategy", "deployment", "line"),
    [
        (
            "stop-service-deployment",
            "BLUE_GREEN",
            f"{ARN_PREFIX}:service-deployment/prod/web/r9i43YFjvgF_xlg7m2eJ1r",
            "BLUE_GREEN: service deployment r9i43YFjvgF_xlg7m2eJ1r stopped with rollback, "
            "accepted 2.4 s after the alarm.",
        ),
        (
            "update-service",
            "CANARY",
            "ecs-svc/1234567890123456789",
            "CANARY: UpdateService to web:6 (ECS runs it as a new CANARY deployment), "
            "accepted 2.4 s after the alarm.",
        ),
        (
            "update-service",
            "ROLLING",
            "ecs-svc/1234567890123456789",
            "ROLLING: UpdateService to web:6, accepted 2.4 s after the alarm.",
        ),
        (
            "codedeploy-stop",
            "CODE_DEPLOY",
            "d-ABCDEF123",
            "CODE_DEPLOY: CodeDeploy deployment d-ABCDEF123 stopped with rollback, "
            "accepted 2.4 s after the alarm.",
        ),
    ],
)
def test_a_rollback_says_the_strategy_the_call_and_how_soon_it_was_accepted(
    via: str, strategy: str, deployment: str, line: str
) -> None:
    # Given prod/web rolled back from web:7 to web:6 after an alarm, by `via`
    rolled_back = replace(
        ledger_entry(Outcome.ROLLED_BACK, reason="after alarm web-5xx"),
        kind="rollback",
        trigger="alarm",
        from_task_definition=f"{ARN_PREFIX}:task-definition/web:7",
        to_task_definition=f"{ARN_PREFIX}:task-definition/web:6",
        deployment_id=deployment,
        via=via,
        strategy=strategy,
        seconds_to_rollback="2.4",
    )

    # When it is announced
    notification = notification_for(rolled_back)

    # Then one line says how, between what changed and what triggered it
    assert notification is not None
    assert notification.text.splitlines() == [
        "Rolled back prod/web: web:7 -> web:6 (after alarm web-5xx).",
        line,
        "Trigger: alarm evt-42.",
    ]

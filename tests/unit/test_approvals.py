"""Approval gates, the pure decisions: whether a gated service may be deployed, which hook
waits, and what a retry of approve or reject finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autopilot.adapters.ecs import pause_hooks
from autopilot.domain.approvals import after_answer, approval_gate, waiting, waiting_reason
from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.fleet import PauseHook, Service
from autopilot.domain.service_deployments import HookDetail, ServiceDeployment
from autopilot.records import replace

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
SERVICE = Service(
    arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web",
    cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
    name="web",
    status="ACTIVE",
    task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:1",
    containers=(),
    strategy="BLUE_GREEN",
    pause_hooks=(PauseHook(("POST_TEST_TRAFFIC_SHIFT",)),),
)


def _deployment(
    status: str = "IN_PROGRESS", hook_status: str = "AWAITING_ACTION", minutes: int = 0
) -> ServiceDeployment:
    return ServiceDeployment(
        arn=f"arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/d{minutes}",
        status=status,
        target="web:2",
        sources=("web:1",),
        created_at=NOW + timedelta(minutes=minutes),
        lifecycle_stage="POST_TEST_TRAFFIC_SHIFT",
        hooks=(HookDetail(f"ecs-pause-{minutes}", "PAUSE", hook_status, NOW, "ROLLBACK"),),
    )


def test_the_tag_reads_on_and_off_and_refuses_anything_else() -> None:
    assert read_config({"autopilot:approve": "on"}).approve
    assert not read_config({"autopilot:approve": "off"}).approve
    assert not read_config({}).approve
    with pytest.raises(InvalidConfigError):
        read_config({"autopilot:approve": "maybe"})


def test_pause_hooks_are_read_with_the_apis_defaults() -> None:
    # Given a PAUSE hook with no timeout configuration, and a Lambda hook
    hooks = pause_hooks(
        [
            {"targetType": "PAUSE", "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"]},
            {
                "targetType": "AWS_LAMBDA",
                "hookTargetArn": "arn:aws:lambda:...",
                "lifecycleStages": [],
            },
        ]
    )
    # Then only the PAUSE hook, timing out after 1440 minutes into ROLLBACK
    assert hooks == (PauseHook(("POST_TEST_TRAFFIC_SHIFT",), 1440, "ROLLBACK"),)


def test_a_service_not_asking_for_approval_is_never_held() -> None:
    assert approval_gate(replace(SERVICE, strategy="ROLLING", pause_hooks=()), False) is None


def test_a_gated_service_with_a_rollback_pause_may_deploy() -> None:
    assert approval_gate(SERVICE, True) is None


@pytest.mark.parametrize(
    ("service", "says"),
    [
        (replace(SERVICE, pause_hooks=()), "no PAUSE hook"),
        (
            replace(SERVICE, pause_hooks=(PauseHook(("PRE_SCALE_UP",), 10, "CONTINUE"),)),
            "PRE_SCALE_UP has timeoutConfiguration.action CONTINUE",
        ),
        (replace(SERVICE, strategy="ROLLING"), "ROLLING, which has no ECS lifecycle hooks"),
        (replace(SERVICE, deployment_controller="CODE_DEPLOY"), "CODE_DEPLOY"),
    ],
)
def test_a_gate_that_cannot_hold_a_deploy_refuses_it(service: Service, says: str) -> None:
    refusal = approval_gate(service, True)
    assert refusal is not None
    assert refusal.code == "no-approval-gate"
    assert says in refusal.reason


def test_the_newest_paused_deployment_is_the_one_waiting() -> None:
    older, newer = _deployment(minutes=0), _deployment(minutes=5)
    found = waiting([newer, older, _deployment("SUCCESSFUL", "SUCCEEDED", 9)])
    assert found is not None
    assert found.deployment == newer
    assert found.hook.hook_id == "ecs-pause-5"


def test_a_lambda_hook_or_an_answered_one_is_not_waiting() -> None:
    lambda_hook = replace(
        _deployment(), hooks=(HookDetail("h", "AWS_LAMBDA", "AWAITING_ACTION", NOW, "ROLLBACK"),)
    )
    assert waiting([lambda_hook, _deployment(hook_status="SUCCEEDED")]) is None


def test_the_reason_says_when_the_pause_ends_and_how() -> None:
    found = waiting([_deployment()])
    assert found is not None
    text = waiting_reason(
        replace(found, hook=replace(found.hook, expires_at=NOW + timedelta(hours=2))), NOW
    )
    assert "POST_TEST_TRAFFIC_SHIFT" in text
    assert "2 h 0 min from now" in text
    assert "ECS rolls it back (ROLLBACK)" in text


@pytest.mark.parametrize(
    ("kind", "deployment", "answered"),
    [
        ("approve", _deployment(), None),  # still waiting: answer it
        ("approve", _deployment("SUCCESSFUL", "SUCCEEDED"), True),
        ("approve", _deployment("ROLLBACK_IN_PROGRESS", "TIMED_OUT"), False),
        ("reject", _deployment("ROLLBACK_REQUESTED", "SUCCEEDED"), True),
        ("reject", _deployment("ROLLBACK_IN_PROGRESS", "TIMED_OUT"), False),
        ("reject", _deployment("SUCCESSFUL", "SUCCEEDED"), False),
        ("approve", None, False),
    ],
)
def test_a_retry_answers_only_a_hook_still_waiting(
    kind: str, deployment: ServiceDeployment | None, answered: bool | None
) -> None:
    hook_id = "ecs-pause-0"
    found = after_answer(kind, deployment, hook_id)
    assert (found.done if found is not None else None) is answered

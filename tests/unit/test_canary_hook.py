"""The lifecycle hook's pure parts: the invocation exactly as the ECS Developer Guide prints it,
which stages can be judged, a rollback's re-invocation, which target group is green, the
window, the metrics folded per side, and the answer ECS reads."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from autopilot.domain.canary_hook import (
    CALL_BACK_SECONDS,
    ContainerImage,
    Minute,
    ServiceRevision,
    Sides,
    TargetGroupPair,
    answer,
    describe_side,
    fold,
    load_balancer_dimension,
    new_digests,
    rolling_back,
    sides,
    stage_problem,
    target_group_dimension,
    window,
)
from autopilot.models.base import Invalid
from autopilot.models.lifecycle_hook import CanaryState, LifecycleHookInvocation

_ECS = "arn:aws:ecs:us-west-2:123456789012"
GREEN = f"{_ECS}:service-revision/my-cluster/my-service/9313423515462893900"
BLUE = f"{_ECS}:service-revision/my-cluster/my-service/1920498462936580504"
TG_A = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-a/6d0ecf831eec9f09"
TG_B = "arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/shop-b/2f4b1c9e7a3d5e60"

# "Lambda hooks for Amazon ECS service deployments", the full event structure, as printed.
DOCUMENTED: dict[str, Any] = {
    "executionId": "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5",
    "lifecycleStage": "PRODUCTION_TRAFFIC_SHIFT",
    "resourceArn": f"{_ECS}:service-deployment/my-cluster/my-service/EZe5RNVLH6PPzHXINuP28",
    "executionDetails": {
        "serviceArn": f"{_ECS}:service/my-cluster/my-service",
        "targetServiceRevisionArn": GREEN,
        "testTrafficWeights": {},
        "productionTrafficWeights": {GREEN: 100, BLUE: 0},
    },
}


def test_the_documented_invocation_parses_with_the_deployment_under_execution_details() -> None:
    # When the guide's example is parsed
    invocation = LifecycleHookInvocation.parse(DOCUMENTED)

    # Then every field is where the guide puts it
    assert invocation.executionId == "f4fcae0f-9bec-41c6-ba87-0eaa0cef8af5"
    assert invocation.lifecycleStage == "PRODUCTION_TRAFFIC_SHIFT"
    details = invocation.executionDetails
    assert details.serviceArn.endswith(":service/my-cluster/my-service")
    assert details.targetServiceRevisionArn == GREEN
    assert details.productionTrafficWeights == {GREEN: 100.0, BLUE: 0.0}
    assert invocation.hookDetails == {}


def test_hook_details_ecs_hands_back_carry_when_analysis_started() -> None:
    # Given the guide's second invocation, with the hook's configured details and the state an
    # IN_PROGRESS answer returned, merged
    event = copy.deepcopy(DOCUMENTED)
    event["hookDetails"] = {
        "S3_BUCKET_NAME": "my-approval-bucket",
        "autopilotCanaryStartedAt": "2026-11-20T10:00:00Z",
    }

    # Then the start is read back, and the operator's own details are left alone
    invocation = LifecycleHookInvocation.parse(event)
    state = CanaryState.parse(invocation.hookDetails)
    assert state.started_at == datetime(2026, 11, 20, 10, tzinfo=UTC)


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ("flat", "executionDetails"),  # the older guide's shape: facts at the top level
        ("no-stage", "lifecycleStage"),
        ("unknown-stage", "lifecycleStage"),
        ("bad-revision", "targetServiceRevisionArn"),
        ("weight-over-100", "productionTrafficWeights"),
    ],
)
def test_an_invocation_not_in_the_documented_shape_is_invalid(change: str, where: str) -> None:
    event = copy.deepcopy(DOCUMENTED)
    if change == "flat":
        event.update(event.pop("executionDetails"))
    elif change == "no-stage":
        del event["lifecycleStage"]
    elif change == "unknown-stage":
        event["lifecycleStage"] = "SCALE_UP"
    elif change == "bad-revision":
        event["executionDetails"]["targetServiceRevisionArn"] = "revision-9"
    else:
        event["executionDetails"]["productionTrafficWeights"] = {GREEN: 120}

    with pytest.raises(Invalid, match=where):
        LifecycleHookInvocation.parse(event)


def test_a_start_time_in_hook_details_that_is_not_a_time_is_invalid() -> None:
    with pytest.raises(Invalid, match="autopilotCanaryStartedAt"):
        CanaryState.parse({"autopilotCanaryStartedAt": "after lunch"})


# -- stages and rollbacks ----------------------------------------------------------------------


def test_ecs_rolling_back_re_invokes_the_recurring_stages_with_green_at_zero() -> None:
    # Given the guide's PRODUCTION_TRAFFIC_SHIFT during a rollback: blue 100%, green 0%
    rollback = {GREEN: 0.0, BLUE: 100.0}

    # Then it is a rollback; the same weights before a step (PRE_PRODUCTION) are not, and
    # neither is the forward shift
    assert rolling_back("PRODUCTION_TRAFFIC_SHIFT", GREEN, {}, rollback)
    assert rolling_back("TEST_TRAFFIC_SHIFT", GREEN, rollback, {})
    assert not rolling_back("PRE_PRODUCTION_TRAFFIC_SHIFT", GREEN, {}, rollback)
    assert not rolling_back("PRODUCTION_TRAFFIC_SHIFT", GREEN, {}, {GREEN: 100.0, BLUE: 0.0})
    assert not rolling_back("POST_TEST_TRAFFIC_SHIFT", GREEN, {}, {})


@pytest.mark.parametrize(
    ("stage", "judged"),
    [
        ("RECONCILE_SERVICE", False),
        ("PRE_SCALE_UP", False),
        ("POST_SCALE_UP", False),
        ("TEST_TRAFFIC_SHIFT", True),
        ("POST_TEST_TRAFFIC_SHIFT", True),
        ("PRE_PRODUCTION_TRAFFIC_SHIFT", True),
        ("PRODUCTION_TRAFFIC_SHIFT", True),
        ("POST_PRODUCTION_TRAFFIC_SHIFT", False),
    ],
)
def test_only_stages_where_both_revisions_serve_traffic_are_judged(
    stage: str, judged: bool
) -> None:
    problem = stage_problem(stage)
    assert (problem is None) is judged
    if problem:
        assert "attach the hook at POST_TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT" in problem


# -- which target group is green ---------------------------------------------------------------


def test_green_is_the_target_group_ecs_resolved_for_the_new_revision_whichever_it_is() -> None:
    pair = TargetGroupPair(TG_A, TG_B)
    # A first deployment: green in the alternate target group
    assert sides([TG_B], [pair]) == Sides(green=TG_B, blue=TG_A)
    # The next one: production moved to B, so green is registered in A
    assert sides([TG_A], [pair]) == Sides(green=TG_A, blue=TG_B)


@pytest.mark.parametrize(
    ("pairs", "resolved", "message"),
    [
        ((), [TG_B], "the service has no load balancer"),
        ((TargetGroupPair(TG_A, None),), [TG_A], "no alternate target group"),
        ((TargetGroupPair(TG_A, TG_B),), [], "ECS does not say which"),
    ],
)
def test_blue_and_green_that_cannot_be_told_apart_say_why(
    pairs: tuple[TargetGroupPair, ...], resolved: list[str], message: str
) -> None:
    found = sides(resolved, pairs)
    assert isinstance(found, str)
    assert message in found


def test_metric_dimensions_are_the_arn_suffixes_cloudwatch_names() -> None:
    assert target_group_dimension(TG_A) == "targetgroup/shop-a/6d0ecf831eec9f09"
    lb = TG_A.split(":targetgroup/", maxsplit=1)[0] + ":loadbalancer/app/shop/50dc6c495c0c9188"
    assert load_balancer_dimension(lb) == "app/shop/50dc6c495c0c9188"
    # A Network Load Balancer publishes no AWS/ApplicationELB metrics
    assert load_balancer_dimension(lb.replace("/app/", "/net/")) is None
    with pytest.raises(ValueError, match="not a target group"):
        target_group_dimension(lb)


# -- the window and the figures ----------------------------------------------------------------


def test_the_window_is_the_whole_minutes_since_analysis_started() -> None:
    started = datetime(2026, 11, 20, 10, 0, 20, tzinfo=UTC)
    # Within the first minute: nothing to judge yet
    assert window(started, datetime(2026, 11, 20, 10, 1, 30, tzinfo=UTC)) is None
    # Later: from the first full minute to the last
    judged = window(started, datetime(2026, 11, 20, 10, 9, 45, tzinfo=UTC))
    assert judged is not None
    assert judged.describe() == "2026-11-20T10:01:00Z/2026-11-20T10:09:00Z"
    assert judged.end - judged.start == timedelta(minutes=8)


def test_minutes_fold_into_one_side_with_percentiles_weighted_by_requests() -> None:
    # Given a busy minute (900 requests, p99 200 ms) and a quiet one (100, p99 1 s)
    side = fold(
        [
            Minute(requests=900, errors=2, p99_seconds=0.2, p95_seconds=0.1),
            Minute(requests=100, errors=1, p99_seconds=1.0, p95_seconds=0.5),
        ]
    )

    # Then requests and errors add up; p99 is 0.9 x 200 + 0.1 x 1000 = 280 ms
    assert (side.requests, side.errors) == (1000, 3)
    assert side.p99_seconds == pytest.approx(0.28)
    assert side.p95_seconds == pytest.approx(0.14)
    assert describe_side(side) == ("requests=1000 errors=3 error_rate=0.30% p99_ms=280 p95_ms=140")
    # and a side that served nothing has no percentile
    assert describe_side(fold([])) == "requests=0 errors=0 error_rate=0.00% p99_ms=n/a p95_ms=n/a"


def test_the_digests_a_deployment_brought_leave_unchanged_sidecars_out() -> None:
    # Given green changed the cart container (pinned) and kept the log router (a tag, which
    # ECS resolved to a digest for the revision)
    green = ServiceRevision(
        arn=GREEN,
        service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/cart",
        task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/cart:3",
        images=(
            ContainerImage("cart", "r/cart@sha256:" + "b" * 64, "sha256:" + "b" * 64),
            ContainerImage("log-router", "r/log-router:2.1", "sha256:" + "c" * 64),
        ),
        target_groups=(TG_B,),
    )
    blue = {"cart": "r/cart@sha256:" + "a" * 64, "log-router": "r/log-router:2.1"}

    # Then only the cart image's digest is the deployment's
    assert new_digests(green, [blue]) == ("sha256:" + "b" * 64,)


# -- the answer ----------------------------------------------------------------------------------


def test_the_answer_is_exactly_what_ecs_reads() -> None:
    assert answer("SUCCEEDED") == {"hookStatus": "SUCCEEDED"}
    assert answer("FAILED") == {"hookStatus": "FAILED"}
    assert answer(
        "IN_PROGRESS",
        delay=CALL_BACK_SECONDS,
        details={"autopilotCanaryStartedAt": "2026-11-20T10:00:00Z"},
    ) == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 60,
        "hookDetails": {"autopilotCanaryStartedAt": "2026-11-20T10:00:00Z"},
    }

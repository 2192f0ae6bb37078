"""The canary lifecycle hook, as ECS sees it: the answer to each invocation (exactly the fields
the ECS Developer Guide documents), and the verdict it queues for the ledger."""

from __future__ import annotations

import copy
from datetime import timedelta
from typing import Any

import pytest
from botocore.exceptions import ClientError

from autopilot.domain.canary_hook import Minute, TargetGroupPair
from autopilot.hook import on_invocation
from autopilot.models.lifecycle_hook import LifecycleHookInvocation
from autopilot.workflows.canary_action import CanaryVerdictRequest
from autopilot.workflows.canary_hook import on_lifecycle_hook
from tests.fakes.canary import (
    ALTERNATE_TG,
    BLUE_REVISION,
    DEPLOYMENT,
    GREEN_REVISION,
    LOAD_BALANCER,
    PRIMARY_TG,
    SERVICE,
    FakeHookAws,
    cart_service,
    revision,
)
from tests.fakes.world import T0, Clock

DIGEST = "sha256:" + "b" * 64
PRIMARY_ONLY = TargetGroupPair(PRIMARY_TG, None)


def invocation(
    stage: str = "POST_TEST_TRAFFIC_SHIFT",
    hook_details: dict[str, Any] | None = None,
    production: dict[str, float] | None = None,
) -> dict[str, Any]:
    """An invocation in the shape the ECS Developer Guide prints."""
    event: dict[str, Any] = {
        "executionId": "3a0345ba-b029-404b-890d-7da2a4b266aa",
        "lifecycleStage": stage,
        "resourceArn": DEPLOYMENT,
        "executionDetails": {
            "serviceArn": SERVICE,
            "targetServiceRevisionArn": GREEN_REVISION,
            "testTrafficWeights": {},
            "productionTrafficWeights": production or {},
        },
    }
    if hook_details is not None:
        event["hookDetails"] = hook_details
    return event


def later(event: dict[str, Any], answered: dict[str, Any]) -> dict[str, Any]:
    """The next invocation, with the hookDetails ECS hands back from an IN_PROGRESS answer."""
    again = copy.deepcopy(event)
    again["hookDetails"] = {**event.get("hookDetails", {}), **answered["hookDetails"]}
    return again


def steady(requests: int, errors: int, p99: float, minutes: int = 10) -> list[Minute]:
    return [Minute(requests, errors, p99, p99 / 2)] * minutes


@pytest.fixture
def aws() -> FakeHookAws:
    """Given prod/cart asking for canary analysis, deploying build 2 (green) into the alternate
    target group, both target groups behind one Application Load Balancer."""
    hook = FakeHookAws(Clock(T0))
    hook.services.services[SERVICE] = cart_service({"autopilot:canary": "on"})
    hook.services.revisions[GREEN_REVISION] = revision(
        GREEN_REVISION, ALTERNATE_TG, {"cart": (f"r/cart@{DIGEST}", DIGEST)}
    )
    hook.target_groups.fronts = {PRIMARY_TG: (LOAD_BALANCER,), ALTERNATE_TG: (LOAD_BALANCER,)}
    return hook


def run(event: dict[str, Any], aws: FakeHookAws) -> dict[str, Any]:
    return on_lifecycle_hook(LifecycleHookInvocation.parse(event), aws)


def verdicts(aws: FakeHookAws) -> list[CanaryVerdictRequest]:
    return [m for m in aws.queue.messages if isinstance(m, CanaryVerdictRequest)]


def test_the_first_invocation_waits_and_hands_ecs_the_start_to_pass_back(aws: FakeHookAws) -> None:
    # When ECS first invokes the hook
    answered = run(invocation(), aws)

    # Then it answers IN_PROGRESS, asks to be called again in 60 s, and keeps when analysis
    # started in hookDetails (ECS's only state between invocations); nothing is queued yet
    assert answered == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 60,
        "hookDetails": {"autopilotCanaryStartedAt": "2026-11-24T14:00:00Z"},
    }
    assert aws.metrics.queries == []
    assert verdicts(aws) == []


def test_a_green_no_worse_than_blue_succeeds_and_the_verdict_is_queued_with_its_figures(
    aws: FakeHookAws,
) -> None:
    # Given ten minutes of traffic: blue 900/min with 0.2% errors, green 100/min alike
    aws.metrics.series = {
        PRIMARY_TG: steady(900, 2, 0.18),
        ALTERNATE_TG: steady(100, 0, 0.19),
    }
    first = invocation()
    started = run(first, aws)

    # When ECS calls back ten minutes later with the details it was handed
    aws.clock.advance(timedelta(minutes=10))
    answered = run(later(first, started), aws)

    # Then the deployment goes on
    assert answered == {"hookStatus": "SUCCEEDED"}
    # after one metrics query over the window, against the load balancer in front of both
    [(load_balancer, target_groups, window)] = aws.metrics.queries
    assert load_balancer == "app/shop/50dc6c495c0c9188"
    assert target_groups == (ALTERNATE_TG, PRIMARY_TG)
    assert window.describe() == "2026-11-24T14:00:00Z/2026-11-24T14:10:00Z"
    # and the verdict goes to the executor, with both sides' numbers
    [verdict] = verdicts(aws)
    assert (verdict.verdict, verdict.answered, verdict.code) == (
        "SUCCEEDED",
        "SUCCEEDED",
        "no-worse",
    )
    assert (verdict.trigger, verdict.trigger_id) == (
        "ecs-lifecycle-hook",
        "3a0345ba-b029-404b-890d-7da2a4b266aa",
    )
    assert verdict.trigger_time == T0  # when analysis started: the same for every call back
    assert (verdict.green_target_group, verdict.blue_target_group) == (ALTERNATE_TG, PRIMARY_TG)
    assert verdict.blue is not None
    assert verdict.green is not None
    assert (verdict.blue.requests, verdict.blue.errors) == (9000, 20)
    assert (verdict.green.requests, verdict.green.errors) == (1000, 0)
    assert verdict.target_revision == GREEN_REVISION
    assert verdict.deployment == DEPLOYMENT


def test_a_green_failing_one_request_in_ten_fails_and_ecs_rolls_back(aws: FakeHookAws) -> None:
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 10, 0.6)}
    first = invocation()
    started = run(first, aws)
    aws.clock.advance(timedelta(minutes=10))

    answered = run(later(first, started), aws)

    assert answered == {"hookStatus": "FAILED"}
    [verdict] = verdicts(aws)
    assert (verdict.verdict, verdict.code) == ("FAILED", "error-regression")
    assert verdict.reason.startswith("error rate 10.00% against blue's 0.22%")
    assert verdict.reason.endswith("(error-ratio=2 p99-ratio=1.5 min-requests=200 max-minutes=30)")


def test_too_little_traffic_waits_with_the_same_start_then_fails_after_max_minutes(
    aws: FakeHookAws,
) -> None:
    # Given green has served 15 requests a minute (min-requests is 200)
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(15, 0, 0.19)}
    first = invocation()
    started = run(first, aws)

    # When ECS calls back five minutes later
    aws.clock.advance(timedelta(minutes=5))
    waiting = run(later(first, started), aws)

    # Then it waits again, the start unchanged, and nothing is recorded
    assert waiting == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 60,
        "hookDetails": {"autopilotCanaryStartedAt": "2026-11-24T14:00:00Z"},
    }
    assert verdicts(aws) == []

    # When max-minutes (30) have passed without enough traffic
    aws.clock.advance(timedelta(minutes=25))
    answered = run(later(first, waiting), aws)

    # Then a canary that could not be judged is not promoted
    assert answered == {"hookStatus": "FAILED"}
    [verdict] = verdicts(aws)
    assert verdict.code == "not-enough-traffic"


@pytest.mark.parametrize("tags", [{}, {"autopilot:canary": "off"}])
def test_no_tag_or_off_lets_the_deployment_go_on_unjudged(
    aws: FakeHookAws, tags: dict[str, str]
) -> None:
    aws.services.services[SERVICE] = cart_service(tags)

    answered = run(invocation(), aws)

    assert answered == {"hookStatus": "SUCCEEDED"}
    assert verdicts(aws) == []
    assert aws.metrics.queries == []


@pytest.mark.parametrize(
    ("setup", "reason"),
    [
        (
            lambda aws: aws.services.services.update(
                {
                    SERVICE: cart_service(
                        {"autopilot:canary": "on"}, (TargetGroupPair(PRIMARY_TG, None),)
                    )
                }
            ),
            "no alternate target group",
        ),
        (
            lambda aws: aws.services.services.update(
                {SERVICE: cart_service({"autopilot:canary": "on"}, ())}
            ),
            "the service has no load balancer",
        ),
        (
            lambda aws: aws.services.services.update(
                {SERVICE: cart_service({"autopilot:canary": "error-ratio=lots"})}
            ),
            "error-ratio must be a number",
        ),
        (lambda aws: aws.services.revisions.clear(), "ECS shows no revision"),
        (
            lambda aws: aws.target_groups.fronts.update({PRIMARY_TG: ()}),
            "behind no common Application Load Balancer",
        ),
    ],
    ids=["no-alternate-target-group", "no-load-balancer", "bad-tag", "no-revision", "no-alb"],
)
def test_a_service_that_asks_for_analysis_and_cannot_have_it_fails_closed(
    aws: FakeHookAws, setup: Any, reason: str
) -> None:
    # Given the service carries autopilot:canary, and one fact the analysis needs is missing
    setup(aws)

    # When ECS invokes the hook
    answered = run(invocation(), aws)

    # Then the deployment is rolled back rather than let through unjudged, and the reason is
    # queued for the ledger and on-call
    assert answered == {"hookStatus": "FAILED"}
    [verdict] = verdicts(aws)
    assert (verdict.verdict, verdict.code) == ("FAILED", "not-analysed")
    assert verdict.reason.startswith("could not analyse: ")
    assert reason in verdict.reason
    assert verdict.window_start is None
    assert verdict.blue is None


def test_a_stage_where_blue_serves_nothing_is_not_analysed(aws: FakeHookAws) -> None:
    answered = run(invocation("POST_PRODUCTION_TRAFFIC_SHIFT"), aws)

    assert answered == {"hookStatus": "FAILED"}
    [verdict] = verdicts(aws)
    assert "the old revision serves no traffic any more" in verdict.reason


def test_a_rollback_re_invocation_is_never_held_up_or_failed(aws: FakeHookAws) -> None:
    # Given ECS rolling back: PRODUCTION_TRAFFIC_SHIFT with all production back on blue
    event = invocation(
        "PRODUCTION_TRAFFIC_SHIFT", production={GREEN_REVISION: 0, BLUE_REVISION: 100}
    )

    # Then the hook lets the rollback go on without reading anything
    assert run(event, aws) == {"hookStatus": "SUCCEEDED"}
    assert aws.services.reads == 0
    assert verdicts(aws) == []


def test_in_a_dry_run_ecs_is_told_succeeded_and_the_real_verdict_is_recorded(
    aws: FakeHookAws,
) -> None:
    aws.dry_run = True
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 10, 0.6)}
    first = invocation()
    started = run(first, aws)
    aws.clock.advance(timedelta(minutes=10))

    assert run(later(first, started), aws) == {"hookStatus": "SUCCEEDED"}
    [verdict] = verdicts(aws)
    assert (verdict.verdict, verdict.answered) == ("FAILED", "SUCCEEDED")


def test_the_same_verdict_queued_twice_is_one_action(aws: FakeHookAws) -> None:
    # Given ECS invokes the final call twice (its answer was lost)
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 0, 0.19)}
    first = invocation()
    started = run(first, aws)
    aws.clock.advance(timedelta(minutes=10))
    run(later(first, started), aws)
    aws.clock.advance(timedelta(seconds=20))
    run(later(first, started), aws)

    # Then both carry one action id and one trigger time: the queue (and the ledger) keep one
    assert aws.queue.sends == 2
    assert len(verdicts(aws)) == 1


@pytest.mark.parametrize(
    "event",
    [
        {"serviceArn": SERVICE, "targetServiceRevisionArn": GREEN_REVISION},  # the older shape
        {"executionId": "x", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT"},
        ["not", "an", "object"],
        invocation(hook_details={"autopilotCanaryStartedAt": "after lunch"}),
    ],
    ids=["flat", "no-details", "not-an-object", "bad-start"],
)
def test_a_malformed_invocation_is_answered_failed_and_kept_with_its_reason(
    aws: FakeHookAws, event: Any
) -> None:
    # Given an invocation not in the documented shape
    kept: list[tuple[object, str]] = []

    def hook(parsed: LifecycleHookInvocation) -> dict[str, Any]:
        return on_lifecycle_hook(parsed, aws)

    # When it reaches the edge
    answered = on_invocation(
        event, LifecycleHookInvocation.parse, hook, lambda bad, why: kept.append((bad, why))
    )

    # Then ECS is answered FAILED (fail closed), and the invocation is kept with the reason
    assert answered == {"hookStatus": "FAILED"}
    [(bad, why)] = kept
    assert bad == event
    assert why
    assert verdicts(aws) == []


def test_a_hook_called_back_late_judges_the_first_max_minutes_only(aws: FakeHookAws) -> None:
    # Given max-minutes 20 and a call back an hour after analysis started
    aws.services.services[SERVICE] = cart_service({"autopilot:canary": "max-minutes=20"})
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 0, 0.19)}
    first = invocation()
    started = run(first, aws)
    aws.clock.advance(timedelta(hours=1))

    # When it is judged
    assert run(later(first, started), aws) == {"hookStatus": "SUCCEEDED"}

    # Then the window is the twenty minutes it was meant to judge
    [(_, _, window)] = aws.metrics.queries
    assert window.describe() == "2026-11-24T14:00:00Z/2026-11-24T14:20:00Z"


class _Throttled:
    """GetMetricData refused, as CloudWatch refuses it when the account's rate is spent."""

    def __init__(self) -> None:
        self.calls = 0

    def minutes(self, *_: object) -> dict[str, list[Minute]]:
        self.calls += 1
        raise ClientError(
            {"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}},
            "GetMetricData",
        )


def test_a_failing_aws_read_asks_ecs_to_call_again_instead_of_rolling_back(
    aws: FakeHookAws,
) -> None:
    # Given analysis started, and CloudWatch throttles the metrics query ten minutes later
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 0, 0.19)}
    first = invocation()
    started = run(first, aws)
    throttled = _Throttled()
    aws.metrics = throttled  # type: ignore[assignment]
    aws.clock.advance(timedelta(minutes=10))

    # When ECS calls back
    answered = run(later(first, started), aws)

    # Then the hook asks to be called again, with the same start: a good revision is not
    # rolled back because a read failed, and nothing is recorded yet
    assert throttled.calls == 1
    assert answered == {
        "hookStatus": "IN_PROGRESS",
        "callBackDelay": 60,
        "hookDetails": {"autopilotCanaryStartedAt": "2026-11-24T14:00:00Z"},
    }
    assert verdicts(aws) == []


def test_aws_failing_for_as_long_as_analysis_may_last_fails_closed_and_says_so(
    aws: FakeHookAws,
) -> None:
    # Given analysis started 30 minutes ago and every metrics query since was throttled
    first = invocation()
    started = run(first, aws)
    aws.metrics = _Throttled()  # type: ignore[assignment]
    aws.clock.advance(timedelta(minutes=30))

    # When ECS calls back
    answered = run(later(first, started), aws)

    # Then the deployment is failed closed, and the verdict says why
    assert answered == {"hookStatus": "FAILED"}
    [verdict] = verdicts(aws)
    assert (verdict.verdict, verdict.code) == ("FAILED", "not-analysed")
    assert "AWS kept failing" in verdict.reason
    assert "ThrottlingException" in verdict.reason


def test_a_passing_verdict_that_cannot_be_queued_is_asked_again_not_rolled_back(
    aws: FakeHookAws,
) -> None:
    # Given ten minutes of traffic where green is no worse, and SQS refusing the verdict once
    aws.metrics.series = {PRIMARY_TG: steady(900, 2, 0.18), ALTERNATE_TG: steady(100, 0, 0.19)}
    first = invocation()
    started = run(first, aws)
    aws.clock.advance(timedelta(minutes=10))
    send = aws.queue.send
    refused: list[object] = []

    def refuse_once(request: CanaryVerdictRequest) -> None:
        if not refused:
            refused.append(request)
            raise ClientError({"Error": {"Code": "ServiceUnavailable"}}, "SendMessage")
        send(request)

    aws.queue.send = refuse_once  # type: ignore[method-assign,assignment]

    # When ECS calls back, and again a minute later
    waited = run(later(first, started), aws)
    aws.clock.advance(timedelta(minutes=1))
    answered = run(later(first, waited), aws)

    # Then the first answer waits (ECS does not roll back a good revision), the next one
    # passes, and the verdict reaches the executor once
    assert waited["hookStatus"] == "IN_PROGRESS"
    assert answered == {"hookStatus": "SUCCEEDED"}
    assert [v.verdict for v in verdicts(aws)] == ["SUCCEEDED"]

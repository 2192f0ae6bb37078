"""Canary analysis as an Amazon ECS lifecycle hook: which target group carries which revision,
which stages can be judged, the window judged, and the answer ECS expects. Pure.

What ECS sends and expects
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html): the
invocation carries `executionId`, `lifecycleStage`, `resourceArn` (the service deployment)
and `executionDetails` (`serviceArn`, `targetServiceRevisionArn`, and `testTrafficWeights` /
`productionTrafficWeights`, maps of service revision ARN to percent), plus `hookDetails`: the
hook's own configuration merged with what the previous IN_PROGRESS answer returned (only
between invocations of the same hook in one deployment). The answer is `hookStatus` SUCCEEDED,
FAILED or IN_PROGRESS, with `callBackDelay` (seconds, default 30) and `hookDetails`; an error
or an invalid answer rolls the deployment back. ECS re-invokes the hooks of
TEST_TRAFFIC_SHIFT and PRODUCTION_TRAFFIC_SHIFT while it rolls back, with the traffic going
back to the old revision (the target revision at 0%, another at 100%).

Which target group carries green (the target revision) and which blue, at each stage
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html,
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHook.html):
the service's load balancer entry names two target groups, `targetGroupArn` and
`advancedConfiguration.alternateTargetGroupArn`. AWS's set-up guide calls the first the blue
one and the second the green one
(https://docs.aws.amazon.com/AmazonECS/latest/developerguide/alb-resources-for-blue-green.html),
but that holds for a first deployment only: ECS moves production to the green target group and
the next deployment registers its green tasks in the other one. So green's target group is read
from the target revision itself, `resolvedConfiguration.loadBalancers[].targetGroupArn`, "the
target group associated with the service revision"
(https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevisionLoadBalancer.html);
blue's is the other one of the pair. Within a deployment they keep their roles; what each
carries changes with the stage:

    stage                          blue's target group      green's target group     judged
    RECONCILE_SERVICE, PRE_SCALE_UP,
      POST_SCALE_UP                100% of production       nothing                  no
    TEST_TRAFFIC_SHIFT             100% of production       test traffic, 0->100%    yes
    POST_TEST_TRAFFIC_SHIFT        100% of production       100% of test traffic     yes
    PRE_PRODUCTION_TRAFFIC_SHIFT   production not yet       test traffic (+ earlier  yes
                                   shifted to green         steps' production)
    PRODUCTION_TRAFFIC_SHIFT       production shifting      production shifting      yes
                                   away (each step)         to it (each step)
    POST_PRODUCTION_TRAFFIC_SHIFT  nothing                  100% of production       no

A stage that cannot be judged, or a service that asks for analysis and cannot have it, fails
closed (FAILED): an operator who asked for analysis never gets a silent pass.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import msgspec

from autopilot.domain.canary import Side

# hookDetails key of this automation's own state: when analysis started (ISO 8601, UTC).
STARTED_AT = "autopilotCanaryStartedAt"
CALL_BACK_SECONDS = 60  # how long ECS waits before asking again while the canary gathers traffic

RECURRING = frozenset({"TEST_TRAFFIC_SHIFT", "PRODUCTION_TRAFFIC_SHIFT"})  # re-run on rollback
JUDGED = frozenset(
    {
        "TEST_TRAFFIC_SHIFT",
        "POST_TEST_TRAFFIC_SHIFT",
        "PRE_PRODUCTION_TRAFFIC_SHIFT",
        "PRODUCTION_TRAFFIC_SHIFT",
    }
)
_GREEN_IDLE = frozenset({"RECONCILE_SERVICE", "PRE_SCALE_UP", "POST_SCALE_UP"})
_BLUE_IDLE = frozenset({"POST_PRODUCTION_TRAFFIC_SHIFT"})
_ATTACH = "attach the hook at POST_TEST_TRAFFIC_SHIFT or PRODUCTION_TRAFFIC_SHIFT"


def answer(
    status: str, *, delay: int | None = None, details: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The answer ECS reads: `hookStatus`, and for IN_PROGRESS `callBackDelay` and
    `hookDetails` (nothing else: an answer ECS cannot read rolls the deployment back)."""
    found: dict[str, Any] = {"hookStatus": status}
    if delay is not None:
        found["callBackDelay"] = delay
    if details is not None:
        found["hookDetails"] = dict(details)
    return found


def rolling_back(
    stage: str,
    target: str,
    test_weights: Mapping[str, float],
    production_weights: Mapping[str, float],
) -> bool:
    """ECS re-invokes the recurring stages while it rolls back: the target revision is then at
    0% of that stage's traffic and another revision has it."""
    if stage not in RECURRING:
        return False
    weights = production_weights if stage == "PRODUCTION_TRAFFIC_SHIFT" else test_weights
    others = [w for arn, w in weights.items() if arn != target]
    return weights.get(target) == 0 and any(w > 0 for w in others)


def stage_problem(stage: str) -> str | None:
    """Why the stage cannot be judged (None: it can)."""
    if stage in _GREEN_IDLE:
        return f"at {stage} the new revision serves no traffic yet: nothing to judge; {_ATTACH}"
    if stage in _BLUE_IDLE:
        return (
            f"at {stage} the old revision serves no traffic any more: nothing to compare "
            f"with; {_ATTACH}"
        )
    if stage not in JUDGED:
        return f"{stage} is not a stage this hook judges; {_ATTACH}"
    return None


class TargetGroupPair(msgspec.Struct, frozen=True):
    """One load balancer entry of a service: its target group and the alternate one."""

    target_group: str
    alternate: str | None


class Sides(msgspec.Struct, frozen=True):
    green: str  # target group ARNs
    blue: str


def sides(green_target_groups: Iterable[str], pairs: Iterable[TargetGroupPair]) -> Sides | str:
    """Green's and blue's target groups, or what keeps them from being known."""
    listed = list(pairs)
    if not listed:
        return "the service has no load balancer: there is no traffic to compare"
    paired = [p for p in listed if p.alternate]
    if not paired:
        return (
            "the service's load balancer has no alternate target group "
            "(advancedConfiguration.alternateTargetGroupArn): blue and green cannot be told apart"
        )
    greens = set(green_target_groups)
    for pair in paired:
        assert pair.alternate is not None
        if pair.target_group in greens:
            return Sides(green=pair.target_group, blue=pair.alternate)
        if pair.alternate in greens:
            return Sides(green=pair.alternate, blue=pair.target_group)
    named = ", ".join(sorted(greens)) or "none"
    return (
        "ECS does not say which of the service's target groups serves the new revision "
        f"(its resolved target groups: {named}): blue and green cannot be told apart"
    )


def _resource(arn: str) -> str:
    """What follows the service name in an ARN: `targetgroup/...`, `loadbalancer/...`."""
    parts = arn.split(":", 5)
    return parts[5] if len(parts) == 6 else ""


def target_group_dimension(arn: str) -> str:
    """The `TargetGroup` dimension of AWS/ApplicationELB: `targetgroup/NAME/ID`."""
    resource = _resource(arn)
    if not resource.startswith("targetgroup/") or resource.count("/") != 2:
        raise ValueError(f"not a target group ARN: {arn}")
    return resource


def load_balancer_dimension(arn: str) -> str | None:
    """The `LoadBalancer` dimension of AWS/ApplicationELB, `app/NAME/ID`; None for a load
    balancer that is not an Application Load Balancer (no such metrics)."""
    resource = _resource(arn).removeprefix("loadbalancer/")
    return resource if resource.startswith("app/") and resource.count("/") == 2 else None


class Minute(msgspec.Struct, frozen=True):
    """One target group's figures for one minute, as GetMetricData answers them (period 60)."""

    requests: float = 0.0
    errors: float = 0.0
    p99_seconds: float | None = None
    p95_seconds: float | None = None


def fold(minutes: Iterable[Minute]) -> Side:
    """A target group over the window: requests and errors added up; p99 and p95 as the mean
    of the minutes' percentiles weighted by each minute's requests (CloudWatch answers a
    percentile per period and percentiles do not add up; the weighting keeps a minute with a
    handful of requests from standing for the whole window)."""
    listed = list(minutes)
    requests = sum(m.requests for m in listed)
    errors = sum(m.errors for m in listed)
    return Side(
        requests=round(requests),
        errors=round(errors),
        p99_seconds=_weighted((m.requests, m.p99_seconds) for m in listed),
        p95_seconds=_weighted((m.requests, m.p95_seconds) for m in listed),
    )


def _weighted(pairs: Iterable[tuple[float, float | None]]) -> float | None:
    weighted = [(w, v) for w, v in pairs if v is not None and w > 0]
    total = sum(w for w, _ in weighted)
    return sum(w * v for w, v in weighted) / total if total else None


class Window(msgspec.Struct, frozen=True):
    """The whole minutes judged: from the first full minute after analysis started to the last
    full minute before now."""

    start: datetime
    end: datetime

    def describe(self) -> str:
        return f"{_utc(self.start)}/{_utc(self.end)}"


def window(started: datetime, now: datetime) -> Window | None:
    """None until a whole minute has passed since analysis started."""
    start = _minute_ceiling(started)
    end = now.replace(second=0, microsecond=0)
    return Window(start, end) if end > start else None


def minutes_since(started: datetime, now: datetime) -> float:
    return max((now - started).total_seconds(), 0.0) / 60


def _minute_ceiling(moment: datetime) -> datetime:
    floor = moment.replace(second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(minutes=1)


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def describe_side(side: Side) -> str:
    """One side's figures as the ledger keeps them: `requests=7201 errors=12 error_rate=0.17%
    p99_ms=180 p95_ms=121` (a percentile with no request is `n/a`)."""
    return (
        f"requests={side.requests} errors={side.errors} error_rate={side.error_rate:.2%} "
        f"p99_ms={_milliseconds(side.p99_seconds)} p95_ms={_milliseconds(side.p95_seconds)}"
    )


def _milliseconds(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "n/a"
    return f"{seconds * 1000:.0f}"


class ServiceTraffic(msgspec.Struct, frozen=True):
    """What the hook reads of a service (DescribeServices): its tags and load balancer entries."""

    arn: str
    tags: Mapping[str, str]
    pairs: tuple[TargetGroupPair, ...]


class ContainerImage(msgspec.Struct, frozen=True):
    container: str
    image: str  # as the task definition names it
    digest: str  # as ECS resolved it for the revision ("" when it did not say)


class ServiceRevision(msgspec.Struct, frozen=True):
    """A service revision as DescribeServiceRevisions shows it."""

    arn: str
    service_arn: str
    task_definition: str
    images: tuple[ContainerImage, ...]
    target_groups: tuple[str, ...]  # resolvedConfiguration.loadBalancers[].targetGroupArn


def new_digests(green: ServiceRevision, others: Iterable[Mapping[str, str]]) -> tuple[str, ...]:
    """The digests the new revision brought: of each container whose image differs from that
    container's image in every other revision the service runs (`others`: container name ->
    image). A sidecar the deployment did not change is never among them, pinned or not."""
    listed = list(others)
    found: set[str] = set()
    for image in green.images:
        if any(other.get(image.container) == image.image for other in listed):
            continue
        digest = image.digest or _pinned_digest(image.image)
        if digest:
            found.add(digest)
    return tuple(sorted(found))


def _pinned_digest(image: str) -> str:
    _, at, digest = image.partition("@")
    return digest if at and digest.startswith("sha256:") else ""

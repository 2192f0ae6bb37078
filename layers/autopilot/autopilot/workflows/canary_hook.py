"""Canary analysis as an ECS lifecycle hook: judge the new revision (green) against the running
one (blue) from their target groups' load balancer metrics, and answer ECS.

Each invocation, in order (what ECS sends, and which target group carries which revision at
each stage, with the AWS documentation it rests on: domain/canary_hook.py):

1. ECS rolling back (a recurring stage re-run with the target revision at 0%): SUCCEEDED at
   once, nothing judged or recorded: a hook must never hold up or fail a rollback.
2. No `autopilot:canary` tag, or `off`: SUCCEEDED, "analysis is off" logged. The tags are read
   first (tag:GetResources): ECS is asked about the service only once it opted in.
3. Every fact the analysis needs: the tag's settings, a stage where both revisions serve
   traffic, the target revision (DescribeServiceRevisions: the target group ECS resolved for
   it), the service's target group pair (DescribeServices: `targetGroupArn` and
   `advancedConfiguration.alternateTargetGroupArn`), one Application Load Balancer in front of
   both (DescribeTargetGroups' `LoadBalancerArns`). Any of them missing: **FAILED** ("could not
   analyse"), logged, counted (CanaryNotAnalysed) and recorded: an operator who asked for
   analysis never gets a silent pass.
4. The window: from when analysis started (kept in `hookDetails`, which ECS hands back) to now,
   in whole minutes. Until a minute has passed: IN_PROGRESS.
5. One GetMetricData call for both target groups; `domain.canary.judge`: IN_PROGRESS (with
   `callBackDelay` and the start time in `hookDetails`) while either side has too few
   requests, SUCCEEDED when green is no worse, FAILED when it is, or when `max-minutes` passed
   without enough traffic.

Every final answer is queued as a `canary` action (workflows/canary_action.py), which the
executor records, notifies and, on a regression, follows with the digest's quarantine. A
failure to queue it is an error: ECS rolls back (fail closed) and the function's errors alarm
tells. With DryRun, ECS is told SUCCEEDED whatever the verdict, and the verdict is recorded.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Protocol

from botocore.exceptions import BotoCoreError, ClientError

from autopilot.domain.canary import (
    CANARY,
    CanaryConfig,
    Judgement,
    Verdict,
    judge,
    read_canary_config,
)
from autopilot.domain.canary_hook import (
    CALL_BACK_SECONDS,
    STARTED_AT,
    Sides,
    Window,
    answer,
    fold,
    load_balancer_dimension,
    minutes_since,
    rolling_back,
    sides,
    stage_problem,
    window,
)
from autopilot.domain.config import InvalidConfigError
from autopilot.domain.errors import NotFoundError
from autopilot.domain.ledger import action_id
from autopilot.models.lifecycle_hook import LifecycleHookInvocation
from autopilot.observability import count, logger
from autopilot.ports import (
    ActionQueue,
    CanaryServiceReader,
    TaggingGateway,
    TargetGroupMetrics,
    TargetGroupReader,
)
from autopilot.workflows.canary_action import (
    KIND,
    NOT_ANALYSED,
    TRIGGER,
    CanaryVerdictRequest,
    HookStatus,
    SideFigures,
)


class HookGateways(Protocol):
    """What the hook may use; each is built on first use."""

    @property
    def tagging(self) -> TaggingGateway: ...
    @property
    def services(self) -> CanaryServiceReader: ...
    @property
    def target_groups(self) -> TargetGroupReader: ...
    @property
    def metrics(self) -> TargetGroupMetrics: ...
    @property
    def queue(self) -> ActionQueue: ...
    @property
    def dry_run(self) -> bool: ...
    def now(self) -> datetime: ...


class _NotAnalysedError(Exception):
    """A fact the analysis needs is missing: the message says which."""


def on_lifecycle_hook(invocation: LifecycleHookInvocation, aws: HookGateways) -> dict[str, Any]:
    """The answer ECS reads (`hookStatus`, and `callBackDelay`/`hookDetails` while waiting)."""
    details = invocation.executionDetails
    logger.append_keys(
        ecs_service=details.serviceArn,
        lifecycle_stage=invocation.lifecycleStage,
        hook_execution=invocation.executionId,
    )
    if rolling_back(
        invocation.lifecycleStage,
        details.targetServiceRevisionArn,
        details.testTrafficWeights,
        details.productionTrafficWeights,
    ):
        logger.info("ECS is rolling back: not judged, the rollback goes on")
        count("CanaryRollbackNotJudged")
        return answer("SUCCEEDED")
    now = aws.now()
    started = invocation.state().started_at or now.replace(microsecond=0)
    try:
        if not aws.tagging.tagged_among([details.serviceArn], CANARY):
            return _off(f"the service carries no {CANARY} tag")
        return _analyse(invocation, aws, started, now)
    except _NotAnalysedError as exc:
        return _not_analysed(invocation, aws, started, now, str(exc))
    except (ClientError, BotoCoreError) as exc:
        # A read or the verdict's queueing failed (throttled, unavailable): a reason to look
        # again a minute later, not to roll back a revision nobody judged. For as long as the
        # default analysis may last; then it fails closed, and says why.
        if minutes_since(started, now) < CanaryConfig().max_minutes:
            logger.warning("canary analysis: AWS failed, asking ECS to call again", exc_info=exc)
            count("CanaryAwsFailed")
            return _waiting(started)
        return _not_analysed(invocation, aws, started, now, f"AWS kept failing: {exc}")


def _analyse(
    invocation: LifecycleHookInvocation, aws: HookGateways, started: datetime, now: datetime
) -> dict[str, Any]:
    details = invocation.executionDetails
    service = aws.services.service(details.serviceArn)
    if service is None:
        raise _NotAnalysedError("the service is not found or no longer active")
    try:
        config = read_canary_config(service.tags.get(CANARY))
    except InvalidConfigError as exc:
        raise _NotAnalysedError(str(exc)) from None
    if config is None:
        return _off(f"{CANARY} is off")
    problem = stage_problem(invocation.lifecycleStage)
    if problem:
        raise _NotAnalysedError(problem)
    revision = aws.services.revision(details.targetServiceRevisionArn)
    if revision is None or revision.service_arn != details.serviceArn:
        raise _NotAnalysedError(
            f"ECS shows no revision {details.targetServiceRevisionArn} of this service"
        )
    found = sides(revision.target_groups, service.pairs)
    if isinstance(found, str):
        raise _NotAnalysedError(found)
    load_balancer = _load_balancer(aws, found)
    # At most max-minutes long: a hook called back late judges the minutes it was meant to.
    judged = window(started, min(now, started + timedelta(minutes=config.max_minutes)))
    if judged is None:
        logger.info("canary analysis started: the first minute is not over yet")
        return _waiting(started)
    minutes = aws.metrics.minutes(load_balancer, [found.green, found.blue], judged)
    blue, green = fold(minutes[found.blue]), fold(minutes[found.green])
    judgement = judge(blue, green, config, minutes_since(started, now))
    logger.info(
        "canary judged",
        extra={
            "verdict": judgement.verdict.value,
            "reason": judgement.reason,
            "figures": judgement.figures(),
            "window": judged.describe(),
        },
    )
    if judgement.verdict is Verdict.IN_PROGRESS:
        count("CanaryWaiting")
        return _waiting(started)
    return _verdict(invocation, aws, (started, now), judgement, judged, found, config)


def _load_balancer(aws: HookGateways, found: Sides) -> str:
    """The `LoadBalancer` dimension of the one Application Load Balancer in front of both."""
    try:
        fronts = aws.target_groups.load_balancers([found.green, found.blue])
    except NotFoundError as exc:
        raise _NotAnalysedError(str(exc)) from None
    shared = set(fronts.get(found.green, ())) & set(fronts.get(found.blue, ()))
    albs = sorted(d for d in map(load_balancer_dimension, shared) if d)
    if not albs:
        raise _NotAnalysedError(
            "the new and the old revision's target groups are behind no common Application "
            "Load Balancer: there are no comparable metrics"
        )
    return albs[0]


def _off(why: str) -> dict[str, Any]:
    logger.info("canary analysis is off: the deployment goes on", extra={"reason": why})
    count("CanaryOff")
    return answer("SUCCEEDED")


def _waiting(started: datetime) -> dict[str, Any]:
    return answer(
        "IN_PROGRESS",
        delay=CALL_BACK_SECONDS,
        details={STARTED_AT: started.isoformat().replace("+00:00", "Z")},
    )


def _not_analysed(
    invocation: LifecycleHookInvocation,
    aws: HookGateways,
    started: datetime,
    now: datetime,
    why: str,
) -> dict[str, Any]:
    logger.error("canary analysis could not run: failing closed", extra={"reason": why})
    count("CanaryNotAnalysed")
    request = _request(
        invocation,
        (started, now),
        verdict="FAILED",
        dry_run=aws.dry_run,
        code=NOT_ANALYSED,
        reason=f"could not analyse: {why}",
    )
    return _tell(aws, request)


def _verdict(  # noqa: PLR0917 - the facts of one judgement
    invocation: LifecycleHookInvocation,
    aws: HookGateways,
    started_and_now: tuple[datetime, datetime],
    judgement: Judgement,
    judged: Window,
    found: Sides,
    config: CanaryConfig,
) -> dict[str, Any]:
    verdict: HookStatus = "SUCCEEDED" if judgement.verdict is Verdict.SUCCEEDED else "FAILED"
    count(f"Canary{verdict.title()}")
    settings = (
        f"error-ratio={config.error_ratio:g} p99-ratio={config.p99_ratio:g} "
        f"min-requests={config.min_requests} max-minutes={config.max_minutes}"
    )
    request = _request(
        invocation,
        started_and_now,
        verdict=verdict,
        dry_run=aws.dry_run,
        code=judgement.code,
        reason=f"{judgement.reason} ({settings})",
        window_start=judged.start,
        window_end=judged.end,
        blue=SideFigures.of(judgement.blue),
        green=SideFigures.of(judgement.green),
        blue_target_group=found.blue,
        green_target_group=found.green,
    )
    return _tell(aws, request)


def _request(
    invocation: LifecycleHookInvocation,
    started_and_now: tuple[datetime, datetime],
    *,
    verdict: HookStatus,
    dry_run: bool,
    code: str,
    reason: str,
    **figures: Any,
) -> CanaryVerdictRequest:
    details = invocation.executionDetails
    started, now = started_and_now
    return CanaryVerdictRequest(
        action_id=action_id(invocation.executionId, details.serviceArn, KIND),
        service_arn=details.serviceArn,
        trigger=TRIGGER,
        trigger_id=invocation.executionId,
        trigger_time=started,  # the same for every invocation of one hook execution
        decided_at=now,
        verdict=verdict,
        answered="SUCCEEDED" if dry_run else verdict,
        code=code,
        reason=reason,
        stage=invocation.lifecycleStage,
        deployment=invocation.resourceArn,
        target_revision=details.targetServiceRevisionArn,
        **figures,
    )


def _tell(aws: HookGateways, request: CanaryVerdictRequest) -> dict[str, Any]:
    """Queue the verdict (the executor records and tells it), then answer ECS."""
    aws.queue.send(request)
    if request.answered != request.verdict:
        logger.warning("dry run: ECS is told SUCCEEDED", extra={"verdict": request.verdict})
    return answer(request.answered)

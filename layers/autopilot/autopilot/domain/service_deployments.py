"""ECS service deployments of a traffic-shifting service (blue/green, linear, canary), and how a
rollback treats the one in flight.

A service deployment moves the service from its source revisions to a target revision. While it
is in flight the source (blue) still serves production traffic, so stopping it with rollback
sends traffic straight back, where a new UpdateService would start a whole new deployment (test
traffic, lifecycle hooks, bake time). Statuses are the API's (ServiceDeployment `status`):
https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html, and which
of them StopServiceDeployment accepts:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import msgspec

from autopilot.domain.config import TRACK
from autopilot.domain.fleet import Service

# StopServiceDeployment with ROLLBACK moves these to ROLLBACK_REQUESTED, then rolls back.
STOPPABLE = frozenset({"PENDING", "IN_PROGRESS"})
# Already on their way back (or stopping): stopping again only "continues" what runs.
ROLLING_BACK = frozenset({"STOP_REQUESTED", "ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS"})
# Not completed: what ListServiceDeployments is asked for.
ONGOING = STOPPABLE | ROLLING_BACK
ROLLED_BACK = "ROLLBACK_SUCCESSFUL"
ROLLBACK_FAILED = "ROLLBACK_FAILED"

# How a rollback went, as the ledger's `via` says it.
VIA_STOP = "stop-service-deployment"
VIA_ALREADY = "already-rolling-back"


class HookDetail(msgspec.Struct, frozen=True):
    """One of a deployment's `lifecycleHookDetails` (DeploymentLifecycleHookDetail):
    https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookDetail.html"""

    hook_id: str
    target_type: str  # AWS_LAMBDA | PAUSE
    status: str  # AWAITING_ACTION | IN_PROGRESS | SUCCEEDED | FAILED | TIMED_OUT
    expires_at: datetime | None = None
    timeout_action: str = ""  # CONTINUE | ROLLBACK


class ServiceDeployment(msgspec.Struct, frozen=True):
    """One service deployment, its revisions named by their task definitions."""

    arn: str  # arn:aws:ecs:REGION:ACCOUNT:service-deployment/CLUSTER/SERVICE/ID
    status: str
    target: str  # the task definition of targetServiceRevision
    sources: tuple[str, ...]  # the task definitions of sourceServiceRevisions
    created_at: datetime | None = None
    rollback_started_at: datetime | None = None  # `rollback.startedAt`, once it rolls back
    finished_at: datetime | None = None  # `finishedAt`: a rollback's, when traffic is back
    lifecycle_stage: str = ""  # `lifecycleStage`: where the deployment is now
    hooks: tuple[HookDetail, ...] = ()  # `lifecycleHookDetails`


class StopWithRollback(msgspec.Struct, frozen=True):
    """Stop the deployment of the bad revision: traffic goes back to `to`, its source."""

    deployment: ServiceDeployment
    to: str


class AlreadyRollingBack(msgspec.Struct, frozen=True):
    """ECS is already taking the bad revision's deployment back to `to`: send nothing."""

    deployment: ServiceDeployment
    to: str


NativeRollback = StopWithRollback | AlreadyRollingBack


def native_rollback(
    service: Service, good: str, deployments: Iterable[ServiceDeployment]
) -> NativeRollback | None:
    """What to do with the service deployment in flight when rolling `service` back to the
    revision `good`; None: roll back as any ECS service (UpdateService to `good`).

    Only the deployment of the revision being rolled back (the one the service is set to) is
    ever touched. It is stopped only when its one source is `good`, so the stop lands exactly
    where the rollback was decided to go; one already rolling back is left to finish (a retry,
    ECS's own alarm rollback or a person got there first) wherever it returns to, since a new
    UpdateService on top of it would only start another deployment.

    Only a service that carries `autopilot:track`, as IAM requires for UpdateService: a service
    deployment is not known to carry its service's tags, so the stop is bounded here instead (an
    operator's message naming another service gets UpdateService, which IAM refuses)."""
    if not service.shifts_traffic or TRACK not in service.tags:
        return None
    bad = service.task_definition_arn
    ours = sorted(
        (d for d in deployments if d.target == bad and d.status in ONGOING),
        key=lambda d: d.created_at.timestamp() if d.created_at else 0.0,
        reverse=True,
    )
    if not ours:
        return None
    newest = ours[0]
    sources = set(newest.sources)
    if newest.status in ROLLING_BACK:
        return AlreadyRollingBack(newest, next(iter(sources)) if len(sources) == 1 else good)
    if sources == {good}:
        return StopWithRollback(newest, good)
    return None

"""Rolling back a service that deploys with ECS's own blue/green, linear or canary strategy while
its deployment is in flight: stop that deployment with rollback, so traffic goes straight back
to the revision still serving it. Nothing is registered and UpdateService is not called (on such
a service it would start a whole new deployment: test traffic, hooks, bake time).

The entry names the service deployment before it is stopped (intent first). A retry never
trusts its own memory: it asks ECS how that deployment stands, stops it only if it still can be
stopped, and records a rollback ECS already shows under way instead of stopping again. A
deployment that completed before it could be stopped leaves the bad revision live: the rollback
then goes the way of any ECS service (`None` below).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from autopilot.domain.fleet import Service
from autopilot.domain.ledger import LedgerEntry
from autopilot.domain.service_deployments import (
    ONGOING,
    ROLLED_BACK,
    ROLLING_BACK,
    STOPPABLE,
    VIA_ALREADY,
    NativeRollback,
    native_rollback,
)
from autopilot.workflows.context import ExecutorContext

ALREADY_ROLLING_BACK = "already-rolling-back"  # the entry's code


@dataclass(frozen=True, slots=True)
class Stopped:
    accepted_at: datetime | None  # when ECS accepted this attempt's StopServiceDeployment
    note: str = ""  # what was found instead of stopping, for the entry's reason
    code: str = ""


def in_flight(ctx: ExecutorContext, service: Service, good: str) -> NativeRollback | None:
    """What to do with the service's deployment in flight when rolling back to `good`. A
    ROLLING (or CodeDeploy) service costs no call."""
    if not service.shifts_traffic:
        return None
    return native_rollback(service, good, ctx.ecs.service_deployments(service, ONGOING))


def stop(ctx: ExecutorContext, entry: LedgerEntry, *, retry: bool) -> Stopped | None:
    """Carry out the entry's stop (`via` stop-service-deployment or already-rolling-back).
    None: the deployment ended without rolling back; roll back with UpdateService instead."""
    if entry.via == VIA_ALREADY:
        return Stopped(None, code=ALREADY_ROLLING_BACK)  # the entry's `via` says it all
    if retry:
        # An earlier attempt may have stopped it, with the answer lost: ECS knows.
        shown = ctx.ecs.service_deployment(entry.deployment_id)
        if shown is None:
            return None
        if shown.status in ROLLING_BACK or shown.status == ROLLED_BACK:
            return Stopped(None, "confirmed on retry: ECS already showed the rollback")
        if shown.status not in STOPPABLE:
            return None
    ctx.ecs.stop_service_deployment(entry.deployment_id)
    return Stopped(ctx.clock())

"""ECS cannot place a service's tasks (no capacity, no instance that fits): an outage no alarm
of ours sees. Recorded and told, at most once an hour per opted-in service.

The planner queues one action per opted-in service the event names; the executor claims the
hour (`Ledger.first_within`) before it tells anyone, so of a burst of events only the first
reaches on-call and the ledger; the rest are counted and dropped.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any, Literal

from msgspec import field

from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.notifications import Notification
from autopilot.models.actions import ActionBase
from autopilot.models.base import Model
from autopilot.models.events import AtLeastOne, EventBridgeEvent, IgnoredEvent
from autopilot.observability import count, logger
from autopilot.records import replace
from autopilot.workflows.planning import PlannerGateways, opted_in
from autopilot.workflows.registry import Registration

if TYPE_CHECKING:  # the planner, which imports this module too, never builds one
    from autopilot.workflows.context import ExecutorContext

KIND = "placement-failure"
WINDOW = timedelta(hours=1)


class ServiceActionDetail(Model, frozen=True, kw_only=True):
    eventType: str  # noqa: N815 - AWS's field names
    eventName: str  # noqa: N815
    clusterArn: str = ""  # noqa: N815
    capacityProviderArns: list[str] = field(default_factory=list)  # noqa: N815
    reason: str = ""


class EcsServiceActionEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["ECS Service Action"] = field(name="detail-type")
    source: Literal["aws.ecs"]
    resources: AtLeastOne
    detail: ServiceActionDetail


class PlacementFailureRequest(ActionBase, frozen=True, kw_only=True):
    """ECS reported it could not place the service's tasks."""

    kind: Literal["placement-failure"] = "placement-failure"
    reason: str = ""  # ECS's, e.g. RESOURCE:FARGATE or RESOURCE:MEMORY
    capacity_providers: tuple[str, ...] = ()


def on_placement_failure(event: EcsServiceActionEvent, aws: PlannerGateways) -> dict[str, Any]:
    detail = event.detail
    if detail.eventName != "SERVICE_TASK_PLACEMENT_FAILURE":
        raise IgnoredEvent(f"{detail.eventName} is not a placement failure")
    services = opted_in(aws.tagging, [arn for arn in event.resources if ":service/" in arn])
    if not services:
        raise IgnoredEvent("the placement failure is of no opted-in service")
    for arn in services:
        aws.queue.send(
            PlacementFailureRequest(
                action_id=action_id(event.id, arn, KIND),
                service_arn=arn,
                trigger="ecs-placement",
                trigger_id=event.id,
                trigger_time=event.time,
                reason=detail.reason,
                capacity_providers=tuple(a.rsplit("/", 1)[-1] for a in detail.capacityProviderArns),
            )
        )
    return {"queued": services}


def record_placement_failure(ctx: ExecutorContext, request: PlacementFailureRequest) -> LedgerEntry:
    done = ctx.already_done(request)
    if done is not None:
        return done
    providers = ", ".join(request.capacity_providers) or "none named"
    entry = ctx.entry(
        request,
        KIND,
        reason=f"{request.reason or 'no reason given'} (capacity providers: {providers})",
    )
    if not ctx.ledger.first_within(
        request.service_arn, KIND, WINDOW, ctx.clock(), request.action_id
    ):
        # Told within the hour already: a burst of failures is one message, and one entry.
        logger.info("placement failure already told within the hour: not repeated")
        count("PlacementFailureRepeated")
        return replace(entry, outcome=Outcome.SKIPPED, code="told-within-the-hour")
    return ctx.finish(entry, Outcome.NOTIFIED)


def placement_notification(entry: LedgerEntry, label: str) -> Notification | None:
    if entry.outcome is not Outcome.NOTIFIED:
        return None
    return Notification(
        f"[autopilot] ECS cannot place tasks of {label}",
        f"ECS could not place tasks of {label}: {entry.reason}. The service may be running "
        "fewer tasks than it should. Check the cluster's capacity (Fargate or Fargate Spot "
        "availability, instance CPU and memory, placement constraints). Further placement "
        f"failures of {label} within the hour are not repeated. Trigger: {entry.trigger} "
        f"{entry.trigger_id}.",
        "critical",
    )


ACTION = Registration(
    model=PlacementFailureRequest,
    execute=record_placement_failure,
    notify=placement_notification,
    metrics={KIND: "PlacementFailure"},
)

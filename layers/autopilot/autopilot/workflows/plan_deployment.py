"""A deployment changed state (ECS or CodeDeploy): queue tracking for the service it concerns."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from autopilot.domain.alarms import service_arn
from autopilot.domain.ledger import action_id
from autopilot.models.actions import TrackRequest
from autopilot.models.events import (
    CodeDeployStateChangeEvent,
    EcsDeploymentStateChangeEvent,
    IgnoredEvent,
)
from autopilot.ports import ActionQueue, CodeDeployGateway, TaggingGateway
from autopilot.workflows.planning import PlannerGateways, opted_in

Result = Literal["completed", "failed", "stopped"]
_ECS_RESULTS: dict[str, Result] = {
    "SERVICE_DEPLOYMENT_COMPLETED": "completed",
    "SERVICE_DEPLOYMENT_FAILED": "failed",
}
_CODEDEPLOY_RESULTS: dict[str, Result] = {
    "SUCCESS": "completed",
    "FAILURE": "failed",
    "STOP": "stopped",
}


DeploymentEvent = EcsDeploymentStateChangeEvent | CodeDeployStateChangeEvent


def parse_deployment_event(event: object) -> DeploymentEvent:
    """Told apart by `detail-type`; anything but CodeDeploy's is held to ECS's model, whose
    error then names the field that is wrong."""
    if (
        isinstance(event, Mapping)
        and event.get("detail-type") == "CodeDeploy Deployment State-change Notification"
    ):
        return CodeDeployStateChangeEvent.parse(event)
    return EcsDeploymentStateChangeEvent.parse(event)


def on_deployment(event: DeploymentEvent, aws: PlannerGateways) -> dict[str, Any]:
    return {"tracked": plan_deployment(event, aws.codedeploy, aws.tagging, aws.queue)}


def plan_deployment(
    event: EcsDeploymentStateChangeEvent | CodeDeployStateChangeEvent,
    codedeploy: CodeDeployGateway,
    tagging: TaggingGateway,
    queue: ActionQueue,
) -> list[str]:
    """Service ARNs whose tracking was queued (opted-in services only)."""
    if isinstance(event, EcsDeploymentStateChangeEvent):
        result = _ECS_RESULTS.get(event.detail.eventName)
        if result is None:
            raise IgnoredEvent(f"{event.detail.eventName} is not an end state")
        services = [arn for arn in event.resources if ":service/" in arn]
        reason = event.detail.reason
    else:
        result = _CODEDEPLOY_RESULTS.get(event.detail.state)
        if result is None:
            raise IgnoredEvent(f"CodeDeploy state {event.detail.state} is not an end state")
        pairs = codedeploy.ecs_services(event.detail.application, event.detail.deploymentGroup)
        services = [service_arn(c, s, event.account, event.region) for c, s in pairs]
        reason = f"CodeDeploy deployment {event.detail.deploymentId}: {event.detail.state}"
    if not services:
        raise IgnoredEvent("the deployment names no ECS service")
    services = opted_in(tagging, services)
    if not services:
        raise IgnoredEvent("the deployment is of no opted-in service")
    for arn in services:
        queue.send(
            TrackRequest(
                action_id=action_id(event.id, arn, "track"),
                service_arn=arn,
                trigger="codedeploy" if isinstance(event, CodeDeployStateChangeEvent) else "ecs",
                trigger_id=event.id,
                trigger_time=event.time,
                deployment_id=event.detail.deploymentId,
                result=result,
                reason=reason,
            )
        )
    return services

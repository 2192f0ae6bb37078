"""A deployment changed state (ECS or CodeDeploy): queue tracking for the service it concerns;
a lifecycle hook changed state (ECS): queue the check for a deployment waiting for approval."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from autopilot.domain.alarms import service_arn
from autopilot.domain.ledger import action_id
from autopilot.models.actions import ApprovalWaitingRequest, TrackRequest
from autopilot.models.events import (
    CodeDeployStateChangeEvent,
    EcsDeploymentStateChangeEvent,
    EcsHookStateChangeEvent,
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


DeploymentEvent = (
    EcsDeploymentStateChangeEvent | CodeDeployStateChangeEvent | EcsHookStateChangeEvent
)


def parse_deployment_event(event: object) -> DeploymentEvent:
    """Told apart by `detail-type`; anything but CodeDeploy's or a hook's is held to ECS's
    deployment model, whose error then names the field that is wrong."""
    detail_type = event.get("detail-type") if isinstance(event, Mapping) else None
    if detail_type == "CodeDeploy Deployment State-change Notification":
        return CodeDeployStateChangeEvent.parse(event)
    if detail_type == "ECS Hook State Change":
        return EcsHookStateChangeEvent.parse(event)
    return EcsDeploymentStateChangeEvent.parse(event)


def on_deployment(event: DeploymentEvent, aws: PlannerGateways) -> dict[str, Any]:
    if isinstance(event, EcsHookStateChangeEvent):
        return {"approvals": plan_hook(event, aws.tagging, aws.queue)}
    return {"tracked": plan_deployment(event, aws.codedeploy, aws.tagging, aws.queue)}


def plan_hook(
    event: EcsHookStateChangeEvent, tagging: TaggingGateway, queue: ActionQueue
) -> list[str]:
    """A hook changed state on a service: the executor reads whether a PAUSE hook waits there
    and tells people. The service comes from the envelope's `resources` (a service ARN or a
    service deployment's); the detail is not documented, so it decides nothing."""
    named = list(dict.fromkeys(s for arn in event.resources if (s := _service_of(arn))))
    services = _opted_in(tagging, named, "the hook event")
    for arn in services:
        queue.send(
            ApprovalWaitingRequest(
                action_id=action_id(event.id, arn, "approval-waiting"),
                service_arn=arn,
                trigger="ecs-hook",
                trigger_id=event.id,
                trigger_time=event.time,
            )
        )
    return services


def _opted_in(tagging: TaggingGateway, services: list[str], what: str) -> list[str]:
    """The opted-in ones among the services `what` names, or IgnoredEvent saying why none."""
    if not services:
        raise IgnoredEvent(f"{what} names no ECS service")
    found = opted_in(tagging, services)
    if not found:
        raise IgnoredEvent(f"{what} is of no opted-in service")
    return found


def _service_of(arn: str) -> str:
    """`...:service/C/S` as it is; `...:service-deployment/C/S/ID` -> `...:service/C/S`."""
    prefix, _, resource = arn.partition(":service-deployment/")
    if resource:
        cluster, _, rest = resource.partition("/")
        name = rest.partition("/")[0]
        return f"{prefix}:service/{cluster}/{name}" if cluster and name else ""
    return arn if ":service/" in arn and arn.count("/") == 2 else ""


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
    services = _opted_in(tagging, services, "the deployment")
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

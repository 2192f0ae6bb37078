"""An alarm changed state: to ALARM, consider a rollback of each service it is tied to; to OK,
let each of them deploy the push an alarm held back.

Cost per event. The alarm is read where it is defined (its event carries no actions): a
`TargetTracking-` alarm is ruled out by its name, with no call at all. Any other alarm takes one
DescribeAlarms and, unless its actions scale, one ListTagsForResource; then, for the link through
ECS deployment alarms, one pass over the opted-in services: GetResources (100 a page) and
DescribeServices (10 a call, one cluster a call). For 100 services in one cluster that is 12
calls (measured under moto: 2 GetResources pages, the last one empty, and 10 DescribeServices);
services spread over many clusters add a DescribeServices per cluster. Then one SendMessage per
service the alarm is tied to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from autopilot.domain.alarms import InvalidAlarmTagError, alarm_services, is_scaling_alarm
from autopilot.domain.ledger import action_id
from autopilot.domain.scope import in_scope
from autopilot.models.actions import ResumeHeldRequest, RollbackRequest
from autopilot.models.events import AlarmStateChangeEvent, IgnoredEvent
from autopilot.observability import count, logger
from autopilot.ports import ActionQueue, CloudWatchGateway, EcsGateway, TaggingGateway
from autopilot.workflows.planning import PlannerGateways, opted_in

_SCALING = "is an Application Auto Scaling alarm: it means load changed, not a bad deploy"


@dataclass(frozen=True, slots=True)
class AlarmPlan:
    alarm: str
    services: tuple[str, ...]
    action: str  # rollback | resume-held


def on_alarm(event: AlarmStateChangeEvent, aws: PlannerGateways) -> dict[str, Any]:
    plan = plan_alarm(event, aws.cloudwatch, aws.ecs, aws.tagging, aws.queue, clusters=aws.clusters)
    return {"alarm": plan.alarm, "action": plan.action, "services": list(plan.services)}


def plan_alarm(
    event: AlarmStateChangeEvent,
    cloudwatch: CloudWatchGateway,
    ecs: EcsGateway,
    tagging: TaggingGateway,
    queue: ActionQueue,
    *,
    clusters: frozenset[str] | None = None,
) -> AlarmPlan:
    """`clusters`: the managed clusters (None: all); an alarm acts on no service outside them,
    whatever its tag or dimensions name."""
    detail = event.detail
    name, state = detail.alarmName, detail.state.value
    if state not in {"ALARM", "OK"}:
        raise IgnoredEvent(f"alarm {name} went to {state}, neither ALARM nor OK")
    if is_scaling_alarm(name, ()):
        raise IgnoredEvent(f"alarm {name} {_SCALING}")
    described = cloudwatch.describe_alarm(name)
    tracked = opted_in(tagging)
    # An alarm deleted since the event is judged by what the event says (it has no actions).
    actions = described.actions if described else ()
    if is_scaling_alarm(name, actions):
        raise IgnoredEvent(f"alarm {name} {_SCALING}")
    try:
        services = alarm_services(
            name=name,
            tags=cloudwatch.alarm_tags(event.alarm_arn),
            dimensions=described.dimensions if described else detail.dimensions(),
            actions=actions,
            deployment_alarms=ecs.deployment_alarms(tracked),
            account=event.account,
            region=event.region,
        )
    except InvalidAlarmTagError as exc:
        raise IgnoredEvent(f"alarm {name}: {exc}") from exc
    outside = [arn for arn in services if not in_scope(arn, clusters)]
    if outside:
        logger.warning(
            "alarm names services outside the managed clusters: left alone",
            extra={"services": outside},
        )
        services = [arn for arn in services if in_scope(arn, clusters)]
    services = opted_in(tagging, services, tagged=tracked)
    if not services:
        raise IgnoredEvent(
            f"alarm {name} is tied to no opted-in service (no autopilot:service tag, in no "
            "service's deployment alarms, no ClusterName and ServiceName dimensions)"
        )
    for service_arn in services:
        if state == "ALARM":
            queue.send(
                RollbackRequest(
                    action_id=action_id(event.id, service_arn, "rollback"),
                    service_arn=service_arn,
                    trigger="alarm",
                    trigger_id=event.id,
                    trigger_time=event.time,
                    automatic=True,
                    alarm=name,
                )
            )
            logger.info("rollback considered", extra={"ecs_service": service_arn})
            count("RollbackQueued")
        else:
            queue.send(
                ResumeHeldRequest(
                    action_id=action_id(event.id, service_arn, "resume-held"),
                    service_arn=service_arn,
                    trigger="alarm-ok",
                    trigger_id=event.id,
                    trigger_time=event.time,
                    alarm=name,
                )
            )
            logger.info("held push considered", extra={"ecs_service": service_arn})
            count("ResumeHeldQueued")
    return AlarmPlan(name, tuple(services), "rollback" if state == "ALARM" else "resume-held")

"""An alarm went to ALARM: ask the executor to consider a rollback of each service it is tied to."""

from __future__ import annotations

from dataclasses import dataclass

from autopilot.domain.alarms import InvalidAlarmTagError, alarm_services
from autopilot.domain.ledger import action_id
from autopilot.models.actions import RollbackRequest
from autopilot.models.events import AlarmStateChangeEvent, IgnoredEvent
from autopilot.observability import count, logger
from autopilot.ports import ActionQueue, CloudWatchGateway


@dataclass(frozen=True, slots=True)
class AlarmPlan:
    alarm: str
    services: tuple[str, ...]


def plan_alarm(
    event: AlarmStateChangeEvent, cloudwatch: CloudWatchGateway, queue: ActionQueue
) -> AlarmPlan:
    detail = event.detail
    if detail.state.value != "ALARM":
        raise IgnoredEvent(f"alarm {detail.alarmName} went to {detail.state.value}, not ALARM")
    tags = cloudwatch.alarm_tags(event.alarm_arn)
    try:
        services = alarm_services(tags, detail.dimensions(), event.account, event.region)
    except InvalidAlarmTagError as exc:
        raise IgnoredEvent(f"alarm {detail.alarmName}: {exc}") from exc
    if not services:
        raise IgnoredEvent(
            f"alarm {detail.alarmName} is tied to no service "
            "(no autopilot:service tag, no ClusterName and ServiceName dimensions)"
        )
    for service_arn in services:
        queue.send(
            RollbackRequest(
                action_id=action_id(event.id, service_arn, "rollback"),
                service_arn=service_arn,
                trigger="alarm",
                trigger_id=event.id,
                trigger_time=event.time,
                automatic=True,
                alarm=detail.alarmName,
            )
        )
        logger.info("rollback considered", extra={"ecs_service": service_arn})
        count("RollbackQueued")
    return AlarmPlan(detail.alarmName, tuple(services))

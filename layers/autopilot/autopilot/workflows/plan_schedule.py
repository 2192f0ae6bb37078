"""A schedule fired: queue park, unpark, scale or restore for every service in its group."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from autopilot.domain.capacity import SCHEDULE, groups_of
from autopilot.domain.ledger import action_id
from autopilot.models.actions import CapacityRequest
from autopilot.models.events import IgnoredEvent, ScheduleDocument
from autopilot.observability import count, logger
from autopilot.ports import ActionQueue, EcsGateway, TaggingGateway
from autopilot.workflows.planning import PlannerGateways, opted_in


def on_schedule(document: ScheduleDocument, aws: PlannerGateways) -> dict[str, Any]:
    services = plan_schedule(document, aws.ecs, aws.tagging, aws.queue, aws.now())
    return {"action": document.action, "services": services}


def plan_schedule(
    document: ScheduleDocument,
    ecs: EcsGateway,
    tagging: TaggingGateway,
    queue: ActionQueue,
    now: datetime,
) -> list[str]:
    """Service ARNs an action was queued for."""
    # One firing of one schedule is one trigger, however often Scheduler delivers it (each
    # attempt has a new execution id); a hand-sent document without either is a trigger of its own.
    trigger_id = document.trigger_key() or f"schedule-{uuid.uuid4()}"
    trigger_time = document.scheduled_time or now
    until = document.until
    if until is None and document.hours is not None:
        until = trigger_time + timedelta(hours=document.hours)

    if document.action == "restore":
        # The end of a peak the automation started: it restores what it changed, whatever
        # the service's tags say now.
        services = [str(document.service_arn)]
    else:
        members = [
            s
            for s in ecs.describe_services(opted_in(tagging, key=SCHEDULE))
            if document.group in groups_of(s.tags)
        ]
        services = [s.arn for s in members]
    if not services:
        raise IgnoredEvent(f"no service is in schedule group {document.group}")
    for arn in services:
        queue.send(
            CapacityRequest(
                action_id=action_id(trigger_id, arn, document.action),
                service_arn=arn,
                trigger="schedule",
                trigger_id=trigger_id,
                trigger_time=trigger_time,
                kind=document.action,
                timezone=document.timezone,
                skip_dates=tuple(document.skip_dates),
                minimum=document.min,
                maximum=document.max,
                desired=document.desired,
                until=until,
                scale_id=document.scale_id,
            )
        )
        logger.info("capacity change queued", extra={"ecs_service": arn, "kind": document.action})
        count("CapacityQueued")
    return services

"""EventBridge Scheduler document -> park, unpark, scale or restore a group of services."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.models.events import ScheduleDocument
from autopilot.observability import logger, metrics
from autopilot.workflows.plan_schedule import plan_schedule


def _plan(document: ScheduleDocument) -> dict[str, Any]:
    services = plan_schedule(
        document, wiring.ecs(), wiring.tagging(), wiring.action_queue(), wiring.utc_now()
    )
    return {"action": document.action, "services": services}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, ScheduleDocument.model_validate, _plan, source="schedules")

"""CloudWatch alarm to ALARM -> consider rolling back each service the alarm is tied to;
to OK -> let each deploy the push the alarm held back."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.models.events import AlarmStateChangeEvent
from autopilot.observability import logger, metrics
from autopilot.workflows.plan_alarm import plan_alarm


def _plan(event: AlarmStateChangeEvent) -> dict[str, Any]:
    plan = plan_alarm(
        event, wiring.cloudwatch(), wiring.ecs(), wiring.tagging(), wiring.action_queue()
    )
    return {"alarm": plan.alarm, "action": plan.action, "services": list(plan.services)}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, AlarmStateChangeEvent.model_validate, _plan, source="alarms")

"""ECR push -> queue a deploy for every opted-in service that follows the repository and tag."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.models.events import EcrImageActionEvent, image_push
from autopilot.observability import logger, metrics
from autopilot.workflows.plan_push import plan_push


def _plan(event: EcrImageActionEvent) -> dict[str, Any]:
    lines = plan_push(image_push(event), wiring.ecs(), wiring.tagging(), wiring.action_queue())
    return {"decisions": [asdict(line) for line in lines]}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, EcrImageActionEvent.model_validate, _plan, source="ecr_push")

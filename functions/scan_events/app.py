"""ECR basic or Inspector2 enhanced scan finished -> deploy to services whose scan gate held it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.models.events import ImageScanEvent, scanned_images
from autopilot.observability import logger, metrics
from autopilot.workflows.plan_push import plan_scan


def _plan(event: ImageScanEvent) -> dict[str, Any]:
    pushes, scan = scanned_images(event)
    lines = plan_scan(pushes, scan, wiring.ecs(), wiring.tagging(), wiring.action_queue())
    return {"decisions": [asdict(line) for line in lines]}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, ImageScanEvent.model_validate, _plan, source="scan_events")

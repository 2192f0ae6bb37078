"""Actions queue (SQS FIFO) -> change services, one message group (service) at a time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.observability import logger, metrics
from autopilot.workflows.batch import QueuedMessage, run_batch
from autopilot.workflows.execute import ActionRunner


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    retry = run_batch(
        (QueuedMessage.from_record(record) for record in event["Records"]),
        ActionRunner(wiring.executor()),
        wiring.actions_inbox(),
        context.get_remaining_time_in_millis,
    )
    return {"batchItemFailures": [{"itemIdentifier": message_id} for message_id in retry]}

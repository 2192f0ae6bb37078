"""Actions queue (SQS FIFO) -> change services, one message group (service) at a time."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from autopilot import wiring
from autopilot.models.actions import parse_action
from autopilot.observability import logger, metrics
from autopilot.workflows.execute import execute

# A failure holds back only the rest of that service's messages, not other services'.
_processor = SqsFifoPartialProcessor(skip_group_on_error=True)


def _execute(record: SQSRecord) -> None:
    execute(wiring.executor(), parse_action(record.body))


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=_execute, processor=_processor, context=context
    )

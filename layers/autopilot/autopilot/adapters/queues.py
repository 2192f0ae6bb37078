"""SQS: the FIFO actions queue (one message group per service) and the dead-letter queue."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from autopilot.adapters import clients

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

    from autopilot.models.actions import ActionRequest

IAM_ACTIONS = {
    "actions": ("sqs:SendMessage",),
    "dead-letters": ("sqs:SendMessage",),
    # The executor holds back or retries an action (its message's visibility) and dead-letters
    # one that keeps failing.
    "executor": ("sqs:ChangeMessageVisibility", "sqs:SendMessage"),
}


class ActionQueue:
    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._sqs = client or clients.sqs()

    def send(self, request: ActionRequest) -> None:
        # The group serializes every action on one service; the deduplication id drops a
        # redelivered event within SQS's five-minute window (the ledger covers the rest).
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=request.model_dump_json(),
            MessageGroupId=request.service_arn,
            MessageDeduplicationId=request.action_id,
        )


class DeadLetters:
    """Events that cannot be handled are kept here with the reason, never dropped."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._sqs = client or clients.sqs()

    def send(self, event: Mapping[str, Any], reason: str, source: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._url,
            MessageBody=json.dumps(event, default=str),
            MessageAttributes={
                "reason": {"DataType": "String", "StringValue": reason[:1024]},
                "source": {"DataType": "String", "StringValue": source},
            },
        )


class ActionsInbox:
    """The executor's side of the actions queue: when to see a failed message again, and
    where an action that failed every attempt is kept for a person (and a redrive)."""

    def __init__(
        self, queue_url: str, dead_letter_url: str, client: SQSClient | None = None
    ) -> None:
        self._url = queue_url
        self._dead_letter_url = dead_letter_url
        self._sqs = client or clients.sqs()

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        self._sqs.change_message_visibility(
            QueueUrl=self._url, ReceiptHandle=receipt_handle, VisibilityTimeout=seconds
        )

    def dead_letter(self, body: str, group: str, message_id: str, reason: str) -> None:
        self._sqs.send_message(
            QueueUrl=self._dead_letter_url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=message_id,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1024]}},
        )

"""SQS: the FIFO actions queue (one message group per service) and the dead-letter queue."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

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
    # An operator's redrive: out of the actions dead-letter queue, back into the actions queue.
    "redrive": (
        "sqs:ChangeMessageVisibility",
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
    ),
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
            MessageBody=request.to_json(),
            MessageGroupId=request.service_arn,
            MessageDeduplicationId=request.action_id,
        )


class DeadLetters:
    """Events that cannot be handled are kept here with the reason, never dropped."""

    def __init__(self, queue_url: str, client: SQSClient | None = None) -> None:
        self._url = queue_url
        self._sqs = client or clients.sqs()

    def send(self, event: object, reason: str, source: str) -> None:
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


class DeadLetteredActions:
    """The actions dead-letter queue, for an operator: put given-up actions back in line.

    Each message goes back to the actions queue in its own service's message group, under a
    new deduplication id (the old one would still be remembered by the FIFO queue), and is
    deleted from the dead-letter queue only once it is back. The executor takes a redriven
    action up where it stopped (its ledger entry holds the intent)."""

    _MOST = 1000  # a bound on one redrive

    def __init__(
        self, dead_letter_url: str, queue_url: str, client: SQSClient | None = None
    ) -> None:
        self._dead_letter_url = dead_letter_url
        self._queue_url = queue_url
        self._sqs = client or clients.sqs()

    def redrive(self, service_arn: str | None = None) -> list[str]:
        """Service ARNs of the actions put back, in order (only `service_arn`'s if given)."""
        moved: list[str] = []
        passed: list[str] = []  # receipt handles of other services' messages, left in place
        while len(moved) + len(passed) < self._MOST:
            batch = self._sqs.receive_message(
                QueueUrl=self._dead_letter_url,
                MaxNumberOfMessages=10,
                MessageSystemAttributeNames=["MessageGroupId"],
                VisibilityTimeout=60,
            ).get("Messages", [])
            if not batch:
                break
            for message in batch:
                group = message.get("Attributes", {}).get("MessageGroupId", "")
                if service_arn is not None and group != service_arn:
                    passed.append(message["ReceiptHandle"])
                    continue
                # Send, then delete: if the delete fails or its answer is lost, the next redrive
                # sends it again under the same deduplication id (SQS drops it within five
                # minutes), and past that the executor replays the action's finished entry.
                self._sqs.send_message(
                    QueueUrl=self._queue_url,
                    MessageBody=message["Body"],
                    MessageGroupId=group,
                    MessageDeduplicationId=f"redrive-{message['MessageId']}"[:128],
                )
                self._sqs.delete_message(
                    QueueUrl=self._dead_letter_url, ReceiptHandle=message["ReceiptHandle"]
                )
                moved.append(group)
        for handle in passed:
            self._sqs.change_message_visibility(
                QueueUrl=self._dead_letter_url, ReceiptHandle=handle, VisibilityTimeout=0
            )
        return moved

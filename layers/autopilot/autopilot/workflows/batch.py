"""One batch from the actions queue (SQS FIFO), one message at a time, in order per service.

- A failed message holds back the later messages of the same service (its message group), so
  that actions on one service never run out of order; other services' messages go on.
- Failures are counted per action in the ledger, not from SQS's receive count: a message held
  back behind a failing one is received again without having been attempted, and must not be
  dead-lettered for it. After MAX_ATTEMPTS the action finishes as failed, a person is told,
  and the message is kept in the dead-letter queue (a redrive resumes it); the group moves on.
- Messages wait before their next attempt (backoff) instead of the queue's long visibility
  timeout, so one flaky call delays a rollback by seconds, not half an hour.
- No action starts without ACTION_BUDGET_MS left: the worst single call fits in it, and an
  action cut short by the function's timeout anyway is reconciled by its retry (intent first).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

import msgspec

from autopilot.domain.ledger import LedgerEntry
from autopilot.models.actions import ActionRequest, parse_action
from autopilot.models.base import Invalid, reason
from autopilot.observability import count, logger

MAX_ATTEMPTS = 3
ACTION_BUDGET_MS = 120_000
BACKOFF_SECONDS = 15  # doubled for every failed attempt


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    message_id: str
    receipt_handle: str
    body: str
    group: str
    sender: str = ""  # SQS's SenderId: the authenticated principal that sent it

    @classmethod
    def from_record(cls, record: dict[str, object]) -> QueuedMessage:
        attributes = record.get("attributes")
        known = attributes if isinstance(attributes, dict) else {}
        return cls(
            message_id=str(record["messageId"]),
            receipt_handle=str(record["receiptHandle"]),
            body=str(record["body"]),
            group=str(known.get("MessageGroupId", "")),
            sender=str(known.get("SenderId", "")),
        )


class Inbox(Protocol):
    def retry_later(self, receipt_handle: str, seconds: int) -> None: ...

    def dead_letter(self, body: str, group: str, message_id: str, reason: str) -> None: ...


class Executor(Protocol):
    """What the batch needs of the executor: run an action, count a failure, give up."""

    def run(self, request: ActionRequest) -> LedgerEntry: ...

    def note_failure(self, request: ActionRequest) -> int: ...

    def give_up(self, request: ActionRequest, error: BaseException, attempts: int) -> None: ...


def run_batch(
    messages: Iterable[QueuedMessage],
    executor: Executor,
    inbox: Inbox,
    time_left_ms: Callable[[], int],
) -> list[str]:
    """Ids of the messages to be received again (failed, held back, or out of time)."""
    retry: list[str] = []
    held_groups: dict[str, int] = {}  # group -> seconds its held-back messages wait
    for message in messages:
        if message.group in held_groups:
            inbox.retry_later(message.receipt_handle, held_groups[message.group])
            retry.append(message.message_id)
            continue
        if time_left_ms() < ACTION_BUDGET_MS:
            logger.info("out of time for another action: it is received again")
            held_groups[message.group] = 0
            inbox.retry_later(message.receipt_handle, 0)
            retry.append(message.message_id)
            continue
        wait = _attempt(message, executor, inbox)
        if wait is not None:
            held_groups[message.group] = wait
            retry.append(message.message_id)
    count("ActionBatchItemFailures", len(retry))
    return retry


def _attempt(message: QueuedMessage, executor: Executor, inbox: Inbox) -> int | None:
    """Run one message; None when it is done with (succeeded, or kept for a person), else how
    long to wait before it is tried again."""
    try:
        request = parse_action(message.body)
    except Invalid as exc:
        # Never retried: it would fail the same way. Kept, with the reason, for a person.
        why = reason(exc)
        logger.error("malformed action kept in the dead-letter queue", extra={"reason": why})
        count("MalformedAction")
        inbox.dead_letter(message.body, message.group, message.message_id, "malformed action")
        return None
    if message.group != request.service_arn:
        # The group serializes one service's actions: a message in another group would race.
        logger.error("action outside its service's message group kept in the dead-letter queue")
        count("MalformedAction")
        inbox.dead_letter(message.body, message.group, message.message_id, "wrong message group")
        return None
    # Who asked is what SQS says, never what the body claims.
    request = msgspec.structs.replace(request, requested_by=message.sender or "unknown")
    try:
        executor.run(request)
    except Exception as exc:  # noqa: BLE001 - any error of one action is counted, then retried
        logger.exception("action failed", extra={"kind": request.kind})
        attempts = executor.note_failure(request)
        if attempts < MAX_ATTEMPTS:
            wait = BACKOFF_SECONDS * (1 << (attempts - 1))
            inbox.retry_later(message.receipt_handle, wait)
            return wait
        executor.give_up(request, exc, attempts)
        inbox.dead_letter(
            message.body,
            message.group,
            message.message_id,
            f"failed {attempts} attempts: {type(exc).__name__}",
        )
    return None

"""The executor's batch loop: order per service, failures counted per action, nothing doomed
by a neighbour, nothing silently dropped, no action started without time to finish it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from autopilot.adapters import clients
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.models.actions import ActionRequest, OperatorRequest
from autopilot.workflows.batch import (
    ACTION_BUDGET_MS,
    MAX_ATTEMPTS,
    QueuedMessage,
    run_batch,
)
from autopilot_tools.local.template import load_template

ROOT = Path(__file__).resolve().parents[2]
WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
API = "arn:aws:ecs:us-east-1:123456789012:service/prod/api"
PLENTY = 300_000


def message(message_id: str, service: str, kind: str = "pause") -> QueuedMessage:
    request = OperatorRequest(
        action_id=f"action-{message_id}",
        service_arn=service,
        trigger="operator",
        trigger_id="someone",
        trigger_time=datetime(2026, 11, 20, tzinfo=UTC),
        kind=kind,  # type: ignore[arg-type]
    )
    return QueuedMessage(message_id, f"receipt-{message_id}", request.to_json(), service)


@dataclass
class Executor:
    """Runs actions; those named in `failing` raise; failures are counted per action."""

    failing: set[str] = field(default_factory=set)
    ran: list[str] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    gave_up: list[str] = field(default_factory=list)

    def run(self, request: ActionRequest) -> LedgerEntry:
        self.ran.append(request.action_id)
        if request.action_id in self.failing:
            raise TimeoutError("ECS did not answer")
        return LedgerEntry(
            request.service_arn,
            request.action_id,
            request.kind,
            request.trigger,
            request.trigger_id,
            request.trigger_time,
            request.trigger_time,
            Outcome.APPLIED,
        )

    def note_failure(self, request: ActionRequest) -> int:
        self.failures[request.action_id] = self.failures.get(request.action_id, 0) + 1
        return self.failures[request.action_id]

    def give_up(self, request: ActionRequest, error: BaseException, attempts: int) -> None:
        self.gave_up.append(request.action_id)


@dataclass
class Inbox:
    waits: dict[str, int] = field(default_factory=dict)
    dead: list[tuple[str, str]] = field(default_factory=list)

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        self.waits[receipt_handle] = seconds

    def dead_letter(self, body: str, group: str, message_id: str, reason: str) -> None:
        self.dead.append((message_id, reason))


def test_a_failure_holds_back_only_its_own_services_later_messages() -> None:
    # Given a batch: web's action 1 fails, web's 2 comes after it, api's 3 is independent
    batch = [message("1", WEB), message("2", WEB), message("3", API)]
    executor, inbox = Executor(failing={"action-1"}), Inbox()

    # When the batch runs
    retry = run_batch(batch, executor, inbox, lambda: PLENTY)

    # Then web's later action did not run before the failed one, api's did
    assert executor.ran == ["action-1", "action-3"]
    assert retry == ["1", "2"]
    # And both of web's messages wait the same backoff, so their order holds
    assert inbox.waits["receipt-1"] == inbox.waits["receipt-2"] > 0


def test_a_held_back_message_is_not_counted_and_runs_once_the_failing_one_gives_up() -> None:
    # Given web's action 1 fails on every attempt, with action 2 (a pause) behind it
    executor, inbox = Executor(failing={"action-1"}), Inbox()

    # When SQS redelivers the pair until the failing one gives up
    rounds = 0
    pending = [message("1", WEB), message("2", WEB)]
    while pending and rounds < 10:
        rounds += 1
        retry = run_batch(pending, executor, inbox, lambda: PLENTY)
        pending = [m for m in pending if m.message_id in retry]

    # Then action 1 was attempted exactly MAX_ATTEMPTS times, recorded as given up and kept in
    # the dead-letter queue, and action 2 then ran (it was never doomed with it)
    assert executor.failures == {"action-1": MAX_ATTEMPTS}
    assert executor.gave_up == ["action-1"]
    assert [m for m, _ in inbox.dead] == ["1"]
    assert executor.ran.count("action-2") == 1
    assert executor.ran[-1] == "action-2"
    assert rounds == MAX_ATTEMPTS


def test_backoff_grows_with_each_failed_attempt() -> None:
    executor, inbox = Executor(failing={"action-1"}), Inbox()
    waits = []
    for _ in range(MAX_ATTEMPTS - 1):
        run_batch([message("1", WEB)], executor, inbox, lambda: PLENTY)
        waits.append(inbox.waits["receipt-1"])
    assert waits == sorted(waits)
    assert waits[0] < waits[-1]


def test_a_malformed_action_is_kept_for_a_person_and_never_retried() -> None:
    # Given a message whose body is not an action
    bad = QueuedMessage("9", "receipt-9", json.dumps({"kind": "format-disk"}), WEB)
    executor, inbox = Executor(), Inbox()

    # When the batch runs
    retry = run_batch([bad], executor, inbox, lambda: PLENTY)

    # Then it is dead-lettered with the reason, not retried, and nothing ran
    assert retry == []
    assert inbox.dead == [("9", "malformed action")]
    assert executor.ran == []


def test_no_action_starts_without_time_left_to_finish_it() -> None:
    # Given a batch and less time left than one action's budget
    executor, inbox = Executor(), Inbox()

    # When the batch runs
    retry = run_batch([message("1", WEB), message("2", API)], executor, inbox, lambda: 5_000)

    # Then nothing ran, and both come back at once (no backoff, no attempt counted)
    assert executor.ran == []
    assert retry == ["1", "2"]
    assert inbox.waits == {"receipt-1": 0, "receipt-2": 0}
    assert executor.failures == {}


def test_the_worst_single_call_fits_the_budget_and_the_budget_fits_the_function() -> None:
    # Given the SDK's timeouts and retries, and the executor's template settings
    resources = load_template(ROOT / "template.yaml").resources
    timeout = resources["ExecutorFunction"]["Properties"]["Timeout"]
    visibility = resources["ActionsQueue"]["Properties"]["VisibilityTimeout"]

    # Then a call that times out on every attempt still fits one action's budget
    assert clients.worst_call_seconds() * 1000 <= ACTION_BUDGET_MS
    # And the budget leaves the function time to do ordinary work before it stops
    assert timeout * 1000 / 2 > ACTION_BUDGET_MS
    # And SQS's visibility timeout is at least six times the function's (AWS's guidance)
    assert visibility >= 6 * timeout

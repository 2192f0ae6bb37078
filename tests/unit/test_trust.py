"""Boundaries of trust in the executor's own code: who asked is SQS's word, a message's group
is its service, and the managed clusters bound what is read at all."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, cast

import pytest

from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.scope import in_scope, parse_clusters, within
from autopilot.models.actions import ActionRequest, OperatorRequest, parse_action
from autopilot.settings import Settings
from autopilot.workflows.batch import QueuedMessage, run_batch
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.execute import execute
from autopilot.workflows.registry import notification_for
from tests.unit.test_batch import Executor, Inbox

WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
SANDBOX = "arn:aws:ecs:us-east-1:123456789012:service/sandbox/web"


@dataclass
class Recorder(Executor):
    requests: list[ActionRequest] = field(default_factory=list)

    def run(self, request: ActionRequest) -> LedgerEntry:
        self.requests.append(request)
        return super().run(request)


def pause(service: str, requested_by: str = "") -> str:
    return OperatorRequest(
        action_id="a1",
        service_arn=service,
        trigger="operator",
        trigger_id="cli",
        trigger_time=datetime(2026, 11, 20, tzinfo=UTC),
        kind="pause",
        requested_by=requested_by,
    ).to_json()


def record(body: str, group: str, sender: str) -> dict[str, object]:
    return {
        "messageId": "m1",
        "receiptHandle": "r1",
        "body": body,
        "attributes": {"MessageGroupId": group, "SenderId": sender},
    }


def test_who_asked_is_the_sender_sqs_authenticated_never_the_body() -> None:
    # Given a message whose body claims to come from the platform lead
    body = pause(WEB, requested_by="platform-lead@example.com")
    message = QueuedMessage.from_record(record(body, WEB, "AROAEXAMPLE:mallory"))
    executor = Recorder()

    # When the executor takes it
    run_batch([message], executor, Inbox(), lambda: 300_000)

    # Then the action carries SQS's SenderId
    [request] = executor.requests
    assert request.requested_by == "AROAEXAMPLE:mallory"


def test_a_message_outside_its_services_group_is_kept_for_a_person_and_not_run() -> None:
    # Given a message for prod/web sent in another service's message group (it would race)
    message = QueuedMessage.from_record(record(pause(WEB), SANDBOX, "AROAEXAMPLE:x"))
    executor, inbox = Recorder(), Inbox()

    # When the executor takes it
    retry = run_batch([message], executor, inbox, lambda: 300_000)

    # Then it is dead-lettered with the reason, never run, never retried
    assert executor.requests == []
    assert retry == []
    assert inbox.dead == [("m1", "wrong message group")]


def test_notifications_name_the_authenticated_sender() -> None:
    entry = LedgerEntry(
        WEB, "a1", "pause", "operator", "cli", datetime.now(UTC), datetime.now(UTC),
        Outcome.APPLIED, reason="no automatic deploys", requested_by="AROAEXAMPLE:alice",
    )  # fmt: skip
    note = notification_for(entry)
    assert note is not None
    assert "Sent by AROAEXAMPLE:alice" in note.text


@pytest.mark.parametrize(
    ("value", "expected"),
    [("", None), ("*", None), (" prod , staging ", frozenset({"prod", "staging"}))],
)
def test_managed_clusters_are_read_from_the_setting(
    value: str, expected: frozenset[str] | None
) -> None:
    assert parse_clusters(value) == expected


def test_services_outside_the_managed_clusters_are_out_of_scope() -> None:
    clusters = frozenset({"prod"})
    assert in_scope(WEB, clusters)
    assert not in_scope(SANDBOX, clusters)
    assert in_scope(SANDBOX, None)
    assert within([WEB, SANDBOX], clusters) == [WEB]


def test_settings_default_to_every_cluster_and_read_the_list() -> None:
    env = {
        "LEDGER_TABLE": "t",
        "ACTIONS_QUEUE_URL": "q",
        "DEAD_LETTER_QUEUE_URL": "d",
        "ACTIONS_DEAD_LETTER_QUEUE_URL": "ad",
        "NOTIFY_TOPIC_ARN": "n",
        "DRY_RUN": "false",
        "LEDGER_RETENTION_DAYS": "30",
        "FREEZE_AFTER_ROLLBACKS": "3",
        "HELD_PUSH_MAX_HOURS": "24",
    }
    assert Settings.from_env(env).managed_clusters is None
    scoped = Settings.from_env({**env, "MANAGED_CLUSTERS": "prod,staging"})
    assert scoped.managed_clusters == frozenset({"prod", "staging"})


class Untouchable:
    """A gateway that must not be called."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"{name} was called for a service outside the managed clusters")


@dataclass
class Written:
    entries: list[LedgerEntry] = field(default_factory=list)

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        self.entries.append(entry)
        return True


@dataclass
class Told:
    subjects: list[str] = field(default_factory=list)

    def send(self, notification: Any) -> None:
        self.subjects.append(notification.subject)


def test_an_action_on_a_service_outside_the_managed_clusters_is_refused_unread() -> None:
    # Given an installation that manages prod only, and an action naming sandbox/web
    ledger = Written()
    ctx = ExecutorContext(
        ecs=cast(Any, Untouchable()),
        ecr=cast(Any, Untouchable()),
        codedeploy=cast(Any, Untouchable()),
        cloudwatch=cast(Any, Untouchable()),
        ledger=cast(Any, ledger),
        notifier=cast(Any, Told()),
        autoscaling=cast(Any, Untouchable()),
        scheduler=cast(Any, Untouchable()),
        dry_run=False,
        clock=lambda: datetime(2026, 11, 20, tzinfo=UTC),
        managed_clusters=frozenset({"prod"}),
    )
    request = parse_action(pause(SANDBOX))

    # When the executor takes it
    entry = execute(ctx, request)

    # Then it is refused and recorded, and no AWS resource of that service was read
    assert (entry.outcome, entry.code) == (Outcome.REFUSED, "outside-managed-clusters")
    assert ledger.entries == [entry]

"""Planning a schedule's actions: a delivery of one firing is one set of actions, however often
Scheduler delivers it."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.fleet import Container, Service
from autopilot.models.actions import ActionRequest, CapacityRequest
from autopilot.models.events import ScheduleDocument
from autopilot.workflows.plan_schedule import plan_schedule

WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
WORKER = "arn:aws:ecs:us-east-1:123456789012:service/staging/worker"
PARK_SCHEDULE = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/park-nightly"
NOW = datetime(2026, 11, 20, 19, 0, 4, tzinfo=UTC)


class FakeTagging(TaggingGateway):
    def __init__(self) -> None:
        pass

    def services_tagged(self, key: str) -> list[str]:
        return [WEB, WORKER]


class FakeEcs(EcsGateway):
    def __init__(self) -> None:
        pass

    def describe_services(self, service_arns: Iterable[str]) -> list[Service]:
        return [
            Service(
                arn=arn,
                cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/staging",
                name=arn.rsplit("/", 1)[-1],
                status="ACTIVE",
                task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
                containers=(Container("web", "web:3"),),
                tags={"autopilot:schedule": "nightly"},
            )
            for arn in service_arns
        ]


class FakeQueue(ActionQueue):
    def __init__(self) -> None:
        self.sent: list[ActionRequest] = []

    def send(self, request: ActionRequest) -> None:
        self.sent.append(request)


def planned(body: dict[str, Any]) -> list[CapacityRequest]:
    queue = FakeQueue()
    plan_schedule(ScheduleDocument.parse(body), FakeEcs(), FakeTagging(), queue, NOW)
    requests = [r for r in queue.sent if isinstance(r, CapacityRequest)]
    assert len(requests) == len(queue.sent)
    return requests


PARK = {
    "action": "park",
    "group": "nightly",
    "timezone": "Europe/Berlin",
    "schedule_arn": PARK_SCHEDULE,
    "scheduled_time": "2026-11-20T19:00:00Z",
}


def test_schedulers_retry_of_a_firing_queues_the_same_actions() -> None:
    # Given a firing of the park schedule, and Scheduler's retry of it (a new execution id)
    first = planned({**PARK, "execution_id": "c6e0a5f5-7f3e-4a58-9d3a-0d2b8b3f9f11"})
    retry = planned({**PARK, "execution_id": "5d0f0c3e-9b7a-4e21-a8c4-7f61d2e0b9aa"})

    # Then the retry's actions are the same actions (SQS drops the duplicates; the executor
    # replays any that got through): same ids, same trigger, same time
    assert [r.action_id for r in retry] == [r.action_id for r in first]
    assert {r.trigger_id for r in first} == {f"{PARK_SCHEDULE}@2026-11-20T19:00:00Z"}
    assert {r.trigger_time for r in first} == {datetime(2026, 11, 20, 19, 0, tzinfo=UTC)}


def test_the_next_firing_of_the_schedule_is_a_new_trigger() -> None:
    # Given tonight's and tomorrow night's firings
    tonight = planned(PARK)
    tomorrow = planned({**PARK, "scheduled_time": "2026-11-21T19:00:00Z"})

    # Then they are different actions
    assert not {r.action_id for r in tonight} & {r.action_id for r in tomorrow}


def test_each_hand_sent_document_is_a_trigger_of_its_own() -> None:
    # Given a document sent by hand twice, with no schedule, time or execution id
    body = {"action": "park", "group": "nightly"}

    # Then each send plans its own actions, at the time it was planned
    first, second = planned(body), planned(body)
    assert not {r.action_id for r in first} & {r.action_id for r in second}
    assert {r.trigger_time for r in first} == {NOW}

"""The planner's path for `ECS Hook State Change`: the service comes from the envelope's
`resources` (a service or its service deployment), opted-in services only, and nothing in the
undocumented detail is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopilot.models.actions import ApprovalWaitingRequest
from autopilot.models.events import EcsHookStateChangeEvent, IgnoredEvent
from autopilot.workflows.plan_deployment import parse_deployment_event, plan_hook
from tests.fakes.world import World

EVENTS = Path(__file__).resolve().parents[2] / "events"
SAMPLE = json.loads((EVENTS / "ecs_hook_awaiting_action.json").read_text())


def test_the_sample_parses_as_a_hook_event() -> None:
    assert isinstance(parse_deployment_event(SAMPLE), EcsHookStateChangeEvent)


@pytest.mark.parametrize(
    "resource",
    [
        "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/r9i43YFjvgF_xlg7m2eJ1r",
    ],
)
def test_an_opted_in_service_gets_the_waiting_check_queued(resource: str) -> None:
    # Given prod/web opted in, and a hook event naming it (or its service deployment)
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags={"autopilot:track": "off"})
    event = EcsHookStateChangeEvent.parse({**SAMPLE, "resources": [resource], "detail": {}})

    # When it is planned
    planned = plan_hook(event, world.tagging, world.queue)

    # Then one waiting check is queued for the service, whatever the detail says
    assert planned == [web]
    [message] = world.queue.messages
    assert isinstance(message, ApprovalWaitingRequest)
    assert message.service_arn == web
    assert message.trigger_id == SAMPLE["id"]


def test_a_service_that_did_not_opt_in_queues_nothing() -> None:
    world = World()
    world.add_service("prod", "web", {"web": "nginx:1.27"})
    with pytest.raises(IgnoredEvent, match="no opted-in service"):
        plan_hook(EcsHookStateChangeEvent.parse(SAMPLE), world.tagging, world.queue)
    assert world.queue.messages == []

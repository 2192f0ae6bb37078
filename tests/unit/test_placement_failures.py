"""ECS cannot place a service's tasks: recorded and told, at most once an hour per opted-in
service; a service that did not opt in is ignored (no ledger entry)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from autopilot.domain.ledger import Outcome
from autopilot.models.events import IgnoredEvent
from autopilot.workflows.execute import execute
from autopilot.workflows.placement_action import (
    EcsServiceActionEvent,
    PlacementFailureRequest,
    on_placement_failure,
)
from autopilot.workflows.registry import parse_action
from tests.fakes.world import World

EVENTS = Path(__file__).resolve().parents[2] / "events"
TRACKED = {"autopilot:track": "tag:main"}


class Gateways:
    """What the planner factory hands a planning function, from the fakes."""

    def __init__(self, world: World) -> None:
        self.ecs, self.tagging, self.queue = world.ecs, world.tagging, world.queue
        self.cloudwatch, self.codedeploy = world.cloudwatch, world.codedeploy
        self.clusters: frozenset[str] | None = None
        self.index = world.index
        self.now = world.clock


def _event(
    event_id: str, *services: str, name: str = "SERVICE_TASK_PLACEMENT_FAILURE"
) -> EcsServiceActionEvent:
    body = json.loads((EVENTS / "ecs_service_placement_failure.json").read_text())
    body["id"], body["resources"] = event_id, list(services)
    body["detail"]["eventName"] = name
    return EcsServiceActionEvent.parse(body)


def _plan_and_run(world: World, event: EcsServiceActionEvent) -> list[Outcome]:
    """Plan the event, then run what was queued the way the executor receives it."""
    world.queue.messages.clear()
    on_placement_failure(event, Gateways(world))
    ctx = world.context()
    return [execute(ctx, parse_action(m.to_json())).outcome for m in world.queue.messages]


def test_the_first_failure_in_an_hour_is_recorded_and_told_the_rest_are_not() -> None:
    # Given prod/web opted in
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags=TRACKED)

    # When ECS reports a placement failure for it
    first = _plan_and_run(world, _event("e1", web))
    # Then it is recorded as notified, and on-call is told once, critically, with ECS's reason
    assert first == [Outcome.NOTIFIED]
    [told] = world.notifier.sent
    assert told.severity == "critical"
    assert "prod/web" in told.subject
    assert "RESOURCE:FARGATE" in told.text
    assert "FARGATE_SPOT" in told.text
    assert [e.kind for e in world.ledger.writes] == ["placement-failure"]

    # When two more arrive within the hour
    world.clock.advance(timedelta(minutes=20))
    second = _plan_and_run(world, _event("e2", web))
    world.clock.advance(timedelta(minutes=39))
    third = _plan_and_run(world, _event("e3", web))
    # Then nobody is told again and nothing more is recorded
    assert second == third == [Outcome.SKIPPED]
    assert len(world.notifier.sent) == 1
    assert len(world.ledger.writes) == 1

    # When one arrives an hour after the last told one
    world.clock.advance(timedelta(minutes=2))
    fourth = _plan_and_run(world, _event("e4", web))
    # Then it is told and recorded again
    assert fourth == [Outcome.NOTIFIED]
    assert len(world.notifier.sent) == 2
    assert len(world.ledger.writes) == 2


def test_a_redelivered_action_is_not_told_twice() -> None:
    # Given a placement failure told and recorded
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags=TRACKED)
    _plan_and_run(world, _event("e1", web))
    [queued] = world.queue.messages
    # When SQS delivers the same action again
    again = execute(world.context(), parse_action(queued.to_json()))
    # Then the recorded entry is returned and nobody is told again
    assert again.outcome is Outcome.NOTIFIED
    assert len(world.notifier.sent) == 1


def test_a_service_that_did_not_opt_in_is_ignored_and_leaves_no_entry() -> None:
    # Given prod/legacy without an autopilot:track tag
    world = World()
    legacy = world.add_service("prod", "legacy", {"legacy": "nginx:1.27"})
    # When ECS reports a placement failure for it
    with pytest.raises(IgnoredEvent, match="no opted-in service"):
        _plan_and_run(world, _event("e1", legacy))
    # Then nothing is queued, told or recorded
    assert world.queue.messages == []
    assert world.notifier.sent == []
    assert world.ledger.writes == []


def test_other_service_actions_are_not_placement_failures() -> None:
    # Given a steady-state event of an opted-in service (the rule filters these; a hand-sent
    # one may still arrive)
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags=TRACKED)
    # When it is planned / Then it is ignored
    with pytest.raises(IgnoredEvent, match="not a placement failure"):
        _plan_and_run(world, _event("e1", web, name="SERVICE_STEADY_STATE"))
    assert world.queue.messages == []


def test_the_request_survives_the_queue() -> None:
    # Given a placement failure request / When it goes through the queue's parser
    request = PlacementFailureRequest(
        action_id="a",
        service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        trigger="ecs-placement",
        trigger_id="e",
        trigger_time=datetime.fromisoformat("2026-11-20T10:20:00+00:00"),
        reason="RESOURCE:MEMORY",
        capacity_providers=("FARGATE_SPOT",),
    )
    # Then it comes back as itself
    assert parse_action(request.to_json()) == request

"""The one opt-in rule every planner applies: a service that did not opt in is ignored before
anything is queued, so it leaves no ledger entry."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autopilot.models.events import EcsDeploymentStateChangeEvent, IgnoredEvent
from autopilot.workflows.plan_deployment import plan_deployment
from autopilot.workflows.planning import opted_in
from tests.fakes.world import World

EVENTS = Path(__file__).resolve().parents[2] / "events"
TRACKED = {"autopilot:track": "tag:main"}


def test_opted_in_lists_the_tagged_services_and_keeps_the_order_it_was_given() -> None:
    # Given prod/web and prod/api opted in, prod/legacy not
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags=TRACKED)
    api = world.add_service("prod", "api", {"api": "nginx:1.27"}, tags=TRACKED)
    legacy = world.add_service("prod", "legacy", {"legacy": "nginx:1.27"})
    # When the opted-in services are asked for, alone or among a list
    everyone = opted_in(world.tagging)
    among = opted_in(world.tagging, [legacy, web, api])
    # Then only the tagged ones, in the order given
    assert sorted(everyone) == sorted([web, api])
    assert among == [web, api]


def test_a_listing_already_made_is_not_made_again() -> None:
    # Given the planner listed the opted-in services already (the tagging fake would fail)
    class NoTagging:
        def services_tagged(self, key: str) -> list[str]:
            raise AssertionError("listed twice")

        def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
            raise AssertionError("listed twice")

    # When it filters with that listing / Then no second listing is made
    assert opted_in(NoTagging(), ["a", "b"], tagged=["b"]) == ["b"]


def test_a_deployment_of_a_service_that_did_not_opt_in_queues_nothing() -> None:
    # Given ECS reports a deployment of prod/web, which carries no autopilot:track tag
    world = World()
    world.add_service("prod", "web", {"web": "nginx:1.27"})
    body = json.loads((EVENTS / "ecs_deployment_completed.json").read_text())
    body["resources"] = ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"]
    event = EcsDeploymentStateChangeEvent.parse(body)
    # When it is planned
    with pytest.raises(IgnoredEvent, match="no opted-in service"):
        plan_deployment(event, world.codedeploy, world.tagging, world.queue)
    # Then nothing was queued, so the executor writes no entry
    assert world.queue.messages == []


def test_a_deployment_of_an_opted_in_service_is_tracked() -> None:
    # Given the same deployment, of a service that opted in
    world = World()
    web = world.add_service("prod", "web", {"web": "nginx:1.27"}, tags=TRACKED)
    body = json.loads((EVENTS / "ecs_deployment_completed.json").read_text())
    body["resources"] = [web]
    event = EcsDeploymentStateChangeEvent.parse(body)
    # When it is planned / Then its tracking is queued
    assert plan_deployment(event, world.codedeploy, world.tagging, world.queue) == [web]
    assert [m.service_arn for m in world.queue.messages] == [web]


def test_every_event_function_but_the_executor_and_the_report_is_built_by_the_factory() -> None:
    # Given the handlers in functions/
    root = Path(__file__).resolve().parents[2] / "functions"
    handlers = {path.parent.name: path.read_text() for path in root.glob("*/app.py")}
    # When the planners among them are read
    planners = {
        name: text
        for name, text in handlers.items()
        if name not in {"executor", "cost_report", "canary_hook"}
    }
    # Then each is one planner(...) call: no handler of its own, no wiring of its own
    assert len(planners) >= 6
    for name, text in planners.items():
        assert "handler = planner(" in text, name
        assert "def handler" not in text, name
        assert "wiring" not in text, name


def test_the_lifecycle_hook_function_is_built_by_its_own_factory() -> None:
    # ECS reads a hook's answer as it is: its handler is one lifecycle_hook(...) call, which
    # answers a malformed invocation FAILED instead of wrapping the answer as planners do.
    text = (Path(__file__).resolve().parents[2] / "functions/canary_hook/app.py").read_text()
    assert "handler = lifecycle_hook(" in text
    assert "def handler" not in text
    assert "wiring" not in text

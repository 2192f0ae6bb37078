"""The planners against in-memory fakes: what each event queues, in which message group."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from autopilot.models.actions import CapacityRequest, ResumeHeldRequest, RollbackRequest
from autopilot.models.events import AlarmStateChangeEvent, IgnoredEvent, ScheduleDocument
from autopilot.workflows.plan_alarm import plan_alarm
from autopilot.workflows.plan_push import plan_push
from autopilot.workflows.plan_schedule import plan_schedule
from tests.fakes.world import T0, World, digest, ecr_image

EVENTS = Path(__file__).resolve().parents[2] / "events"


def _alarm_event(state: str = "ALARM") -> AlarmStateChangeEvent:
    """The documented sample: prod-web-cpu-high, dimensions ClusterName=prod ServiceName=web."""
    body: dict[str, Any] = json.loads((EVENTS / "cloudwatch_alarm_state_change.json").read_text())
    body["detail"]["state"]["value"] = state
    return AlarmStateChangeEvent.parse(body)


def test_an_alarm_tagged_for_two_services_queues_one_rollback_each() -> None:
    """Given the alarm's autopilot:service tag names two opted-in services (it overrides the
    metric's dimensions), when it goes to ALARM, then one automatic rollback is queued per
    service."""
    world = World()
    for name in ("web", "api"):
        world.add_service("prod", name, {name: "nginx:1.27"}, tags={"autopilot:track": "tag:main"})
    world.cloudwatch.put_alarm(
        "prod-web-cpu-high",
        tags={"autopilot:service": "prod/web, prod/api"},
        dimensions=[{"ClusterName": "prod", "ServiceName": "web"}],
    )

    plan = plan_alarm(_alarm_event(), world.cloudwatch, world.ecs, world.tagging, world.queue)

    assert [arn.rsplit("/", 2)[-2:] for arn in plan.services] == [["prod", "api"], ["prod", "web"]]
    assert all(isinstance(m, RollbackRequest) and m.automatic for m in world.queue.messages)
    assert [m.service_arn for m in world.queue.messages] == list(plan.services)


def test_an_alarm_back_to_ok_lets_each_service_deploy_what_it_held() -> None:
    """Given the alarm on prod/web's metrics (deleted since: its event's dimensions count),
    and prod/web opted in, when it goes back to OK, then one resume-held action is queued, for
    prod/web."""
    world = World()
    world.add_service("prod", "web", {"web": "nginx:1.27"}, tags={"autopilot:track": "tag:main"})

    plan = plan_alarm(_alarm_event("OK"), world.cloudwatch, world.ecs, world.tagging, world.queue)

    [queued] = world.queue.messages
    assert isinstance(queued, ResumeHeldRequest)
    assert queued.service_arn.endswith(":service/prod/web")
    assert (plan.action, queued.alarm) == ("resume-held", "prod-web-cpu-high")


def test_a_deployment_alarm_of_a_tracked_service_speaks_for_it() -> None:
    """Given prod/checkout (tracked) names the alarm among its ECS deployment alarms, and the
    alarm has no tag and no service dimensions, when it goes to ALARM, then prod/checkout gets
    a rollback."""
    world = World()
    world.cloudwatch.put_alarm("prod-web-cpu-high", dimensions=[{"LoadBalancer": "app/x/1"}])
    checkout = world.add_service(
        "prod",
        "checkout",
        {"web": "nginx:1.27"},
        tags={"autopilot:track": "tag:main"},
        deployment_alarms=["prod-web-cpu-high"],
    )

    plan = plan_alarm(_alarm_event(), world.cloudwatch, world.ecs, world.tagging, world.queue)

    assert plan.services == (checkout,)
    assert [m.service_arn for m in world.queue.messages] == [checkout]


def test_an_alarm_that_acts_on_a_scaling_policy_queues_nothing() -> None:
    """Given the alarm's action is a step scaling policy, when it goes to ALARM, then it means
    load changed: ignored, nothing queued, whatever its dimensions say."""
    world = World()
    world.cloudwatch.put_alarm(
        "prod-web-cpu-high",
        dimensions=[{"ClusterName": "prod", "ServiceName": "web"}],
        actions=[
            "arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:1a2b:resource/ecs/"
            "service/prod/web:policyName/scale-out"
        ],
    )

    with pytest.raises(IgnoredEvent):
        plan_alarm(_alarm_event(), world.cloudwatch, world.ecs, world.tagging, world.queue)
    assert world.queue.sends == 0


def test_a_push_queues_a_deploy_only_where_the_policy_accepts_the_tag() -> None:
    """Given prod/web following main and prod/web-next following release-*, when main is
    pushed, then only prod/web gets a deploy; prod/web-next is skipped with the reason."""
    world = World()
    image = ecr_image("web", digest("web#1"))
    web = world.add_service("prod", "web", {"web": image}, tags={"autopilot:track": "tag:main"})
    world.add_service(
        "prod", "web-next", {"web": image}, tags={"autopilot:track": "glob:release-*"}
    )
    push = world.push("web", "2", "main")

    lines = plan_push(push, world, world.queue)

    assert [(line.service, line.decision, line.code) for line in lines] == [
        ("prod/web", "queued", ""),
        ("prod/web-next", "skipped", "tag-not-tracked"),
    ]
    assert [m.service_arn for m in world.queue.messages] == [web]


def test_a_schedule_queues_its_group_and_a_redelivery_is_deduplicated() -> None:
    """Given prod/api in group nightly and prod/web in none, when the park schedule fires and
    Scheduler delivers it twice, then one park is queued, for prod/api."""
    world = World()
    api = world.add_service(
        "prod", "api", {"api": "api:1"}, tags={"autopilot:schedule": "nightly peak"}
    )
    world.add_service("prod", "web", {"web": "web:1"}, tags={"autopilot:schedule": "peak"})
    document = ScheduleDocument.parse(json.loads((EVENTS / "schedule_park.json").read_text()))

    for _ in range(2):
        plan_schedule(document, world.ecs, world.tagging, world.queue, T0)

    assert world.queue.sends == 2
    [queued] = world.queue.messages
    assert isinstance(queued, CapacityRequest)
    assert (queued.service_arn, queued.kind, queued.timezone) == (api, "park", "Europe/Berlin")

"""The local ECS's deployment engine (tools/autopilot_tools/local/ecs_engine.py), in process:
each strategy through ECS's documented stages on the clock it is given, hooks called and
called back, PAUSE hooks timing out, StopServiceDeployment and the circuit breaker honoured,
and ECS's events in the shape of the documented samples in events/."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from autopilot.models.events import EcsDeploymentStateChangeEvent
from autopilot_tools.local import ecs_engine, fleet, moto_ecs_deployments
from autopilot_tools.local.runner import LocalApp
from tests.integration.conftest import ROOT, create_native_blue_green_service

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
HOOK = "arn:aws:lambda:us-east-1:123456789012:function:judge"


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@pytest.fixture
def web(app: LocalApp) -> Iterator[str]:
    """Given prod/web (rolling) of the demo fleet."""
    with app.aws_environment():
        yield fleet.seed_fleet()["prod/web"]


def deploy(app: LocalApp, service: str, build: int) -> None:
    """UpdateService to a revision running build N of web (whoever sends it)."""
    with app.aws_environment():
        ecs = boto3.client("ecs")
        [shown] = ecs.describe_services(cluster="prod", services=[service])["services"]
        definition = ecs.describe_task_definition(taskDefinition=shown["taskDefinition"])
        containers = definition["taskDefinition"]["containerDefinitions"]
        for container in containers:
            if container["name"] == "web":
                container["image"] = fleet.image("web", build)
        family = definition["taskDefinition"]["family"]
        arn = ecs.register_task_definition(family=family, containerDefinitions=containers)[
            "taskDefinition"
        ]["taskDefinitionArn"]
        ecs.update_service(cluster="prod", service=service, taskDefinition=arn)


def run(app: LocalApp, *minutes: float) -> list[ecs_engine.Report]:
    with app.aws_environment():
        return [ecs_engine.advance(at(m)) for m in minutes]


def changes(reports: list[ecs_engine.Report]) -> list[dict[str, Any]]:
    return [c for r in reports for c in r.changes]


def names(reports: list[ecs_engine.Report]) -> list[str]:
    return [e["detail"]["eventName"] for r in reports for e in r.events]


def test_a_rolling_deployment_completes_once_its_tasks_have_started(
    app: LocalApp, web: str
) -> None:
    # Given build 2 deployed to prod/web at 09:00
    deploy(app, web, 2)

    # When the clock reaches 09:00:30, then 09:01
    reports = run(app, 0, 0.5, 1)

    # Then it started at once and completed a minute later, in the documented event shape
    assert [c["status"] for c in changes(reports)] == ["IN_PROGRESS", "SUCCESSFUL"]
    assert names(reports) == ["SERVICE_DEPLOYMENT_IN_PROGRESS", "SERVICE_DEPLOYMENT_COMPLETED"]
    sample = json.loads((ROOT / "events" / "ecs_deployment_completed.json").read_text())
    [completed] = reports[2].events
    assert set(completed) == set(sample)
    assert set(completed["detail"]) == set(sample["detail"])
    parsed = EcsDeploymentStateChangeEvent.parse(completed)
    assert parsed.detail.eventName == "SERVICE_DEPLOYMENT_COMPLETED"
    # and DescribeServices shows the deployment ECS reported completed
    with app.aws_environment():
        [shown] = boto3.client("ecs").describe_services(cluster="prod", services=[web])["services"]
    [primary] = shown["deployments"]
    assert primary["id"] == completed["detail"]["deploymentId"]
    assert primary["rolloutState"] == "COMPLETED"


def test_load_is_published_for_whole_minutes_once_and_not_for_a_clock_gone_back(
    app: LocalApp, web: str
) -> None:
    # Given prod/cart behind the ALB shop: production on its primary group (build 1), test
    # traffic on the alternate one, where nothing runs yet
    with app.aws_environment():
        fleet.seed_cart_alone()
        groups = fleet.cart_load_balancing()

    # When the clock reads 09:00, 09:03, 09:02 (gone back), then 09:04:30
    reports = run(app, 0, 3, 2, 4.5)

    # Then the minutes published are each published once: none, three, none, one
    assert [sum(s["minutes"] for s in r.load) for r in reports] == [0, 3, 0, 1]
    # and production's thousand requests a minute went to build 1's group only
    [segment] = reports[1].load
    assert segment["served"] == {groups.primary: [fleet.digest_of(fleet.CART, 1), 1000]}
    assert segment["start"] == T0


@pytest.mark.parametrize(
    ("strategy", "extra", "shifts"),
    [
        ("BLUE_GREEN", {}, [100.0]),
        ("CANARY", {"canaryConfiguration": {"canaryPercent": 5.0}}, [5.0, 100.0]),
        (
            "LINEAR",
            {"linearConfiguration": {"stepPercent": 25.0, "stepBakeTimeInMinutes": 2}},
            [25.0, 50.0, 75.0, 100.0],
        ),
    ],
)
def test_each_traffic_shifting_strategy_goes_through_the_documented_stages(
    app: LocalApp, web: str, strategy: str, extra: dict[str, Any], shifts: list[float]
) -> None:
    # Given a service deployed by ECS with the strategy (10 minutes of bake time)
    service = create_native_blue_green_service(app, fleet.image("web", 1), strategy)
    with app.aws_environment():
        configuration = {"strategy": strategy, "bakeTimeInMinutes": 10, **extra}
        _configure(service, configuration)
    deploy(app, service, 2)

    # When the clock runs for an hour
    reports = run(app, *range(0, 61))

    # Then it went through ECS's stages in order, shifting production as the strategy says,
    # and completed after the bake time
    seen = changes(reports)
    stages = [c["stage"] for c in seen if "stage" in c and "production_on_green" not in c]
    assert stages == list(ecs_engine.STAGES)
    assert [c["production_on_green"] for c in seen if "production_on_green" in c] == shifts
    assert seen[-1]["status"] == "SUCCESSFUL"
    waited = {"BLUE_GREEN": 0, "CANARY": 10, "LINEAR": 6}[strategy]
    assert seen[-1]["at"] == at(1 + waited + 10)


def test_a_stop_request_sends_traffic_back_to_blue_at_the_next_tick(
    app: LocalApp, web: str
) -> None:
    # Given a blue/green deployment that has shifted test traffic
    service = create_native_blue_green_service(app, fleet.image("web", 1))
    deploy(app, service, 2)
    run(app, 0, 1)

    # When someone stops it with rollback, and the engine next looks
    with app.aws_environment():
        ecs = boto3.client("ecs")
        [brief] = ecs.list_service_deployments(cluster="prod", service=service)[
            "serviceDeployments"
        ]
        ecs.stop_service_deployment(
            serviceDeploymentArn=brief["serviceDeploymentArn"], stopType="ROLLBACK"
        )
    [report] = run(app, 1.1)

    # Then it is rolled back at once: a rollback deployment of its own starts, saying what it
    # rolls back and why, and completes (blue's tasks were still running; no hook to call)
    assert [c["status"] for c in report.changes] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"]
    started, completed = report.events
    assert started["detail"]["eventName"] == "SERVICE_DEPLOYMENT_IN_PROGRESS"
    assert "rolling back" in started["detail"]["reason"]
    assert "a stop request" in started["detail"]["reason"]
    assert completed["detail"]["eventName"] == "SERVICE_DEPLOYMENT_COMPLETED"
    assert completed["detail"]["deploymentId"] == started["detail"]["deploymentId"]
    with app.aws_environment():
        [shown] = ecs.describe_service_deployments(
            serviceDeploymentArns=[brief["serviceDeploymentArn"]]
        )["serviceDeployments"]
    assert shown["status"] == "ROLLBACK_SUCCESSFUL"


def test_a_lambda_hook_is_called_back_after_its_delay_and_an_error_rolls_back(
    app: LocalApp, web: str
) -> None:
    # Given a blue/green service with a Lambda hook after test traffic
    service = create_native_blue_green_service(app, fleet.image("web", 1))
    with app.aws_environment():
        _configure(
            service,
            {
                "strategy": "BLUE_GREEN",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [
                    {
                        "hookTargetArn": HOOK,
                        "roleArn": "arn:aws:iam::123456789012:role/hooks",
                        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
                        "hookDetails": {"suite": "smoke"},
                    }
                ],
            },
        )
    deploy(app, service, 2)

    # When ECS reaches the hook, and the hook asks to be called again in two minutes
    _, reached = run(app, 0, 1)
    [invocation] = reached.invocations
    payload = invocation["payload"]
    assert invocation["functionArn"] == HOOK
    assert payload["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert payload["hookDetails"] == {"suite": "smoke"}
    assert payload["resourceArn"].split(":")[5].startswith("service-deployment/prod/checkout/")
    assert set(payload["executionDetails"]["testTrafficWeights"].values()) == {0.0, 100.0}
    answered = {"hookStatus": "IN_PROGRESS", "callBackDelay": 120, "hookDetails": {"n": 1}}
    assert ecs_engine.answer(invocation["executionId"], answered)

    # Then it is not called before the delay, and called with its details after it
    early, due = run(app, 2, 3)
    assert early.invocations == []
    [again] = due.invocations
    assert again["executionId"] == invocation["executionId"]
    assert again["payload"]["hookDetails"] == {"suite": "smoke", "n": 1}

    # When the invocation fails (the function errors)
    ecs_engine.answer(again["executionId"], {"error": "Unhandled: boom"})
    [failed] = run(app, 3)

    # Then ECS rolls the deployment back, and says why
    assert [c["status"] for c in failed.changes] == ["ROLLBACK_IN_PROGRESS", "ROLLBACK_SUCCESSFUL"]
    assert "Unhandled: boom" in failed.events[0]["detail"]["reason"]


def _configure(service: str, configuration: dict[str, Any]) -> None:
    """UpdateService with the deployment configuration (and nothing else)."""
    boto3.client("ecs").update_service(
        cluster="prod",
        service=service,
        deploymentConfiguration=configuration,
    )


def test_a_deployment_the_engine_cannot_move_is_reported_and_the_others_go_on(
    app: LocalApp, web: str
) -> None:
    # Given two deployments, one of whose records lost its target revision
    service = create_native_blue_green_service(app, fleet.image("web", 1))
    deploy(app, service, 2)
    deploy(app, web, 2)
    from moto.ecs.models import ecs_backends  # noqa: PLC0415 - the local server's own records

    store = moto_ecs_deployments.store_of(ecs_backends["123456789012"]["us-east-1"])
    [broken] = [d for d in store.deployments.values() if d["serviceArn"] == service]
    del broken["targetServiceRevision"]

    # When the engine moves them on
    reports = run(app, 0, 1, 2)

    # Then the broken one is reported once, with the reason, and the other completes
    errors = [c for c in changes(reports) if c["status"] == "ENGINE_ERROR"]
    assert [e["reason"] for e in errors] == ["KeyError: 'targetServiceRevision'"]
    assert "SERVICE_DEPLOYMENT_COMPLETED" in names(reports)


@pytest.mark.parametrize(
    ("during_rollback", "ends"),
    [("SUCCEEDED", "ROLLBACK_SUCCESSFUL"), ("FAILED", "ROLLBACK_FAILED")],
)
def test_the_traffic_shift_hooks_are_called_again_while_ecs_rolls_back(
    app: LocalApp, web: str, during_rollback: str, ends: str
) -> None:
    # Given a canary whose hook at PRODUCTION_TRAFFIC_SHIFT says FAILED
    service = create_native_blue_green_service(app, fleet.image("web", 1), "CANARY")
    with app.aws_environment():
        _configure(
            service,
            {
                "strategy": "CANARY",
                "bakeTimeInMinutes": 0,
                "lifecycleHooks": [
                    {
                        "hookTargetArn": HOOK,
                        "roleArn": "arn:aws:iam::123456789012:role/hooks",
                        "lifecycleStages": ["PRODUCTION_TRAFFIC_SHIFT"],
                    }
                ],
            },
        )
    deploy(app, service, 2)
    _, judged = run(app, 0, 1)
    [first] = judged.invocations
    ecs_engine.answer(first["executionId"], {"hookStatus": "FAILED"})

    # When ECS rolls back: traffic is back on blue, and the hook is called again
    [rolling] = run(app, 1)
    [again] = rolling.invocations
    details = again["payload"]["executionDetails"]
    green = details["targetServiceRevisionArn"]

    # Then it is told green has 0% of production and of test traffic
    assert again["executionId"] != first["executionId"]
    assert again["payload"]["lifecycleStage"] == "PRODUCTION_TRAFFIC_SHIFT"
    assert details["productionTrafficWeights"][green] == 0.0
    assert details["testTrafficWeights"][green] == 0.0
    assert [c["status"] for c in rolling.changes] == ["ROLLBACK_IN_PROGRESS"]

    # And the rollback ends with its answer
    ecs_engine.answer(again["executionId"], {"hookStatus": during_rollback})
    [ended] = run(app, 1)
    assert [c["status"] for c in ended.changes] == [ends]

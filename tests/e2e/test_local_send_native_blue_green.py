"""ECS's own blue/green end to end through `autopilot local send`: an alarm while the deployment
is in flight stops it with rollback (StopServiceDeployment ROLLBACK: traffic back on the
revision still serving it, nothing registered, no UpdateService); an alarm after it completed,
inside the automation's watch window, rolls back with UpdateService as for any service. The
local ECS runs the deployments through their stages (autopilot_tools/local/ecs_engine.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from autopilot_tools.local import fleet, sample_events
from tests.e2e.harness import Moto, Result
from tests.e2e.test_local_send_blue_green import write
from tests.e2e.test_local_send_rollback import push
from tests.integration.conftest import create_native_blue_green_service

CHECKOUT = "prod/checkout"


def _deployments(moto: Moto, service: str) -> list[dict[str, Any]]:
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        listed = ecs.list_service_deployments(cluster="prod", service=service)
        arns = [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]]
        return list(
            ecs.describe_service_deployments(serviceDeploymentArns=arns)["serviceDeployments"]
        )


def _running(moto: Moto, service: str) -> tuple[str, list[str]]:
    """The task definition the service runs, and every revision of its family."""
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        [described] = ecs.describe_services(cluster="prod", services=[service])["services"]
        family = ecs.list_task_definitions(familyPrefix="checkout")["taskDefinitionArns"]
    return described["taskDefinition"].rsplit("/", 1)[-1], [a.rsplit("/", 1)[-1] for a in family]


def _alarm_now(moto: Moto) -> Path:
    """checkout-5xx (on prod/checkout's metrics) goes to ALARM, now."""
    event = sample_events.alarm("checkout-5xx", "prod", "checkout")
    event["time"] = (moto.now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return write(moto.tmp, "alarm", event)


def _action(result: Result, kind: str = "") -> dict[str, Any]:
    """The action on prod/checkout (of `kind`, where ECS's events add others)."""
    [line] = [
        a
        for a in result.of_type("action")
        if a["service"] == CHECKOUT and (not kind or a["kind"] == kind)
    ]
    return line


def test_an_alarm_mid_deployment_stops_it_with_rollback_instead_of_redeploying(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/checkout (BLUE_GREEN) follows web:main, and build 2 is being deployed
    checkout = create_native_blue_green_service(moto.app, fleet.image("web", 1))
    assert _action(moto.send(push(moto, 2)))["outcome"] == "deployed"
    [in_flight] = _deployments(moto, checkout)
    assert in_flight["status"] == "IN_PROGRESS"

    # When its alarm fires during the deployment
    rolled = moto.send(_alarm_now(moto))

    # Then the deployment is stopped with rollback, and traffic is back on checkout:1
    action = _action(rolled, "rollback")
    assert (action["outcome"], action["via"], action["strategy"]) == (
        "rolled-back",
        "stop-service-deployment",
        "BLUE_GREEN",
    )
    assert action["deployment"] == in_flight["serviceDeploymentArn"]
    assert float(action["seconds_to_rollback"]) >= 0
    # And ECS, next looking, has the rollback done: its end event says traffic is back on
    # checkout:1, recorded with how long that took from the alarm
    [stopped] = _deployments(moto, checkout)
    assert stopped["status"] == "ROLLBACK_SUCCESSFUL"
    back = _action(rolled, "track")
    assert (back["outcome"], back["code"]) == ("completed", "rollback-completed")
    assert "traffic is back on checkout:1" in back["reason"]
    assert float(back["seconds_to_traffic_back"]) >= float(action["seconds_to_rollback"])
    [told] = [n for n in rolled.of_type("notification") if "is back on" in n["subject"]]
    assert told["subject"] == "[autopilot] prod/checkout is back on checkout:1"
    # and no task definition was registered for it, no new deployment started
    assert _running(moto, checkout) == ("checkout:1", ["checkout:1", "checkout:2"])
    # and on-call reads which strategy ran and how it rolled back
    [note] = [n for n in rolled.of_type("notification") if "ROLLED BACK" in n["subject"]]
    assert "BLUE_GREEN: service deployment" in note["text"]
    assert "stopped with rollback, accepted" in note["text"]


def test_an_alarm_after_the_deployment_completed_rolls_back_with_update_service(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/checkout (BLUE_GREEN) deployed build 2, and its deployment completed (ECS's
    # bake time over, its completion event delivered)
    checkout = create_native_blue_green_service(moto.app, fleet.image("web", 1))
    moto.now = datetime.now(UTC).replace(microsecond=0)
    assert _action(moto.send(push(moto, 2)))["outcome"] == "deployed"
    completed = moto.tick(moto.now + timedelta(minutes=12))
    assert _action(completed)["outcome"] == "completed"

    # When its alarm fires inside the automation's watch window
    rolled = moto.send(_alarm_now(moto))

    # Then it is rolled back to checkout:1 with UpdateService, which ECS runs as a new
    # blue/green deployment; the completed one is left as it is
    action = _action(rolled)
    assert (action["outcome"], action["via"], action["strategy"]) == (
        "rolled-back",
        "update-service",
        "BLUE_GREEN",
    )
    assert _running(moto, checkout) == ("checkout:1", ["checkout:1", "checkout:2"])
    assert sorted(d["status"] for d in _deployments(moto, checkout)) == [
        "IN_PROGRESS",
        "SUCCESSFUL",
    ]

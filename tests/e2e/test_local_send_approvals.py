"""Approval gates end to end on the local ECS: a production BLUE_GREEN service with a PAUSE
hook and `autopilot:approve=on` receives a push; a minute later (`autopilot local tick`) its
deployment waits at the hook and ECS's `ECS Hook State Change` event tells on-call what waits
and how to answer; `autopilot approve` ships it, `autopilot reject` rolls it back and
quarantines the digest, so the next push of it is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from autopilot_tools.local import fleet
from tests.e2e.harness import Moto, Result, clock, web_service
from tests.e2e.test_local_send_rollback import push

T0 = datetime.now(UTC).replace(second=0, microsecond=0) + timedelta(hours=1)
CHECKOUT = "prod/checkout"


def _gated_service(moto: Moto) -> str:
    """prod/checkout follows web:main, runs build 1, deploys BLUE_GREEN and pauses after test
    traffic for approval (timing out into a rollback); returns its ARN."""
    pause = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 120, "action": "ROLLBACK"},
    }
    configuration = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10, "lifecycleHooks": [pause]}
    return web_service(moto, "checkout", configuration, "autopilot:approve=on")


def _deployments(moto: Moto, arn: str) -> list[dict[str, Any]]:
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        listed = ecs.list_service_deployments(cluster="prod", service=arn)
        arns = [d["serviceDeploymentArn"] for d in listed["serviceDeployments"]]
        found = ecs.describe_service_deployments(serviceDeploymentArns=arns)
    return sorted(found["serviceDeployments"], key=lambda d: d["createdAt"])


def _action(result: Result) -> dict[str, Any]:
    [line] = [a for a in result.of_type("action") if a["service"] == CHECKOUT]
    return line


def _paused(moto: Moto, tmp_path: Path) -> tuple[str, Result]:
    """prod/checkout received build 2 at T0; a minute later its deployment waits at the PAUSE
    hook. Its ARN, and what that minute caused."""
    moto.tmp = tmp_path
    arn = _gated_service(moto)
    assert _action(moto.send(push(moto, 2), env=clock(T0)))["outcome"] == "deployed"
    told = moto.tick(T0 + timedelta(minutes=1))
    [paused] = _deployments(moto, arn)
    assert paused["status"] == "IN_PROGRESS"
    assert paused["lifecycleStage"] == "POST_TEST_TRAFFIC_SHIFT"
    assert paused["lifecycleHookDetails"][0]["status"] == "AWAITING_ACTION"
    return arn, told


def test_a_waiting_deployment_is_told_and_approve_ships_it(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given prod/checkout's deployment of build 2 reaches its PAUSE hook (ECS's hook event
    # goes out)
    arn, told = _paused(moto, tmp_path)

    # Then on-call is told what waits, where, until when, what then, and how to answer
    assert told.code == 0, told.stderr
    assert _action(told)["outcome"] == "notified"
    [note] = [n for n in told.of_type("notification") if "APPROVAL NEEDED" in n["subject"]]
    assert "checkout:2" in note["subject"]
    assert fleet.digest_of("web", 2) in note["text"]
    assert "POST_TEST_TRAFFIC_SHIFT" in note["text"]
    assert "(ROLLBACK)" in note["text"]
    assert "autopilot approve prod/checkout" in note["text"]
    assert "autopilot reject prod/checkout" in note["text"]
    # and the next minutes tell nobody again
    assert moto.tick(T0 + timedelta(minutes=2)).of_type("notification") == []

    # When an operator approves
    approved = moto.autopilot("approve", CHECKOUT, "--json")

    # Then ECS goes on: production shifts, the 10 minutes of bake time pass, and ECS's event
    # says the deployment completed; who approved is recorded
    assert approved.code == 0, approved.stderr
    [line] = approved.lines
    assert (line["kind"], line["outcome"]) == ("approve", "applied")
    assert "approved by" in line["reason"]
    assert line["hook"].startswith("ecs-pause-")
    went_on = moto.tick(T0 + timedelta(minutes=3))  # ECS's next look: it goes on
    assert "PRODUCTION_TRAFFIC_SHIFT" in [d.get("stage") for d in went_on.of_type("deployment")]
    shipped = moto.tick(T0 + timedelta(minutes=30))
    assert _action(shipped)["outcome"] == "completed"
    [done] = _deployments(moto, arn)
    assert done["status"] == "SUCCESSFUL"

    # And approving again says nothing waits, exit 1
    nothing = moto.autopilot("approve", CHECKOUT)
    assert nothing.code == 1
    assert "nothing is waiting for approval on prod/checkout" in nothing.raw_stdout


def test_reject_rolls_back_and_quarantines_so_the_next_push_of_it_is_refused(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given prod/checkout's deployment of build 2 waits at its PAUSE hook
    arn, _ = _paused(moto, tmp_path)

    # When an operator rejects it
    rejected = moto.autopilot("reject", CHECKOUT, "--json")

    # Then ECS rolls it back to checkout:1 and build 2's digest is quarantined
    assert rejected.code == 0, rejected.stderr
    [line] = rejected.lines
    assert (line["kind"], line["outcome"]) == ("reject", "rolled-back")
    [back] = _deployments(moto, arn)
    assert back["status"] == "ROLLBACK_REQUESTED"
    # and at ECS's next look, traffic is back on checkout:1
    assert [d["status"] for d in moto.tick(T0 + timedelta(minutes=2)).of_type("deployment")] == [
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
    ]
    with moto.app.aws_environment():
        [described] = boto3.client("ecs").describe_services(cluster="prod", services=[arn])[
            "services"
        ]
    assert described["taskDefinition"].endswith("/checkout:1")
    status = moto.autopilot("status", "--json")
    assert fleet.digest_of("web", 2) in {q["digest"] for q in status.lines[0]["quarantined"]}

    # And the next push of that digest is refused
    again = moto.send(push(moto, 2))
    assert _action(again)["code"] == "quarantined"

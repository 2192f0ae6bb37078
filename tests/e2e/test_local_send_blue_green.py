"""Blue/green (CODE_DEPLOY) end to end through `autopilot local send`: an alarm during the
deployment stops it with rollback, and the end event of that stop is the rollback completing,
not a failure to page about. The local moto server has CodeDeploy's StopDeployment."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from autopilot_tools.local import fleet, sample_events
from tests.e2e.harness import Moto
from tests.e2e.test_local_send_rollback import EVENTS, push
from tests.integration.conftest import create_blue_green_service


def write(tmp_path: Path, name: str, event: dict[str, object]) -> Path:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(event))
    return path


def test_stopping_a_blue_green_deployment_is_a_completed_rollback_not_a_page(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/checkout (CODE_DEPLOY) follows web:main, and build 2 is out as a deployment
    checkout = create_blue_green_service(moto.app, fleet.image("web", 1))
    deployed = moto.send(push(moto, 2))
    [line] = [a for a in deployed.of_type("action") if a["service"] == "prod/checkout"]
    assert line["outcome"] == "deployed"
    deployment = line["deployment"]

    # When the service's alarm fires during the deployment
    alarm = sample_events.alarm("checkout-5xx", "prod", "checkout")
    rolled = moto.send(write(tmp_path, "alarm", alarm))

    # Then CodeDeploy stops the deployment with rollback
    assert rolled.outcome("prod/checkout") == "rolled-back"
    with moto.app.aws_environment():
        status = boto3.client("codedeploy").get_deployment(deploymentId=deployment)
    assert status["deploymentInfo"]["status"] == "Stopped"

    # When CodeDeploy reports the deployment stopped (its documented state-change event)
    event = json.loads((EVENTS / "codedeploy_deployment_failure.json").read_text())
    event["detail"].update(
        state="STOP",
        deploymentId=deployment,
        application="AppECS-prod-checkout",
        deploymentGroup="DgpECS-prod-checkout",
    )
    ended = moto.send(write(tmp_path, "stopped", event))

    # Then the rollback is recorded as completed, and nobody is paged about a failure
    [track] = ended.of_type("action")
    assert (track["outcome"], track["code"]) == ("completed", "rollback-completed")
    notes = [n["subject"] for n in ended.of_type("notification")]
    assert not [s for s in notes if "FAILED" in s]
    assert checkout.endswith("/prod/checkout")

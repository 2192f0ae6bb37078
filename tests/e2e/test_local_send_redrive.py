"""An action given up after every attempt, then `autopilot redrive`, end to end: the message
waits in the actions dead-letter queue, on-call is told, and the redrive resumes it where it
stopped (no second revision), for the service named only."""

from __future__ import annotations

from pathlib import Path

import boto3

from tests.e2e.harness import Moto
from tests.e2e.test_local_send_rollback import push

EVERY_UPDATE_FAILS = {
    "AUTOPILOT_LOCAL_FAULTS": ",".join(f"ecs.UpdateService:before:{n}" for n in range(1, 7))
}


def revisions(moto: Moto) -> list[str]:
    with moto.app.aws_environment():
        found = boto3.client("ecs").list_task_definitions(familyPrefix="web")
    return list(found["taskDefinitionArns"])


def test_a_given_up_deploy_is_redriven_and_finishes_where_it_stopped(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given every UpdateService fails while web:main is pushed: both deploys give up
    given_up = moto.send(push(moto, 2), env=EVERY_UPDATE_FAILS)
    outcomes = {a["service"]: (a["outcome"], a.get("code")) for a in given_up.of_type("action")}
    assert outcomes == {
        "prod/web": ("failed", "gave-up"),
        "staging/web": ("failed", "gave-up"),
    }
    assert any("prod/web" in n["subject"] for n in given_up.of_type("notification"))
    moto.app.ensure_resources()
    assert moto.app.queue_depth("ActionsDeadLetterQueue") == 2
    registered = revisions(moto)

    # When ECS works again and an operator redrives prod/web
    result = moto.autopilot("--json", "redrive", "prod/web")

    # Then prod/web's deploy finished on the revision registered before, with no new one
    assert result.code == 0, result.stderr
    [line] = result.lines
    assert line["outcome"] == "redriven"
    with moto.app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
    assert running["services"][0]["taskDefinition"] in registered
    assert revisions(moto) == registered
    history = moto.autopilot("--json", "history", "prod/web", "--limit", "1")
    assert (history.lines[0]["outcome"], history.lines[0].get("code", "")) == ("deployed", "")
    # And staging/web's action still waits for a person
    assert moto.app.queue_depth("ActionsDeadLetterQueue") == 1

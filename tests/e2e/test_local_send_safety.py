"""Safety on a real fleet, end to end through `autopilot local send` and `autopilot` against
the moto server: a bake window that closes without an end event, and invalid requests that are
refused at once, recorded, and never retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from tests.e2e.harness import Moto, Result
from tests.e2e.test_local_send_rollback import EVENTS, WEB, push


def later(hours: float) -> dict[str, str]:
    """The handlers' clock, `hours` from now."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return {"AUTOPILOT_LOCAL_NOW": moment.isoformat()}


def test_a_deployment_that_never_reports_its_end_is_not_rolled_back_hours_later(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given build 66 deployed, whose tasks exit as they start: with no circuit breaker on
    # prod/web, ECS keeps trying and no end event ever comes
    assert moto.send(push(moto, 66)).outcome("prod/web") == "deployed"

    # When the service's documented CPU alarm fires three hours later
    alarm = moto.send(EVENTS / "cloudwatch_alarm_state_change.json", env=later(3))

    # Then nothing is rolled back: the bake window has closed, on-call is told why
    assert alarm.outcome("prod/web") == "outside-bake-window"
    with moto.app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
    assert running["services"][0]["taskDefinition"].endswith("web:2")


def test_the_same_alarm_minutes_after_the_deploy_still_rolls_back(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given build 2 deployed over a known-good build 1 (its end event has not come yet)
    assert moto.send(push(moto, 2)).outcome("prod/web") == "deployed"

    # When the alarm fires ten minutes later
    alarm = moto.send(EVENTS / "cloudwatch_alarm_state_change.json", env=later(1 / 6))

    # Then the deploy is rolled back
    assert alarm.action("prod/web", "rollback")["outcome"] == "rolled-back"


def test_a_rollback_to_a_revision_that_does_not_exist_is_refused_at_once(
    moto: Moto, services: dict[str, str]
) -> None:
    # When an operator asks for a revision the family does not have
    result = moto.autopilot("rollback", "prod/web", "--to", "77")

    # Then one line says so, at once, and nothing was queued
    assert result.code == 1
    assert result.stderr.strip().splitlines() == [
        "autopilot: rollback refused: no task definition web:77: name a revision of web"
    ]
    moto.app.ensure_resources()
    assert moto.app.queue_depth("ActionsQueue") == 0
    assert moto.app.queue_depth("ActionsDeadLetterQueue") == 0


def test_a_rollback_to_another_familys_revision_is_refused(
    moto: Moto, services: dict[str, str]
) -> None:
    # When an operator names api's revision for prod/web
    result = moto.autopilot("rollback", "prod/web", "--to", "api:1")

    # Then it is refused: another family runs other code with another task role
    assert result.code == 1
    assert "is not a revision of web" in result.stderr
    assert "Traceback" not in result.stderr
    with moto.app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
    assert running["services"][0]["taskDefinition"].endswith("web:1")


def send_document(moto: Moto, tmp_path: Path, name: str, document: dict[str, str]) -> Result:
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(document))
    return moto.send(path, env=at(name))


def at(name: str) -> dict[str, str]:
    """The clock of each step of the parked-deploy story, relative to its start."""
    offsets = {"unpark": 2.0, "alarm": 2 + 10 / 60}
    return later(offsets[name]) if name in offsets else {}


def test_a_deploy_to_a_parked_service_is_proven_only_after_serving_the_bake_time(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/web in the nightly group, parked (0 tasks)
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=WEB, tags=[{"key": "autopilot:schedule", "value": "nightly"}]
        )
    park = {"action": "park", "group": "nightly", "timezone": "UTC"}
    assert send_document(moto, tmp_path, "park", park).outcome("prod/web") == "applied"

    # When build 2 is deployed while parked, and ECS reports it completed a minute later
    assert moto.send(push(moto, 2)).outcome("prod/web") == "deployed"
    result = moto.tick(datetime.now(UTC) + timedelta(minutes=1))

    # Then it is recorded as completed without tasks, not as known good
    [line] = [a for a in result.of_type("action") if a["service"] == "prod/web"]
    assert line["outcome"] == "completed"
    assert "ran no task" in line["reason"]

    # When the service is unparked two hours later, and its alarm fires ten minutes after that
    unpark = {"action": "unpark", "group": "nightly", "timezone": "UTC"}
    assert send_document(moto, tmp_path, "unpark", unpark).outcome("prod/web") == "applied"
    alarm = moto.send(EVENTS / "cloudwatch_alarm_state_change.json", env=at("alarm"))

    # Then build 2 is rolled back: it had served for ten minutes, not for the bake time
    [rolled] = alarm.of_type("action")
    assert (rolled["outcome"], rolled["from"], rolled["to"]) == ("rolled-back", "web:2", "web:1")

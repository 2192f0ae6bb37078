"""Safety on a real fleet, end to end through `autopilot local send` and `autopilot` against
the moto server: a bake window that closes without an end event, and invalid requests that are
refused at once, recorded, and never retried."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from tests.e2e.harness import Moto
from tests.e2e.test_local_send_rollback import EVENTS, push


def later(hours: float) -> dict[str, str]:
    """The handlers' clock, `hours` from now."""
    moment = datetime.now(UTC) + timedelta(hours=hours)
    return {"AUTOPILOT_LOCAL_NOW": moment.isoformat()}


def test_a_deployment_that_never_reports_its_end_is_not_rolled_back_hours_later(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given build 2 deployed, and no end event ever comes for it
    assert moto.send(push(moto, 2)).outcome("prod/web") == "deployed"

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
    assert alarm.outcome("prod/web") == "rolled-back"


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

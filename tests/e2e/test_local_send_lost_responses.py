"""A change whose response was lost, end to end: `autopilot local send` with a fault injected
into the moto server's answers (AUTOPILOT_LOCAL_FAULTS), and documented event shapes. The
retry must find the change the first attempt made, record it once, and never repeat it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from autopilot.adapters.ledger import Ledger
from autopilot.domain.ledger import Outcome
from tests.e2e.harness import Moto
from tests.e2e.test_local_send_rollback import EVENTS, WEB, push

T0 = datetime.now(UTC).replace(second=0, microsecond=0)

LOST_UPDATE = {"AUTOPILOT_LOCAL_FAULTS": "ecs.UpdateService:after"}


def ledger(moto: Moto) -> Ledger:
    moto.app.ensure_resources()
    return Ledger(moto.app.physical("LedgerTable")["Ref"], 1)


def revisions(moto: Moto, family: str) -> list[str]:
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        return list(ecs.list_task_definitions(familyPrefix=family)["taskDefinitionArns"])


def test_a_deploy_whose_update_response_is_lost_is_recorded_once_with_its_revision(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp, moto.now = tmp_path, T0
    before = revisions(moto, "web")

    # Given UpdateService takes effect and its response is lost (a read timeout)
    # When web:main is pushed
    result = moto.send(push(moto, 2), env=LOST_UPDATE)

    # Then the deploy is recorded as deployed, confirmed on the retry
    [action] = [a for a in result.of_type("action") if a["service"] == "prod/web"]
    assert action["outcome"] == "deployed", result.raw_stdout
    assert "confirmed on retry" in action["reason"]
    # And exactly one new revision was registered for it, and the service runs it
    assert len(revisions(moto, "web")) == len(before) + 1
    with moto.app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
        [entry] = ledger(moto).history(WEB, 1)
        state = ledger(moto).state(WEB)
    assert entry.to_task_definition == running["services"][0]["taskDefinition"]
    # And the deployment id is tracked, so ECS's completion event a minute later is ours
    assert entry.deployment_id
    assert state.latest is not None
    assert state.latest.deployment_id == entry.deployment_id
    assert moto.tick(T0 + timedelta(minutes=1)).outcome("prod/web") == "completed"


def test_an_automatic_rollback_whose_response_is_lost_rolls_back_once_and_counts_once(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp, moto.now = tmp_path, T0
    # Given build 2 deployed and completed, and build 3 rolling out
    assert moto.send(push(moto, 2)).outcome("prod/web") == "deployed"
    assert moto.tick(T0 + timedelta(minutes=1)).outcome("prod/web") == "completed"
    assert moto.send(push(moto, 3)).outcome("prod/web") == "deployed"

    # When the documented CPU alarm fires, and the rollback's UpdateService response is lost
    result = moto.send(EVENTS / "cloudwatch_alarm_state_change.json", env=LOST_UPDATE)

    # Then the rollback is recorded once, from build 3's revision to build 2's
    [action] = result.of_type("action")
    assert (action["outcome"], action["from"], action["to"]) == ("rolled-back", "web:3", "web:2")
    assert "confirmed on retry" in action["reason"]
    # And it counts once toward the freeze, with the bad digest quarantined
    with moto.app.aws_environment():
        state = ledger(moto).state(WEB)
        quarantined = ledger(moto).quarantined()
        history = ledger(moto).history(WEB)
    assert len(state.rollbacks) == 1
    assert len(quarantined) == 1
    assert [e.outcome for e in history if e.kind == "rollback"] == [Outcome.ROLLED_BACK]
    # And on-call got one rollback notification, not a failure
    notes = [n for n in result.of_type("notification") if "prod/web" in n["subject"]]
    assert [n["subject"] for n in notes if "ROLLED BACK" in n["subject"]]
    assert not [n for n in notes if "FAILED" in n["subject"]]


def test_a_manual_rollback_retried_after_a_lost_response_goes_no_further_than_asked(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp, moto.now = tmp_path, T0
    # Given builds 2 and 3 deployed and completed (two known-good revisions)
    for build in (2, 3):
        assert moto.send(push(moto, build)).outcome("prod/web") == "deployed"
        assert moto.tick(T0 + timedelta(minutes=build)).outcome("prod/web") == "completed"

    # When an operator rolls back and the UpdateService response is lost
    result = moto.autopilot("--json", "rollback", "prod/web", env=LOST_UPDATE)

    # Then the service went back one revision (to build 2's), not two
    assert result.code == 0, result.stderr
    [line] = result.lines
    assert (line["outcome"], line["from"], line["to"]) == ("rolled-back", "web:3", "web:2")
    with moto.app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
    assert running["services"][0]["taskDefinition"].endswith("web:2")


def test_an_unreadable_fault_specification_is_one_clear_line(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    path = tmp_path / "event.json"
    path.write_text(json.dumps(json.loads((EVENTS / "ecr_image_push.json").read_text())))
    result = moto.send(path, env={"AUTOPILOT_LOCAL_FAULTS": "UpdateService"})
    assert result.code != 0
    assert "AUTOPILOT_LOCAL_FAULTS" in result.stderr
    assert "Traceback" not in result.stderr

"""Deployment tracking, alarm rollback, quarantine and the operator CLI, end to end: documented
event shapes through `autopilot local send`, and `autopilot` commands against the moto server."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3

from autopilot_tools.local import fleet
from tests.e2e.harness import ROOT, Moto

EVENTS = ROOT / "events"
WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"


def push(moto: Moto, build: int) -> Path:
    """Push web build N as web:main; a new documented push event carrying its digest."""
    with moto.app.aws_environment():
        digest = fleet.push_image("web", "main", build)
    name = f"push-{build}-{uuid.uuid4().hex[:8]}"
    return sample(moto, "ecr_image_push.json", name, {"image-digest": digest})


def sample(moto: Moto, name: str, copy_as: str, detail: dict[str, Any], **top: Any) -> Path:
    """A documented sample event with some values replaced (the shape is AWS's)."""
    event = json.loads((EVENTS / name).read_text())
    event["detail"].update(detail)
    event.update(top)
    event["id"] = f"{copy_as}-{event['id']}"
    path = moto.tmp / f"{copy_as}.json"
    path.write_text(json.dumps(event))
    return path


def test_the_whole_rollback_story(moto: Moto, services: dict[str, str], tmp_path: Path) -> None:
    moto.tmp = tmp_path
    # Given build 2 deployed ten minutes ago, and a minute later ECS's event: it completed
    moto.now = datetime.now(UTC) - timedelta(minutes=10)
    assert moto.send(push(moto, 2)).outcome("prod/web") == "deployed"
    assert moto.tick(moto.now + timedelta(minutes=1)).outcome("prod/web") == "completed"
    moto.now = None  # the wall clock again, for the rest of the story

    # When build 3 goes out and the documented CPU alarm event for prod/web arrives
    assert moto.send(push(moto, 3)).outcome("prod/web") == "deployed"
    alarm = moto.send(EVENTS / "cloudwatch_alarm_state_change.json")

    # Then prod/web is rolled back to build 2's revision
    action = alarm.action("prod/web", "rollback")
    assert (action["outcome"], action["from"], action["to"]) == ("rolled-back", "web:3", "web:2")
    # And the metric-math alarm on the same service adds no second rollback
    math = moto.send(EVENTS / "cloudwatch_alarm_metric_math.json")
    assert math.outcome("prod/web") == "already-rolled-back"
    # And the alarm going back to OK finds no push held back: nothing changes, nobody is told
    ok = moto.send(EVENTS / "cloudwatch_alarm_ok.json")
    assert ok.outcome("prod/web") == "nothing-held"
    assert ok.of_type("notification") == []

    # When the bad digest is pushed again
    again = moto.send(push(moto, 3))

    # Then it is refused
    assert again.outcome("prod/web") == "quarantined"

    # And `autopilot status` shows the quarantine and the last known good
    status = moto.autopilot("--json", "status")
    assert status.code == 0, status.stderr
    [report] = status.lines
    [web] = [s for s in report["services"] if s["service"] == "prod/web"]
    assert web["revision"] == "web:2"
    assert web["last_known_good"] == "web:2"
    bad = fleet.digest_of("web", 3)
    assert [q["digest"] for q in report["quarantined"]] == [bad]

    # When an operator releases the digest, it deploys on the next push
    released = moto.autopilot("--json", "release", bad)
    assert released.code == 0, released.stderr
    assert released.lines[0]["outcome"] == "applied"
    assert moto.send(push(moto, 3)).outcome("prod/web") == "deployed"

    # And `autopilot history` lists what happened, newest first
    history = moto.autopilot("--json", "history", "prod/web")
    outcomes = [(line["kind"], line["outcome"]) for line in history.lines]
    assert outcomes[0] == ("deploy", "deployed")
    assert ("rollback", "rolled-back") in outcomes
    assert ("track", "completed") in outcomes


def test_operator_pause_rollback_and_resume_from_the_command_line(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given build 2 deployed to prod/web
    moto.send(push(moto, 2))

    # When an operator pauses it, a push arrives, and the operator rolls back to revision 1
    paused = moto.autopilot("pause", "prod/web")
    held = moto.send(push(moto, 3))
    rolled = moto.autopilot("--json", "rollback", "prod/web", "--to", "1")
    resumed = moto.autopilot("resume", "prod/web")

    # Then each step took effect, in the readable form and the JSON form
    assert paused.code == 0, paused.stderr
    assert held.outcome("prod/web") == "paused"
    assert rolled.lines[0]["outcome"] == "rolled-back"
    assert rolled.lines[0]["to"] == "web:1"
    assert resumed.code == 0, resumed.stderr
    assert moto.send(push(moto, 4)).outcome("prod/web") == "deployed"


def test_an_unknown_service_is_a_clear_error(moto: Moto, services: dict[str, str]) -> None:
    result = moto.autopilot("rollback", "prod/nope")
    assert result.code == 1
    assert "no managed service prod/nope" in result.stderr


def test_scan_events_in_both_documented_shapes_gate_the_deploy(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/web gated at HIGH, and build 2 pushed before its scan finished
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=WEB, tags=[{"key": "autopilot:scan", "value": "HIGH"}]
        )
    held = moto.send(push(moto, 2))

    # When ECR's basic scan and Inspector's enhanced scan each report a HIGH finding (the
    # executor reads the findings from ECR, not from the event)
    scanned = fleet.digest_of("web", 2)
    with moto.app.aws_environment():
        fleet.record_scan("web", scanned, {"HIGH": 1})
    web_repository = "arn:aws:ecr:us-east-1:123456789012:repository/web"
    basic = moto.send(
        sample(
            moto,
            "ecr_image_scan.json",
            "basic",
            {"repository-name": "web", "image-digest": scanned},
            resources=[web_repository],
        )
    )
    enhanced = moto.send(
        sample(
            moto,
            "inspector2_scan.json",
            "enhanced",
            {"repository-name": web_repository, "image-digest": scanned},
            resources=[web_repository],
        )
    )

    # Then the deploy was held, then blocked by each, and staging/web (no gate) deployed on push
    assert held.outcome("prod/web") == "scan-pending"
    assert held.outcome("staging/web") == "deployed"
    assert basic.outcome("prod/web") == "scan-blocked"
    assert enhanced.outcome("prod/web") == "scan-blocked"
    assert "HIGH 1" in basic.of_type("action")[0]["reason"]

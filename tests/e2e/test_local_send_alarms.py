"""Which alarms count, and pushes they hold back, end to end: `autopilot local send` with events
in the shape AWS sends them, against a moto server. moto changes alarm states but emits no alarm
events, so each test changes the state with boto3 and then sends the event CloudWatch would."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3

from autopilot.adapters.ledger import Ledger
from autopilot.records import replace
from autopilot_tools.local import fleet
from tests.e2e.harness import ROOT, Moto
from tests.e2e.test_local_send_rollback import WEB, push, sample

EVENTS = ROOT / "events"
STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
ALARMS = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:"


def alarm_event(moto: Moto, name: str, state: str, *, copy_as: str) -> Path:
    """CloudWatch sets the alarm to `state`; the event it sends (the documented OK sample or
    the target tracking sample, renamed)."""
    with moto.app.aws_environment():
        fleet.set_alarm_state(name, state)
    file = (
        "cloudwatch_alarm_target_tracking.json"
        if name.startswith("TargetTracking-")
        else "cloudwatch_alarm_ok.json"
    )
    path = sample(moto, file, copy_as, {"alarmName": name}, resources=[ALARMS + name])
    event = json.loads(path.read_text())
    event["detail"]["state"]["value"] = state
    event["detail"]["previousState"]["value"] = "OK" if state == "ALARM" else "ALARM"
    path.write_text(json.dumps(event))
    return path


def ledger(moto: Moto) -> Ledger:
    moto.app.ensure_resources()
    return Ledger(moto.app.physical("LedgerTable")["Ref"], 1)


def running(moto: Moto, service_arn: str) -> str:
    with moto.app.aws_environment():
        return fleet.running_images(service_arn)["web"]


def test_a_target_tracking_alarm_neither_rolls_back_nor_holds(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given staging/web scaling on CPU (Application Auto Scaling made its two alarms), and
    # build 2 baking on it
    with moto.app.aws_environment():
        high, low = fleet.scale_on_cpu("staging", "web")
    assert moto.send(push(moto, 2)).outcome("staging/web") == "deployed"

    # When AlarmHigh goes to ALARM
    result = moto.send(alarm_event(moto, high, "ALARM", copy_as="high"))

    # Then the event is ignored as a scaling signal, and build 2 stays
    [ignored] = result.of_type("ignored")
    assert "Application Auto Scaling alarm" in ignored["reason"]
    assert running(moto, STAGING_WEB).endswith(fleet.digest_of("web", 2))

    # When AlarmLow is in ALARM too (a quiet service) and build 3 is pushed
    moto.send(alarm_event(moto, low, "ALARM", copy_as="low"))
    pushed = moto.send(push(moto, 3))

    # Then it is deployed: no scaling alarm holds a push
    assert pushed.outcome("staging/web") == "deployed"
    assert running(moto, STAGING_WEB).endswith(fleet.digest_of("web", 3))


def test_a_held_push_goes_out_when_its_alarm_is_back_to_ok(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/web's CPU alarm in ALARM
    with moto.app.aws_environment():
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")

    # When build 2, then build 3 are pushed
    first = moto.send(push(moto, 2))
    second = moto.send(push(moto, 3))

    # Then prod/web holds both back, on-call hears it once, and staging/web deploys
    assert first.outcome("prod/web") == second.outcome("prod/web") == "alarm-firing"
    assert first.outcome("staging/web") == "deployed"
    [told] = [n for n in first.of_type("notification") if "prod/web" in n["subject"]]
    assert "goes out on its own when the alarm is back to OK" in told["text"]
    assert not [n for n in second.of_type("notification") if "prod/web" in n["subject"]]

    # When the alarm is back to OK (the documented OK event for prod-web-cpu-high)
    with moto.app.aws_environment():
        fleet.set_alarm_state("prod-web-cpu-high", "OK")
    ok = moto.send(EVENTS / "cloudwatch_alarm_ok.json")

    # Then the newer held push, build 3, goes out to prod/web, triggered by the OK event
    [action] = [a for a in ok.of_type("action") if a["service"] == "prod/web"]
    assert (action["outcome"], action["trigger"]) == ("deployed", "alarm-ok")
    assert action["digest"] == fleet.digest_of("web", 3)
    assert running(moto, WEB).endswith(fleet.digest_of("web", 3))
    assert [n["subject"] for n in ok.of_type("notification")] == [
        "[autopilot] deploying prod/web: web:main"
    ]


def test_a_hold_that_waited_too_long_expires_with_a_notice(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given build 2 held from prod/web by its CPU alarm two days ago
    with moto.app.aws_environment():
        fleet.put_alarm("prod-web-cpu-high", "prod", "web")
        fleet.set_alarm_state("prod-web-cpu-high", "ALARM")
    assert moto.send(push(moto, 2)).outcome("prod/web") == "alarm-firing"
    with moto.app.aws_environment():
        book = ledger(moto)
        state = book.state(WEB)
        assert state.held is not None
        two_days_ago = datetime.now(UTC) - timedelta(days=2)
        book.save_state(replace(state, held=replace(state.held, held_at=two_days_ago)))
    before = running(moto, WEB)

    # When the alarm is back to OK
    with moto.app.aws_environment():
        fleet.set_alarm_state("prod-web-cpu-high", "OK")
    ok = moto.send(EVENTS / "cloudwatch_alarm_ok.json")

    # Then nothing is deployed, and on-call is told the hold expired and why
    assert ok.outcome("prod/web") == "hold-expired"
    assert running(moto, WEB) == before
    [notice] = ok.of_type("notification")
    assert notice["subject"] == "[autopilot] held push to prod/web expired: web:main"
    assert "48 h" in notice["text"]
    assert "longer than the 24 h a held push may wait" in notice["text"]
    with moto.app.aws_environment():
        assert ledger(moto).state(WEB).held is None


def test_a_push_waiting_for_a_scan_that_never_comes_is_told_once(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given prod/web gated on the image scan, and repository web not scanned on push
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=WEB, tags=[{"key": "autopilot:scan", "value": "HIGH"}]
        )

    # When build 2, then build 3 are pushed
    first = moto.send(push(moto, 2))
    second = moto.send(push(moto, 3))

    # Then both wait for their scan; on-call is told once, with the command that releases it
    assert first.outcome("prod/web") == second.outcome("prod/web") == "scan-pending"
    [told] = [n for n in first.of_type("notification") if "prod/web" in n["subject"]]
    assert "ECR does not scan web on push" in told["text"]
    assert (
        "aws ecr start-image-scan --registry-id 123456789012 --repository-name web"
        in (told["text"])
    )
    assert not [n for n in second.of_type("notification") if "prod/web" in n["subject"]]

    # When the scan is started as told, and ECR reports it clean
    digest = fleet.digest_of("web", 3)
    with moto.app.aws_environment():
        boto3.client("ecr").start_image_scan(repositoryName="web", imageId={"imageDigest": digest})
        fleet.record_scan("web", digest, {})  # what ECR's scan found: nothing
    scanned = moto.send(
        sample(
            moto,
            "ecr_image_scan.json",
            "scan-3",
            {"repository-name": "web", "image-digest": digest, "finding-severity-counts": {}},
            resources=["arn:aws:ecr:us-east-1:123456789012:repository/web"],
        )
    )

    # Then the push goes out
    assert scanned.outcome("prod/web") == "deployed"

"""Deployment tracking, alarm-driven rollback, quarantine, freeze, scan gate and operator actions,
through the local runner's routing and the real handlers, against moto."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest

from autopilot import wiring
from autopilot.adapters.codedeploy import CodeDeployGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.state import DeploymentState, ServiceState
from autopilot_tools.cli import operator
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.session import send
from tests.integration.conftest import ROOT, create_blue_green_service

WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
API = "arn:aws:ecs:us-east-1:123456789012:service/prod/api"


class Scenario:
    """Events as AWS would send them, routed through template.yaml's rules by the runner."""

    def __init__(self, app: LocalApp) -> None:
        self.app = app
        self.notes: list[dict[str, Any]] = []  # notifications, as on-call received them

    def send(self, event: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """Lines per service (the last one wins); `(event)` for ignored/unrouted events."""
        by_service: dict[str, dict[str, Any]] = {}
        for line in send(self.app, [event]):
            if line["type"] in {"action", "skipped"}:
                by_service[line["service"]] = line
            elif line["type"] in {"ignored", "unrouted", "rejected"}:
                by_service["(event)"] = line
            elif line["type"] == "notification":
                self.notes.append(line)
        return by_service

    def push(self, repository: str, tag: str, build: int) -> dict[str, dict[str, Any]]:
        with self.app.aws_environment():
            digest = fleet.push_image(repository, tag, build)
        return self.send(sample_events.ecr_push(repository, tag, digest))

    def complete(self, service_arn: str) -> dict[str, dict[str, Any]]:
        return self.send(sample_events.ecs_deployment(service_arn, self.latest(service_arn)))

    def latest(self, service_arn: str) -> str:
        latest = self.state(service_arn).latest
        assert latest is not None
        return latest.deployment_id

    def alarm(self, name: str = "prod-web-cpu-high", state: str = "ALARM") -> dict[str, Any]:
        return self.send(sample_events.alarm(name, "prod", "web", state))

    def state(self, service_arn: str) -> ServiceState:
        with self.app.aws_environment():
            return self.ledger().state(service_arn)

    def ledger_history(self, service_arn: str) -> list[Any]:
        with self.app.aws_environment():
            return self.ledger().history(service_arn)

    def ledger(self) -> Ledger:
        return Ledger(self.app.physical("LedgerTable")["Ref"], 1)

    def running(self, service_arn: str, container: str) -> str:
        with self.app.aws_environment():
            return fleet.running_images(service_arn)[container]

    def revision(self, service_arn: str) -> str:
        with self.app.aws_environment():
            ecs = boto3.client("ecs")
            [service] = ecs.describe_services(cluster="prod", services=[service_arn])["services"]
        return str(service["taskDefinition"].rsplit("/", 1)[-1])

    def operator(self) -> operator.Backend:
        return operator.Backend(
            ledger=self.ledger(),
            queue=ActionQueue(self.app.physical("ActionsQueue")["Ref"]),
            ecs=EcsGateway(),
            tagging=TaggingGateway(),
            operator="arn:aws:iam::123456789012:user/oncall",
            run_queue=self.app.drain,
        )

    def tag(self, service_arn: str, key: str, value: str) -> None:
        with self.app.aws_environment():
            boto3.client("ecs").tag_resource(
                resourceArn=service_arn, tags=[{"key": key, "value": value}]
            )


@pytest.fixture
def story(app: LocalApp, services: dict[str, str]) -> Scenario:
    return Scenario(app)


def image(build: int) -> str:
    return f"{fleet.REGISTRY}/web@{fleet.digest_of('web', build)}"


def test_a_completed_deployment_becomes_the_last_known_good(story: Scenario) -> None:
    # Given a deploy of web build 2 that ECS is rolling out
    story.push("web", "main", 2)

    # When ECS reports that deployment completed
    lines = story.complete(WEB)

    # Then it is recorded, and its revision is the service's last known good
    assert lines["prod/web"]["outcome"] == "completed"
    state = story.state(WEB)
    assert state.known_good[0].task_definition.endswith("web:2")
    assert state.known_good[0].source == "deployment-completed"
    assert image(2) in state.known_good[0].images


def test_a_deployment_the_automation_did_not_start_is_not_recorded(story: Scenario) -> None:
    # Given a deploy in progress
    story.push("web", "main", 2)

    # When ECS reports some other deployment of the service completed
    lines = story.send(sample_events.ecs_deployment(WEB, "ecs-svc/someone-elses"))

    # Then nothing is taken as known good
    assert lines["prod/web"]["code"] == "not-ours"
    assert [k.source for k in story.state(WEB).known_good] == ["baseline"]


def test_a_failed_deployment_is_quarantined_and_never_reported_as_a_success(
    story: Scenario,
) -> None:
    # Given a deploy of build 2 in progress
    story.push("web", "main", 2)
    deployment = story.latest(WEB)

    # When its circuit breaker fails it, and ECS later completes its own rollback
    failed = story.send(sample_events.ecs_deployment(WEB, deployment, "SERVICE_DEPLOYMENT_FAILED"))
    later = story.send(sample_events.ecs_deployment(WEB, deployment))

    # Then the failure is recorded, the digest quarantined, and no success follows
    assert failed["prod/web"]["outcome"] == "failed"
    assert later["prod/web"]["code"] == "already-recorded"
    state = story.state(WEB)
    assert state.latest is not None
    assert state.latest.state is DeploymentState.FAILED
    assert all(not k.task_definition.endswith("web:2") for k in state.known_good)
    with story.app.aws_environment():
        assert fleet.digest_of("web", 2) in story.ledger().quarantined()


def test_an_alarm_during_a_rollout_rolls_back_to_the_last_known_good(story: Scenario) -> None:
    # Given build 2 deployed and completed, and build 3 rolling out
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)

    # When the service's CPU alarm fires
    lines = story.alarm()

    # Then the service is back on build 2's revision, and build 3 is quarantined
    assert lines["prod/web"]["outcome"] == "rolled-back"
    assert story.revision(WEB) == "web:2"
    assert story.running(WEB, "web") == image(2)
    with story.app.aws_environment():
        quarantined = story.ledger().quarantined()
    assert set(quarantined) == {fleet.digest_of("web", 3)}
    # And on-call is told, with how to release the digest
    [note] = [n for n in story.notes if "ROLLED BACK" in n["subject"]]
    assert f"autopilot release {fleet.digest_of('web', 3)}" in note["text"]


def test_an_alarm_in_the_bake_window_after_completion_rolls_back_past_that_revision(
    story: Scenario,
) -> None:
    # Given build 2 and then build 3 deployed and completed
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    story.complete(WEB)

    # When the alarm fires within the bake window
    story.alarm()

    # Then the service returns to build 2: never to "the revision it already runs"
    assert story.revision(WEB) == "web:2"


def test_an_alarm_outside_the_bake_window_only_notifies(
    story: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given build 2 and build 3 deployed and completed, 31 minutes ago
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    story.complete(WEB)
    later = datetime.now(UTC) + timedelta(minutes=31)
    monkeypatch.setattr(wiring, "utc_now", lambda: later)

    # When the alarm fires
    lines = story.alarm()

    # Then nothing changes; on-call is told why, and how to act
    assert lines["prod/web"]["outcome"] == "notified"
    assert lines["prod/web"]["code"] == "outside-bake-window"
    assert story.revision(WEB) == "web:3"
    [note] = [n for n in story.notes if "needs a look" in n["subject"]]
    assert "autopilot rollback prod/web" in note["text"]


def test_a_longer_bake_window_from_the_service_tag_is_respected(
    story: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a service baking for 120 minutes, and a deploy that completed 31 minutes ago
    story.tag(WEB, "autopilot:bake-minutes", "120")
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    story.complete(WEB)
    later = datetime.now(UTC) + timedelta(minutes=31)
    monkeypatch.setattr(wiring, "utc_now", lambda: later)

    # When the alarm fires
    story.alarm()

    # Then it is still inside the window: rolled back
    assert story.revision(WEB) == "web:2"


def test_repeated_and_several_alarms_cause_one_rollback(story: Scenario) -> None:
    # Given a rollback after an alarm
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    story.alarm()

    # When the alarm fires again, flaps, and a second alarm joins
    again = story.alarm()
    story.alarm(state="OK")
    flapped = story.alarm()
    other = story.alarm("prod-web-5xx")

    # Then none of them rolls back further
    assert {again["prod/web"]["code"], flapped["prod/web"]["code"], other["prod/web"]["code"]} == {
        "already-rolled-back"
    }
    assert story.revision(WEB) == "web:2"
    rollbacks = [e for e in story.ledger_history(WEB) if e.outcome.value == "rolled-back"]
    assert len(rollbacks) == 1


def test_an_alarm_going_back_to_ok_with_no_push_held_changes_nothing(story: Scenario) -> None:
    # Given prod/web with no push held back
    # When its CPU alarm goes back to OK
    lines = story.alarm(state="OK")

    # Then the held push is looked for, none is found, and nobody is told
    assert (lines["prod/web"]["kind"], lines["prod/web"]["code"]) == ("resume-held", "nothing-held")
    assert story.notes == []


def test_an_alarm_going_to_insufficient_data_is_ignored_with_the_reason(story: Scenario) -> None:
    lines = story.alarm(state="INSUFFICIENT_DATA")
    assert lines["(event)"]["reason"] == (
        "alarm prod-web-cpu-high went to INSUFFICIENT_DATA, neither ALARM nor OK"
    )


def test_a_quarantined_digest_is_refused_until_an_operator_releases_it(story: Scenario) -> None:
    # Given build 3 rolled back and quarantined
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    story.alarm()

    # When the same digest is pushed again
    refused = story.push("web", "main", 3)

    # Then it is refused, and on-call hears why
    assert refused["prod/web"]["code"] == "quarantined"
    assert any("not deploying" in n["subject"] for n in story.notes)

    # When an operator releases it and it is pushed again
    with story.app.aws_environment():
        released = operator.release(story.operator(), fleet.digest_of("web", 3))
    again = story.send(sample_events.ecr_push("web", "main", fleet.digest_of("web", 3)))

    # Then the release is recorded and the push deploys
    assert released["outcome"] == "applied"
    assert again["prod/web"]["outcome"] == "deployed"


def test_a_service_is_frozen_after_repeated_rollbacks_until_resumed(
    story: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a service frozen after two rollbacks within the hour (FreezeAfterRollbacks=2)
    monkeypatch.setenv("AUTOPILOT_PARAMETER_FreezeAfterRollbacks", "2")
    story.push("web", "main", 2)
    story.complete(WEB)
    for build in (3, 4):
        story.push("web", "main", build)
        story.alarm(f"alarm-{build}")
    assert story.state(WEB).frozen

    # When a new build is pushed
    held = story.push("web", "main", 5)

    # Then it is not deployed while frozen
    assert held["prod/web"]["code"] == "frozen"

    # When an operator resumes the service, the next push deploys
    with story.app.aws_environment():
        operator.operate(story.operator(), "resume", "prod/web")
    assert story.push("web", "main", 6)["prod/web"]["outcome"] == "deployed"


def test_no_rollback_to_a_known_good_image_that_is_gone_from_ecr(story: Scenario) -> None:
    # Given build 2 known good, then deleted from ECR, and build 3 rolling out
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    with story.app.aws_environment():
        boto3.client("ecr").batch_delete_image(
            repositoryName="web", imageIds=[{"imageDigest": fleet.digest_of("web", 2)}]
        )

    # When the alarm fires
    lines = story.alarm()

    # Then nothing is changed, and on-call is told why
    assert lines["prod/web"]["code"] == "image-gone"
    assert story.revision(WEB) == "web:3"


def test_a_deploy_is_held_while_an_alarm_on_the_service_is_firing(story: Scenario) -> None:
    # Given an alarm on prod/web already in ALARM
    with story.app.aws_environment():
        cloudwatch = boto3.client("cloudwatch")
        cloudwatch.put_metric_alarm(
            AlarmName="prod-web-5xx",
            Namespace="AWS/ApplicationELB",
            MetricName="5xx",
            Dimensions=[
                {"Name": "ClusterName", "Value": "prod"},
                {"Name": "ServiceName", "Value": "web"},
            ],
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
        )
        cloudwatch.set_alarm_state(AlarmName="prod-web-5xx", StateValue="ALARM", StateReason="test")

    # When web:main is pushed
    lines = story.push("web", "main", 2)

    # Then prod/web is held with the alarm's name; staging/web is not affected
    assert lines["prod/web"]["code"] == "alarm-firing"
    assert "prod-web-5xx" in lines["prod/web"]["reason"]
    assert lines["staging/web"]["outcome"] == "deployed"


def test_a_composite_alarm_is_tied_to_services_by_its_tag(story: Scenario) -> None:
    # Given a composite alarm tagged autopilot:service=prod/web, and build 3 rolling out
    # (moto has no composite alarms: a metric alarm of the same name carries the tag)
    with story.app.aws_environment():
        boto3.client("cloudwatch").put_metric_alarm(
            AlarmName="prod-web-degraded",
            Namespace="Custom",
            MetricName="Unused",
            Statistic="Sum",
            Period=60,
            EvaluationPeriods=1,
            Threshold=1,
            ComparisonOperator="GreaterThanThreshold",
            Tags=[{"Key": "autopilot:service", "Value": "prod/web"}],
        )
    story.push("web", "main", 2)
    story.complete(WEB)
    story.push("web", "main", 3)
    event = json.loads((ROOT / "events" / "cloudwatch_alarm_composite.json").read_text())

    # When the composite alarm fires
    lines = story.send(event)

    # Then the tagged service is rolled back
    assert lines["prod/web"]["outcome"] == "rolled-back"


def test_the_scan_gate_holds_a_push_until_a_clean_scan(story: Scenario) -> None:
    # Given prod/api gated at HIGH, and api 1.4.2 pushed before its scan finished
    story.tag(API, "autopilot:scan", "HIGH")
    held = story.push("api", "1.4.2", 142)
    digest = fleet.digest_of("api", 142)

    # When the scan reports a HIGH finding (ECR's findings are what the executor reads)
    with story.app.aws_environment():
        fleet.record_scan("api", digest, {"HIGH": 1})
    scan = json.loads((ROOT / "events" / "ecr_image_scan.json").read_text())
    scan["detail"].update(
        {"repository-name": "api", "image-digest": digest, "image-tags": ["1.4.2"]}
    )
    blocked = story.send(scan)

    # Then the push was held, then blocked with the counts
    assert held["prod/api"]["code"] == "scan-pending"
    assert blocked["prod/api"]["code"] == "scan-blocked"
    assert "HIGH 1" in blocked["prod/api"]["reason"]

    # When Inspector reports a rescan with only LOW findings
    with story.app.aws_environment():
        fleet.record_scan("api", digest, {"LOW": 2})
    rescan = json.loads((ROOT / "events" / "inspector2_scan.json").read_text())
    rescan["detail"].update(
        {
            "repository-name": "arn:aws:ecr:us-east-1:123456789012:repository/api",
            "image-digest": digest,
            "image-tags": ["1.4.2"],
            "finding-severity-counts": {"LOW": 2, "TOTAL": 2},
        }
    )
    cleared = story.send(rescan)

    # Then it deploys
    assert cleared["prod/api"]["outcome"] == "deployed"


def test_operators_pause_roll_back_to_a_revision_and_read_the_history(story: Scenario) -> None:
    # Given builds 2 and 3 deployed
    story.push("web", "main", 2)
    story.push("web", "main", 3)
    backend = story.operator()

    # When an operator pauses the service, a push arrives, and the operator rolls back to :1
    with story.app.aws_environment():
        paused = operator.operate(backend, "pause", "prod/web")
    held = story.push("web", "main", 4)
    with story.app.aws_environment():
        rolled = operator.rollback(backend, "prod/web", "1")
        history = operator.history(backend, "prod/web", 10)

    # Then the push was held, the service runs revision 1, and the ledger tells the story
    assert paused["outcome"] == "applied"
    assert held["prod/web"]["code"] == "paused"
    assert rolled["outcome"] == "rolled-back"
    assert story.revision(WEB) == "web:1"
    kinds = [(line["kind"], line["outcome"]) for line in history]
    assert kinds[:3] == [("rollback", "rolled-back"), ("deploy", "skipped"), ("pause", "applied")]


def test_pausing_twice_says_it_was_already_paused(story: Scenario) -> None:
    # Given a paused service
    backend = story.operator()
    with story.app.aws_environment():
        first = operator.operate(backend, "pause", "prod/web")

        # When the operator pauses it again, and resumes it twice
        second = operator.operate(backend, "pause", "prod/web")
        resumed = operator.operate(backend, "resume", "prod/web")
        again = operator.operate(backend, "resume", "prod/web")

    # Then the second pause says so and names the command that lifts it
    assert first["outcome"] == "applied"
    assert "until autopilot resume prod/web" in first["reason"]
    assert (second["outcome"], second["code"]) == ("skipped", "already-paused")
    assert second["reason"] == "already paused: autopilot resume prod/web lifts it"
    assert resumed["outcome"] == "applied"
    assert (again["code"], again["reason"]) == ("not-held", "was neither paused nor frozen")


def test_rolling_forward_quarantines_only_when_asked(story: Scenario) -> None:
    # Given builds 2 and 3 deployed, and the operator back on revision 1
    story.push("web", "main", 2)
    story.push("web", "main", 3)
    backend = story.operator()
    with story.app.aws_environment():
        operator.rollback(backend, "prod/web", "1")
        quarantined_before = set(story.ledger().quarantined())

        # When the operator rolls forward to revision 3 without --quarantine
        forward = operator.rollback(backend, "prod/web", "3")

    # Then it runs 3, and build 1's image was not quarantined
    assert forward["outcome"] == "rolled-back"
    assert story.revision(WEB) == "web:3"
    assert set(story.ledger().quarantined()) == quarantined_before
    assert fleet.digest_of("web", 1) not in quarantined_before


def test_codedeploy_success_marks_the_blue_green_deployment_good(story: Scenario) -> None:
    # Given a CODE_DEPLOY service whose deployment group deploys it, and a push it follows
    checkout = create_blue_green_service(story.app, image(1))
    story.push("web", "main", 2)
    event = json.loads((ROOT / "events" / "codedeploy_deployment_success.json").read_text())
    event["detail"].update(
        deploymentId=story.latest(checkout),
        application="AppECS-prod-checkout",
        deploymentGroup="DgpECS-prod-checkout",
    )

    # When CodeDeploy reports the deployment succeeded
    lines = story.send(event)

    # Then its revision becomes the last known good
    assert lines["prod/checkout"]["outcome"] == "completed"
    assert story.state(checkout).known_good[0].source == "deployment-completed"


def test_an_alarm_during_a_blue_green_deployment_stops_it_with_rollback(
    story: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a CODE_DEPLOY service whose first automated deployment is in progress
    # (moto has no StopDeployment: the gateway call is recorded instead)
    stopped: list[str] = []
    monkeypatch.setattr(
        CodeDeployGateway,
        "stop_deployment",
        lambda self, deployment_id: stopped.append(deployment_id),
    )
    checkout = create_blue_green_service(story.app, image(1))
    story.push("web", "main", 2)
    deployment = story.latest(checkout)

    # When the service's alarm fires
    lines = story.send(sample_events.alarm("checkout-5xx", "prod", "checkout"))

    # Then CodeDeploy is told to stop that deployment and shift traffic back
    assert lines["prod/checkout"]["outcome"] == "rolled-back"
    assert stopped == [deployment]
    with story.app.aws_environment():
        assert fleet.digest_of("web", 2) in story.ledger().quarantined()

"""Deploy on ECR push: the planner and the executor, with their adapters, against moto."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.domain.ledger import Outcome
from autopilot.domain.taskdef import READ_ONLY_FIELDS
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from tests.integration.conftest import create_blue_green_service

WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
LEGACY = "arn:aws:ecs:us-east-1:123456789012:service/prod/web-legacy"


def push(app: LocalApp, repository: str, tag: str, build: int) -> dict[str, Any]:
    with app.aws_environment():
        digest = fleet.push_image(repository, tag, build)
    return sample_events.ecr_push(repository, tag, digest)


def queued_messages(app: LocalApp) -> list[dict[str, Any]]:
    with app.aws_environment():
        response = boto3.client("sqs").receive_message(
            QueueUrl=app.physical("ActionsQueue")["Ref"],
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=0,
        )
    return list(response.get("Messages", []))


def service_task_definition(app: LocalApp, arn: str) -> dict[str, Any]:
    with app.aws_environment():
        ecs = boto3.client("ecs")
        service = ecs.describe_services(cluster=arn.split("/")[-2], services=[arn])["services"][0]
        response = ecs.describe_task_definition(
            taskDefinition=service["taskDefinition"], include=["TAGS"]
        )
    return {"taskDefinition": response["taskDefinition"], "tags": response.get("tags", [])}


def ledger_history(app: LocalApp, arn: str) -> list[Any]:
    with app.aws_environment():
        return Ledger(app.physical("LedgerTable")["Ref"], 1).history(arn)


def test_push_queues_one_deploy_per_following_service_in_its_own_message_group(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given a new build pushed as web:main
    event = push(app, "web", "main", 2)

    # When the planner handles the push event
    result = app.invoke("EcrPushFunction", event)

    # Then one deploy is queued for each service that follows web:main, grouped by service
    messages = queued_messages(app)
    groups = sorted(m["Attributes"]["MessageGroupId"] for m in messages)
    assert groups == sorted([WEB, STAGING_WEB])
    bodies = [json.loads(m["Body"]) for m in messages]
    assert {b["push"]["digest"] for b in bodies} == {fleet_digest("web", 2)}
    assert all(
        m["Attributes"]["MessageDeduplicationId"] == json.loads(m["Body"])["action_id"]
        for m in messages
    )
    # And the services that do not use the repository are not even considered: the fleet index,
    # built by this first push, lists only prod/web and staging/web under web
    assert {d["service"] for d in result["decisions"]} == {"prod/web", "staging/web"}
    # And the unmanaged service is never even considered
    assert "prod/web-legacy" not in {d["service"] for d in result["decisions"]}


def fleet_digest(repository: str, build: int) -> str:
    return fleet.digest_of(repository, build)


def test_clone_differs_from_the_running_revision_only_in_the_pushed_containers_image(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given prod/web runs web (from repository web) and log-router (another repository)
    before = service_task_definition(app, WEB)

    # When web:main is pushed and the executor runs
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()

    # Then the service runs a new revision whose web image is pinned by digest
    after = service_task_definition(app, WEB)
    images = {c["name"]: c["image"] for c in after["taskDefinition"]["containerDefinitions"]}
    assert images["web"] == f"{fleet.REGISTRY}/web@{fleet_digest('web', 2)}"
    # And the sidecar from another repository is untouched
    assert images["log-router"] == f"{fleet.REGISTRY}/log-router:2.1"
    # And every writable field, and the tags, are carried over unchanged
    expected = _writable(before["taskDefinition"])
    expected["containerDefinitions"][0]["image"] = images["web"]
    assert _writable(after["taskDefinition"]) == expected
    # (plus the tag naming the action that registered it, which a retry looks for)
    carried = [t for t in after["tags"] if t["key"] != "autopilot:action"]
    assert carried == before["tags"]
    assert [t["key"] for t in after["tags"]].count("autopilot:action") == 1
    assert after["taskDefinition"]["revision"] == before["taskDefinition"]["revision"] + 1


def _writable(definition: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in definition.items() if k not in READ_ONLY_FIELDS}


def test_every_deploy_is_recorded_in_the_ledger_and_notified(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given a push of web:main
    event = push(app, "web", "main", 2)

    # When it is planned and executed
    app.invoke("EcrPushFunction", event)
    app.drain()

    # Then the ledger holds the action: from, to, digest, tag, trigger, outcome
    [entry] = ledger_history(app, WEB)
    assert entry.outcome is Outcome.DEPLOYED
    assert entry.from_task_definition.endswith("task-definition/web:1")
    assert entry.to_task_definition.endswith("task-definition/web:2")
    assert (entry.digest, entry.tag, entry.repository) == (fleet_digest("web", 2), "main", "web")
    assert (entry.trigger, entry.trigger_id) == ("ecr-push", event["id"])
    assert entry.containers == ("web",)
    # And the on-call channel hears about each deploy
    subjects = sorted(n["subject"] for n in app.notifications())
    assert subjects == [
        "[autopilot] deploying prod/web: web:main",
        "[autopilot] deploying staging/web: web:main",
    ]


def test_a_replayed_event_changes_nothing(app: LocalApp, services: dict[str, str]) -> None:
    # Given a push that has been deployed
    event = push(app, "web", "main", 2)
    app.invoke("EcrPushFunction", event)
    app.drain()

    # When EventBridge delivers the same event again
    result = app.invoke("EcrPushFunction", event)
    app.drain()

    # Then nothing is queued, no revision is registered, and the ledger has one entry
    codes = {d["service"]: d["code"] for d in result["decisions"]}
    assert codes["prod/web"] == "already-running"
    with app.aws_environment():
        revisions = boto3.client("ecs").list_task_definitions(familyPrefix="web")
    assert len(revisions["taskDefinitionArns"]) == 2
    assert len(ledger_history(app, WEB)) == 1


def test_a_replayed_action_message_is_not_executed_twice(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given a deploy message that the executor has already carried out
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    [message] = [m for m in queued_messages(app) if m["Attributes"]["MessageGroupId"] == WEB]
    app.drain()

    # When the same message arrives again (after SQS's deduplication window)
    record = {
        "messageId": "again",
        "receiptHandle": "r",
        "body": message["Body"],
        "attributes": message["Attributes"],
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": app.physical("ActionsQueue")["Arn"],
        "awsRegion": "us-east-1",
    }
    result = app.invoke("ExecutorFunction", {"Records": [record]})

    # Then it succeeds without a second entry or a second revision
    assert result == {"batchItemFailures": []}
    assert [e.outcome for e in ledger_history(app, WEB)] == [Outcome.DEPLOYED]


def test_dry_run_records_the_plan_and_changes_nothing(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given the application deployed with DryRun=true
    monkeypatch.setenv("AUTOPILOT_PARAMETER_DryRun", "true")

    # When web:main is pushed
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()

    # Then the plan is recorded, and the service still runs its first revision
    [entry] = ledger_history(app, WEB)
    assert entry.outcome is Outcome.DRY_RUN
    assert entry.containers == ("web",)
    assert service_task_definition(app, WEB)["taskDefinition"]["revision"] == 1


def test_a_failing_action_is_retried_and_its_retry_completes_the_deploy(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ECS throttles the first UpdateService call
    calls: list[str] = []
    real_update = EcsGateway.update_service

    def flaky_update(self: EcsGateway, service: Any, task_definition_arn: str) -> str:
        calls.append(task_definition_arn)
        if len(calls) == 1:
            raise ClientError({"Error": {"Code": "ThrottlingException"}}, "UpdateService")
        return real_update(self, service, task_definition_arn)

    monkeypatch.setattr(EcsGateway, "update_service", flaky_update)

    # When web:main is pushed and the queue is drained (failed messages come back)
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    processed = app.drain()

    # Then the failed attempt was reported to SQS, retried, and the deploy completed
    web_attempts = [p.succeeded for p in processed if json.loads(p.body)["service_arn"] == WEB]
    assert False in web_attempts
    assert web_attempts[-1] is True
    [entry] = ledger_history(app, WEB)
    assert entry.outcome is Outcome.DEPLOYED


def test_an_action_that_keeps_failing_ends_in_the_dead_letter_queue(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ECS refuses every UpdateService call
    def broken_update(self: EcsGateway, service: Any, task_definition_arn: str) -> str:
        raise ClientError({"Error": {"Code": "ServerException"}}, "UpdateService")

    monkeypatch.setattr(EcsGateway, "update_service", broken_update)

    # When web:main is pushed and every retry is spent
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()

    # Then both deploys wait in the actions dead-letter queue: nothing was silently dropped
    assert app.queue_depth("ActionsDeadLetterQueue") == 2
    assert app.queue_depth("ActionsQueue") == 0
    # And the ledger records that it gave up after three attempts, and on-call is told how to
    # resume it (a redrive picks up where it stopped)
    [entry] = ledger_history(app, WEB)
    assert (entry.outcome, entry.code) == (Outcome.FAILED, "gave-up")
    assert "failed 3 attempts" in entry.reason
    assert any("FAILED" in n["subject"] and "prod/web" in n["subject"] for n in app.notifications())


def test_a_revision_the_sdk_cannot_register_fails_loudly_and_changes_nothing(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given an SDK that does not know a field the running revision has
    monkeypatch.setattr(
        EcsGateway,
        "writable_task_definition_fields",
        lambda self: frozenset({"family", "containerDefinitions"}),
    )

    # When web:main is pushed
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()

    # Then the deploy fails with the reason, on-call is told, and the service is unchanged
    [entry] = ledger_history(app, WEB)
    assert entry.outcome is Outcome.FAILED
    assert "ephemeralStorage" in entry.reason
    assert any("FAILED" in n["subject"] for n in app.notifications())
    assert service_task_definition(app, WEB)["taskDefinition"]["revision"] == 1


@pytest.mark.parametrize(
    ("file_change", "reason"),
    [
        ({"action-type": "DELETE"}, "ECR action DELETE is not a push"),
        ({"result": "FAILURE"}, "push result is FAILURE"),
        ({"image-tag": ""}, "push has no tag: nothing can follow it"),
    ],
)
def test_events_that_are_not_successful_tagged_pushes_are_ignored_with_a_reason(
    app: LocalApp, services: dict[str, str], file_change: dict[str, str], reason: str
) -> None:
    # Given an ECR event that is not a successful, tagged push
    event = push(app, "web", "main", 2)
    event["detail"].update(file_change)

    # When the planner handles it
    result = app.invoke("EcrPushFunction", event)

    # Then it is ignored, with the reason, and nothing is queued
    assert result == {"status": "ignored", "reason": reason}
    assert queued_messages(app) == []


def test_a_malformed_event_is_kept_in_the_dead_letter_queue_counted_and_not_retried(
    app: LocalApp,
    services: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given metrics are on, and an ECR event whose digest is not a digest
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "false")
    event = fleet_event_with_bad_digest()

    # When the planner handles it
    result = app.invoke("EcrPushFunction", event)

    # Then it is rejected (not raised, so not retried forever) with the reason
    assert result["status"] == "rejected"
    assert "image-digest" in result["reason"]
    # And it is kept, whole, in the events dead-letter queue with the reason attached
    with app.aws_environment():
        [kept] = boto3.client("sqs").receive_message(
            QueueUrl=app.physical("EventsDeadLetterQueue")["Ref"], MessageAttributeNames=["All"]
        )["Messages"]
    assert json.loads(kept["Body"]) == event
    assert "image-digest" in kept["MessageAttributes"]["reason"]["StringValue"]
    # And it is counted
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if "_aws" in line]
    assert any(m.get("MalformedEvent") == [1.0] or m.get("MalformedEvent") == 1.0 for m in metrics)


def fleet_event_with_bad_digest() -> dict[str, Any]:
    return sample_events.ecr_push("web", "main", "sha256:not-a-digest")


def test_code_deploy_services_get_a_codedeploy_deployment_not_an_update_service(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given a blue/green service (CODE_DEPLOY controller) that follows web:main
    service_arn = create_blue_green_service(app, f"{fleet.REGISTRY}/web:main")

    # When web:main is pushed
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()

    # Then CodeDeploy got a deployment with an AppSpec for the new revision
    [entry] = ledger_history(app, service_arn)
    assert entry.outcome is Outcome.DEPLOYED
    with app.aws_environment():
        deployment = boto3.client("codedeploy").get_deployment(deploymentId=entry.deployment_id)
    assert deployment["deploymentInfo"]["deploymentGroupName"] == "DgpECS-prod-checkout"
    content = json.loads(deployment["deploymentInfo"]["revision"]["appSpecContent"]["content"])
    target = content["Resources"][0]["TargetService"]["Properties"]
    assert target["TaskDefinition"] == entry.to_task_definition
    assert target["LoadBalancerInfo"] == {"ContainerName": "web", "ContainerPort": 8080}
    # And the service itself was not pointed at the new revision behind CodeDeploy's back
    assert service_task_definition(app, service_arn)["taskDefinition"]["revision"] == 1

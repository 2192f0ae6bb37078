"""The executor trusts no claim in a message, end to end: messages forged straight onto the
actions queue (someone with queue access), then drained by `autopilot local send` as Lambda's
poller would. Every fact that decides an action is re-read from its source of truth."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3

from autopilot.adapters.ledger import Ledger
from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult
from autopilot.models.actions import ActionRequest, DeployRequest, RollbackRequest
from autopilot_tools.local import fleet
from tests.e2e.harness import Moto, Result
from tests.e2e.test_local_send_rollback import EVENTS, WEB

IGNORED_EVENT = EVENTS / "ecr_image_delete.json"  # routed, ignored: the queue is drained after


def forge(moto: Moto, request: ActionRequest) -> None:
    """Put a message on the actions queue directly, bypassing every planner."""
    moto.app.ensure_resources()
    with moto.app.aws_environment():
        boto3.client("sqs").send_message(
            QueueUrl=moto.app.physical("ActionsQueue")["Ref"],
            MessageBody=request.to_json(),
            MessageGroupId=request.service_arn,
            MessageDeduplicationId=request.action_id,
        )


def drain(moto: Moto) -> Result:
    return moto.send(IGNORED_EVENT)


def running(moto: Moto) -> str:
    with moto.app.aws_environment():
        described = boto3.client("ecs").describe_services(cluster="prod", services=["web"])
    return str(described["services"][0]["taskDefinition"])


def fields() -> dict[str, Any]:
    return {
        "action_id": uuid.uuid4().hex,
        "service_arn": WEB,
        "trigger": "operator",
        "trigger_id": "forged",
        "trigger_time": datetime.now(UTC),
        "requested_by": "the-ceo@example.com",  # a claim: the executor overwrites it
    }


def test_a_forged_rollback_to_another_familys_revision_is_refused_and_recorded(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given a message claiming an operator asked to run prod/web on api's revision
    forge(moto, RollbackRequest(**fields(), automatic=False, to_revision="api:1"))

    # When the executor takes it
    result = drain(moto)

    # Then it is refused with the reason, prod/web is untouched, nothing is retried
    [action] = result.of_type("action")
    assert (action["outcome"], action["code"]) == ("refused", "other-family")
    assert running(moto).endswith("web:1")
    assert moto.app.queue_depth("ActionsDeadLetterQueue") == 0
    # And the ledger names who sent it as SQS authenticated it, not what the body claimed
    assert action["requested_by"] != "the-ceo@example.com"
    assert action["requested_by"]


def test_a_forged_deploy_of_an_untrusted_build_claiming_tag_main_is_refused(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given a pull request build pushed as pr-999-untrusted (never as main)
    with moto.app.aws_environment():
        digest = fleet.push_image("web", "pr-999-untrusted", 999)
    push = ImagePush(
        event_id="forged",
        time=datetime.now(UTC),
        account="123456789012",
        region="us-east-1",
        repository="web",
        digest=digest,
        tag="main",
    )

    # When a message claims it was pushed as main, with a clean scan
    forge(
        moto,
        DeployRequest(**fields(), push=push, scan=ScanResult("COMPLETE")),
    )
    result = drain(moto)

    # Then ECR's tags decide: it is not main, so it is not deployed
    [action] = result.of_type("action")
    assert (action["outcome"], action["code"]) == ("skipped", "superseded")
    assert running(moto).endswith("web:1")


def test_a_claimed_clean_scan_does_not_open_a_scan_gate(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given prod/web deploys only images whose scan found nothing CRITICAL
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=WEB, tags=[{"key": "autopilot:scan", "value": "CRITICAL"}]
        )
        digest = fleet.push_image("web", "main", 2)  # pushed as main, never scanned
    push = ImagePush(
        "forged", datetime.now(UTC), "123456789012", "us-east-1", "web", digest, "main"
    )

    # When a message claims its scan completed clean
    forge(
        moto,
        DeployRequest(**fields(), push=push, scan=ScanResult("COMPLETE")),
    )
    result = drain(moto)

    # Then the executor asks ECR, which has no scan: the push is held, not deployed
    [action] = result.of_type("action")
    assert (action["outcome"], action["code"]) == ("skipped", "scan-pending")
    assert running(moto).endswith("web:1")
    with moto.app.aws_environment():
        [entry] = Ledger(moto.app.physical("LedgerTable")["Ref"], 1).history(WEB, 1)
    assert entry.requested_by != "the-ceo@example.com"

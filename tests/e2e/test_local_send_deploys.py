"""`autopilot local send` with ECR events, end to end, against a moto server."""

from __future__ import annotations

import json
from pathlib import Path

from autopilot_tools.local import fleet
from tests.e2e.harness import ROOT, Moto

EVENTS = ROOT / "events"


def push(moto: Moto, repository: str, tag: str, build: int) -> str:
    with moto.app.aws_environment():
        return fleet.push_image(repository, tag, build)


def running_image(moto: Moto, arn: str, container: str) -> str:
    with moto.app.aws_environment():
        return fleet.running_images(arn)[container]


def test_a_push_event_deploys_every_following_service_pinned_by_digest(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given web build 2 pushed to ECR as web:main
    digest = push(moto, "web", "main", 2)

    # When ECR's event for that push is sent through the local runner
    result = moto.send(EVENTS / "ecr_image_push.json")

    # Then both services that follow web:main are deployed, one JSON line each
    assert result.code == 0, result.stderr
    deployed = {line["service"]: line for line in result.of_type("action")}
    assert {s: line["outcome"] for s, line in deployed.items()} == {
        "prod/web": "deployed",
        "staging/web": "deployed",
    }
    assert deployed["prod/web"]["from"] == "web:1"
    assert deployed["prod/web"]["to"] == "web:2"
    # And the running revision pins the digest, leaving the sidecar alone
    web = services["prod/web"]
    assert running_image(moto, web, "web") == f"{fleet.REGISTRY}/web@{digest}"
    assert running_image(moto, web, "log-router") == f"{fleet.REGISTRY}/log-router:2.1"
    # And the unmanaged service still runs what it ran
    assert running_image(moto, services["prod/web-legacy"], "web") == f"{fleet.REGISTRY}/web:main"
    # And on-call was notified of each deploy
    assert len(result.of_type("notification")) == 2


def test_sending_the_same_event_twice_deploys_once(moto: Moto, services: dict[str, str]) -> None:
    # Given a push event that has been sent once
    push(moto, "web", "main", 2)
    first = moto.send(EVENTS / "ecr_image_push.json")

    # When it is sent again
    second = moto.send(EVENTS / "ecr_image_push.json")

    # Then the second run deploys nothing and says why
    assert first.outcome("prod/web") == "deployed"
    assert second.of_type("action") == []
    assert second.outcome("prod/web") == "already-running"
    assert second.outcome("staging/web") == "already-running"


def test_a_semver_push_inside_the_range_deploys(moto: Moto, services: dict[str, str]) -> None:
    # Given api 1.4.2 pushed; prod/api follows semver 1.4 - 1 and runs 1.4.0
    push(moto, "api", "1.4.2", 142)

    # When ECR's event for it is sent
    result = moto.send(EVENTS / "ecr_image_push_semver.json")

    # Then prod/api is deployed, and no web service is touched
    assert result.outcome("prod/api") == "deployed"
    assert [line["service"] for line in result.of_type("action")] == ["prod/api"]


def test_events_that_are_not_successful_tagged_pushes_deploy_nothing(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given the documented DELETE, failed-push and untagged-push events
    files = ["ecr_image_delete.json", "ecr_image_push_failed.json", "ecr_image_push_untagged.json"]

    # When they are sent in one command
    result = moto.send(*(EVENTS / f for f in files))

    # Then each is ignored with its reason and nothing is deployed
    reasons = [line["reason"] for line in result.of_type("ignored")]
    assert reasons == [
        "ECR action DELETE is not a push",
        "push result is FAILURE",
        "push has no tag: nothing can follow it",
    ]
    assert result.of_type("action") == []


def test_a_malformed_event_is_rejected_and_kept_in_the_dead_letter_queue(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given an ECR event whose digest is not a digest
    event = json.loads((EVENTS / "ecr_image_push.json").read_text())
    event["detail"]["image-digest"] = "sha256:nope"
    malformed = tmp_path / "malformed.json"
    malformed.write_text(json.dumps(event))

    # When it is sent
    result = moto.send(malformed)

    # Then it is rejected with the reason, and kept for a person to look at
    [rejected] = result.of_type("rejected")
    assert "image-digest" in rejected["reason"]
    moto.app.ensure_resources()
    assert moto.app.queue_depth("EventsDeadLetterQueue") == 1


def test_an_event_no_rule_matches_is_reported_as_unrouted(moto: Moto, tmp_path: Path) -> None:
    # Given an event from a source the template has no rule for
    event = json.loads((EVENTS / "ecr_image_push.json").read_text())
    event.update({"source": "aws.s3", "detail-type": "Object Created"})
    other = tmp_path / "s3.json"
    other.write_text(json.dumps(event))

    # When it is sent
    result = moto.send(other)

    # Then the runner says no rule matched, and nothing ran
    assert [line["type"] for line in result.lines] == ["unrouted"]


def test_send_refuses_an_endpoint_that_is_not_loopback(moto: Moto) -> None:
    # When the endpoint points anywhere but this machine
    result = moto.send(
        EVENTS / "ecr_image_push.json", env={"AWS_ENDPOINT_URL": "https://ecs.example.com"}
    )

    # Then nothing is sent and the reason is given
    assert result.code == 2
    assert "not loopback" in result.stderr

"""The fleet index, end to end: services changed by hand behind the automation's back are
followed from CloudTrail's events, and from the reindex document when such an event is lost,
through `autopilot local send` against a moto server."""

from __future__ import annotations

import uuid
from pathlib import Path

import boto3

from autopilot_tools.local import fleet
from tests.e2e.harness import ROOT, Moto, Result
from tests.e2e.test_local_send_rollback import sample

EVENTS = ROOT / "events"
API = f"{fleet.REGISTRY}/api"


def push(moto: Moto, repository: str, tag: str, build: int) -> Path:
    """Push a build; the documented push event carrying its repository, tag and digest."""
    with moto.app.aws_environment():
        digest = fleet.push_image(repository, tag, build)
    name = f"push-{repository}-{build}-{uuid.uuid4().hex[:8]}"
    detail = {"repository-name": repository, "image-tag": tag, "image-digest": digest}
    return sample(moto, "ecr_image_push.json", name, detail)


def outcomes(result: Result) -> dict[str, str]:
    assert result.code == 0, result.stderr
    return {line["service"]: line["outcome"] for line in result.of_type("action")}


def index_result(result: Result) -> dict[str, object]:
    assert result.code == 0, result.stderr
    [line] = [r for r in result.of_type("result") if r["function"] == "FleetIndexFunction"]
    return line


def indexed(result: Result) -> list[object]:
    """What the fleet index took in from every event delivered: the one sent, and ECS's own
    deployment events (a redeploy by hand starts a deployment, and ECS says so)."""
    assert result.code == 0, result.stderr
    lines = [r for r in result.of_type("result") if r["function"] == "FleetIndexFunction"]
    return [arn for line in lines for arn in line["indexed"]]


def test_a_service_opted_in_by_hand_is_followed_from_cloudtrails_tag_event(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given the seeded fleet, indexed on demand (as the reindex schedule would)
    reindexed = index_result(moto.send(EVENTS / "fleet_reindex.json"))
    assert reindexed["changed"] == reindexed["reindexed"] != 0  # built: every entry written
    # And prod/web-legacy, which follows web:main but never opted in, left alone by a push
    assert "prod/web-legacy" not in outcomes(moto.send(push(moto, "web", "main", 2)))

    # When someone opts it in by hand, and CloudTrail's TagResource event is delivered
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=services["prod/web-legacy"],
            tags=[{"key": "autopilot:track", "value": "tag:main"}],
        )
    tagged = index_result(moto.send(EVENTS / "ecs_api_call_tag_resource.json"))

    # Then the index follows it, and the next push deploys it too
    assert tagged["indexed"] == [services["prod/web-legacy"]]
    assert outcomes(moto.send(push(moto, "web", "main", 3))) == {
        "prod/web": "deployed",
        "staging/web": "deployed",
        "prod/web-legacy": "deployed",
    }


def _redeploy_by_hand_from_api(moto: Moto, service: str) -> str:
    """prod/web pointed, by hand, at a revision whose container comes from `api`."""
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        revision = ecs.register_task_definition(
            family="web",
            containerDefinitions=[{"name": "web", "image": f"{API}:main", "memory": 512}],
        )["taskDefinition"]["taskDefinitionArn"]
        ecs.update_service(cluster="prod", service=service, taskDefinition=revision)
    return str(revision)


def test_a_service_redeployed_by_hand_is_followed_from_cloudtrails_update_event(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given the fleet indexed by its first push
    assert outcomes(moto.send(push(moto, "web", "main", 2)))["prod/web"] == "deployed"

    # When prod/web is redeployed by hand to a revision pulling api:main, and CloudTrail's
    # UpdateService event is delivered
    _redeploy_by_hand_from_api(moto, services["prod/web"])
    updated = indexed(moto.send(EVENTS / "ecs_api_call_update_service.json"))

    # Then the index follows it, and a push of api:main deploys prod/web, pinned by digest
    assert updated == [services["prod/web"]]
    assert outcomes(moto.send(push(moto, "api", "main", 150))) == {"prod/web": "deployed"}
    with moto.app.aws_environment():
        image = fleet.running_images(services["prod/web"])["web"]
    assert image.startswith(f"{API}@sha256:")


def test_when_the_tag_event_is_lost_the_reindex_document_catches_up(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given the fleet indexed by its first push, then prod/web-legacy opted in by hand with its
    # CloudTrail event lost (a tag starts no deployment: ECS says nothing either)
    assert outcomes(moto.send(push(moto, "web", "main", 2)))["prod/web"] == "deployed"
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=services["prod/web-legacy"],
            tags=[{"key": "autopilot:track", "value": "tag:main"}],
        )

    # When web:main is pushed: prod/web-legacy is missed (the index is stale, within its bound)
    assert "prod/web-legacy" not in outcomes(moto.send(push(moto, "web", "main", 3)))

    # When the reindex schedule's document is sent
    reindexed = index_result(moto.send(EVENTS / "fleet_reindex.json"))

    # Then the index follows the change, and the next web:main push deploys prod/web-legacy
    assert reindexed["changed"] == 1
    assert outcomes(moto.send(push(moto, "web", "main", 4)))["prod/web-legacy"] == "deployed"

"""The deploy workflow's branches, against in-memory fakes (no moto): fast and exhaustive."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import pytest

from autopilot.domain.fleet import ImagePush, task_definition_label
from autopilot.domain.ledger import Outcome, action_id
from autopilot.domain.scan import ScanResult
from autopilot.models.actions import DeployRequest
from autopilot.workflows.deploy_action import deploy
from tests.fakes.world import T0, World, digest, ecr_image

FOLLOWING = {"autopilot:track": "tag:main"}
SIDECAR = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"


def _following_web(
    world: World,
    image: str | None = None,
    *,
    tags: Mapping[str, str] | None = None,
    controller: str = "ECS",
    load_balancers: Sequence[Mapping[str, Any]] = (),
) -> str:
    """prod/web follows web:main and runs `image` (default: web build 1, pinned) beside a
    sidecar."""
    world.push("web", "1", "main", at=T0 - timedelta(days=2))
    containers = {"web": image or ecr_image("web", digest("web#1")), "log-router": SIDECAR}
    return world.add_service(
        "prod",
        "web",
        containers,
        desired=3,
        tags={**FOLLOWING, **(tags or {})},
        controller=controller,
        load_balancers=load_balancers,
    )


def _request(arn: str, push: ImagePush, scan: ScanResult | None = None) -> DeployRequest:
    return DeployRequest(
        action_id=action_id(push.event_id, arn, "deploy"),
        service_arn=arn,
        trigger="ecr-push",
        trigger_id=push.event_id,
        trigger_time=push.time,
        push=push,
        scan=scan,
    )


def test_a_push_becomes_a_pinned_revision_and_a_deployment_the_state_remembers() -> None:
    """Given prod/web on web build 1 (pinned) with a sidecar, when build 2 is pushed as main,
    then web:2 pins build 2 in the web container only, keeps the revision's tags (and is
    tagged with the action, for a retry to find), starts a deployment, and the state names
    it, with build 1 as the baseline to return to."""
    world = World()
    arn = _following_web(world)
    push = world.push("web", "2", "main")

    entry = deploy(world.context(), _request(arn, push))

    service = world.ecs.describe_service(arn)
    assert entry.outcome is Outcome.DEPLOYED
    assert task_definition_label(entry.to_task_definition) == "web:2"
    assert {c.name: c.image for c in service.containers} == {
        "web": ecr_image("web", push.digest),
        "log-router": SIDECAR,
    }
    assert world.ecs.revision_tags(entry.to_task_definition) == {
        "team": "web",
        "autopilot:action": entry.action_id,
    }
    assert service.primary is not None
    assert service.primary.id == entry.deployment_id
    state = world.ledger.state(arn)
    assert state.latest is not None
    assert (state.latest.task_definition, state.latest.deployment_id) == (
        entry.to_task_definition,
        entry.deployment_id,
    )
    assert [task_definition_label(k.task_definition) for k in state.known_good] == ["web:1"]
    assert [n.severity for n in world.notifier.sent] == ["info"]


def test_an_image_running_by_tag_is_no_baseline_to_return_to() -> None:
    """Given prod/web running web:main by tag (it may have moved since), when a push deploys,
    then no known-good revision is invented from it."""
    world = World()
    arn = _following_web(world, image=f"{ecr_image('web', digest('web#1')).split('@')[0]}:main")
    push = world.push("web", "2", "main")

    entry = deploy(world.context(), _request(arn, push))

    assert entry.outcome is Outcome.DEPLOYED
    assert world.ledger.state(arn).known_good == ()


@pytest.mark.parametrize(
    ("gone", "code"), [("deleted", "inactive"), ("never existed", "service-gone")]
)
def test_a_service_gone_since_the_push_is_skipped_quietly(gone: str, code: str) -> None:
    """Given a deploy queued for a service that was deleted (ECS still describes it INACTIVE)
    or never existed, when it runs, then it is skipped with the reason and nothing is
    registered."""
    world = World()
    arn = _following_web(world)
    push = world.push("web", "2", "main")
    if gone == "deleted":
        world.ecs.delete_service(arn)
    else:
        arn = arn.replace("/web", "/web-old")

    entry = deploy(world.context(), _request(arn, push))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, code)
    assert len(world.ecs.revisions("web")) == 1
    assert world.notifier.sent == []


def test_a_digest_deleted_from_ecr_before_the_deploy_ran_is_skipped() -> None:
    world = World()
    arn = _following_web(world)
    push = world.push("web", "2", "main")
    world.ecr.delete("web", push.digest)

    entry = deploy(world.context(), _request(arn, push))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "image-gone")
    assert len(world.ecs.revisions("web")) == 1


def test_an_older_push_never_replaces_a_newer_running_image() -> None:
    """Given prod/web running build 1 pushed two days ago, when the event of a push of build 0
    made three days ago arrives late, then it is skipped as older."""
    world = World()
    arn = _following_web(world)
    push = world.push("web", "0", "main", at=T0 - timedelta(days=3))

    entry = deploy(world.context(), _request(arn, push))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "older-push")


def test_a_scan_finding_at_the_threshold_blocks_the_push_and_says_why() -> None:
    """Given prod/web gated at HIGH, when the pushed image's scan found a HIGH finding, then
    nothing is deployed and on-call hears which findings blocked it."""
    world = World()
    arn = _following_web(world, tags={"autopilot:scan": "HIGH"})
    push = world.push("web", "2", "main")
    world.ecr.set_scan("web", push.digest, ScanResult("COMPLETE", {"HIGH": 2, "LOW": 5}))

    entry = deploy(world.context(), _request(arn, push))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "scan-blocked")
    assert "HIGH 2" in entry.reason
    assert [n.severity for n in world.notifier.sent] == ["warning"]
    assert world.ecs.describe_service(arn).task_definition_arn.endswith("web:1")


def test_a_blue_green_service_without_a_load_balancer_fails_loudly() -> None:
    """Given a CODE_DEPLOY service with no load balancer to shift traffic on, when a push
    deploys, then the action fails for good (no retry can fix it) and on-call is told."""
    world = World()
    arn = _following_web(world, controller="CODE_DEPLOY")
    push = world.push("web", "2", "main")

    entry = deploy(world.context(), _request(arn, push))

    assert (entry.outcome, entry.code) == (Outcome.FAILED, "invalid-service")
    assert world.codedeploy.deployments == {}
    assert world.ecs.describe_service(arn).task_definition_arn.endswith("web:1")
    assert [n.severity for n in world.notifier.sent] == ["critical"]


def test_a_blue_green_service_gets_a_codedeploy_deployment_of_the_new_revision() -> None:
    """Given a CODE_DEPLOY service behind a load balancer, when a push deploys, then a
    CodeDeploy deployment of web:2 starts and the service keeps web:1 until it succeeds."""
    world = World()
    balancer = {"targetGroupArn": "tg-blue", "containerName": "web", "containerPort": 8080}
    arn = _following_web(world, controller="CODE_DEPLOY", load_balancers=[balancer])
    world.codedeploy.add_group("AppECS-prod-web", "DgpECS-prod-web", "prod", "web")
    push = world.push("web", "2", "main")

    entry = deploy(world.context(), _request(arn, push))

    assert entry.outcome is Outcome.DEPLOYED
    started = world.codedeploy.deployments[entry.deployment_id]
    assert task_definition_label(started.task_definition) == "web:2"
    assert world.ecs.describe_service(arn).task_definition_arn.endswith("web:1")
    world.codedeploy.succeed(entry.deployment_id)
    assert world.ecs.describe_service(arn).task_definition_arn == entry.to_task_definition

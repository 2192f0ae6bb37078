"""Should a push be rolled out to a service, and to which of its containers?"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from autopilot.domain.decisions import Skip
from autopilot.domain.deploy import DeployDecision, Rollout, decide_deploy
from autopilot.domain.fleet import Container, ImageFacts, ImagePush, Service
from autopilot.domain.images import parse_image
from autopilot.records import replace

ACCOUNT = "123456789012"
REGION = "eu-west-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
OLD = "sha256:" + "a" * 64
NEW = "sha256:" + "b" * 64
EARLIER = datetime(2025, 5, 1, 12, 0, tzinfo=UTC)
LATER = EARLIER + timedelta(hours=1)

APP = Container("app", f"{REGISTRY}/web@{OLD}")
SIDECAR = Container("log-router", f"{REGISTRY}/log-router:2.31.12")
TRACK_MAIN = {"autopilot:track": "tag:main"}


def image_push(tag: str = "main", digest: str = NEW, event_id: str = "evt-1") -> ImagePush:
    return ImagePush(
        event_id=event_id,
        time=LATER,
        account=ACCOUNT,
        region=REGION,
        repository="web",
        digest=digest,
        tag=tag,
    )


def service(
    *containers: Container,
    tags: Mapping[str, str] = TRACK_MAIN,
    status: str = "ACTIVE",
    controller: str = "ECS",
) -> Service:
    """A service running `containers` (by default the app from `web` and a log-router sidecar)."""
    return Service(
        arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web",
        cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod",
        name="web",
        status=status,
        task_definition_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:7",
        containers=containers or (APP, SIDECAR),
        deployment_controller=controller,
        desired_count=2,
        tags=tags,
    )


def facts(digest: str, *tags: str, pushed_at: datetime) -> ImageFacts:
    return ImageFacts(digest=digest, tags=tags, pushed_at=pushed_at)


def skip_code(decision: DeployDecision) -> str:
    assert isinstance(decision, Skip), f"expected a skip, got {decision}"
    return decision.code


def rolled_out(decision: DeployDecision) -> Mapping[str, str]:
    assert isinstance(decision, Rollout), f"expected a rollout, got {decision}"
    return decision.images


def after(svc: Service, rollout: DeployDecision) -> Service:
    """The service once the rollout is done: its containers run the rolled-out images."""
    images = rolled_out(rollout)
    return replace(
        svc, containers=tuple(replace(c, image=images.get(c.name, c.image)) for c in svc.containers)
    )


# Skips, one reason at a time.


@pytest.mark.parametrize(
    "tags",
    [
        {"autopilot:track": "main"},
        {"autopilot:track": "semver:not a range"},
        {"autopilot:track": "tag:main", "autopilot:containers": " , "},
        {"autopilot:track": "tag:main", "autopilot:codedeploy": "no-group"},
    ],
)
def test_an_unreadable_configuration_is_skipped_as_invalid(tags: dict[str, str]) -> None:
    # Given a service whose autopilot tags cannot be read
    svc = service(tags=tags)

    # When a push arrives
    decision = decide_deploy(image_push(), svc)

    # Then the service is left alone
    assert skip_code(decision) == "invalid-config"


def test_a_service_without_a_track_tag_is_not_opted_in() -> None:
    # Given a service that uses the repository but has no autopilot:track tag
    svc = service(tags={"team": "storefront"})

    # When a push arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is skipped as not opted in
    assert skip_code(decision) == "not-opted-in"


def test_tracking_off_is_skipped() -> None:
    # Given a service whose tracking is turned off
    svc = service(tags={"autopilot:track": "off"})

    # When a push arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is skipped
    assert skip_code(decision) == "tracking-off"


@pytest.mark.parametrize("status", ["DRAINING", "INACTIVE"])
def test_a_service_that_is_not_active_is_skipped(status: str) -> None:
    # Given a service being deleted or already gone
    svc = service(status=status)

    # When a push arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is skipped as inactive
    assert skip_code(decision) == "inactive"


def test_a_service_with_an_external_deployment_controller_is_skipped() -> None:
    # Given a service deployed by someone else's controller
    svc = service(controller="EXTERNAL")

    # When a push arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is left to that controller
    assert skip_code(decision) == "external-controller"


def test_a_codedeploy_service_is_rolled_out() -> None:
    # Given a blue/green service under CodeDeploy
    svc = service(controller="CODE_DEPLOY")

    # When a tracked push arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is rolled out like any other
    assert rolled_out(decision) == {"app": f"{REGISTRY}/web@{NEW}"}


@pytest.mark.parametrize(
    "image",
    [
        f"{REGISTRY}/api:main",  # another repository
        f"{REGISTRY}/web-admin:main",  # a repository whose name starts the same
        f"210987654321.dkr.ecr.{REGION}.amazonaws.com/web:main",  # another account
        f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:main",  # another region
        "web:main",  # Docker Hub
        "not an image",  # unreadable: ignored, not guessed at
    ],
)
def test_a_service_not_using_the_pushed_repository_is_skipped(image: str) -> None:
    # Given a service whose only tracked-looking container is not from the pushed repository
    svc = service(Container("app", image), SIDECAR)

    # When a push to `web` arrives
    decision = decide_deploy(image_push(), svc)

    # Then it is skipped
    assert skip_code(decision) == "not-using-repository"


@pytest.mark.parametrize(
    ("track", "tag"),
    [
        ("tag:main", "feature-login"),
        ("glob:release-+", "main"),
        ("semver:1.4 - 1", "2.0.0"),
        ("semver:^1.4", "1.5.0-rc.1"),
    ],
)
def test_a_tag_the_policy_does_not_follow_is_skipped(track: str, tag: str) -> None:
    # Given a service tracking some tags
    svc = service(tags={"autopilot:track": track})

    # When another tag is pushed
    decision = decide_deploy(image_push(tag=tag), svc)

    # Then it is skipped
    assert skip_code(decision) == "tag-not-tracked"


@pytest.mark.parametrize("image", [f"{REGISTRY}/web@{NEW}", f"{REGISTRY}/web:main@{NEW}"])
def test_a_digest_the_service_already_runs_is_skipped(image: str) -> None:
    # Given a service already running the pushed digest
    svc = service(Container("app", image), SIDECAR)

    # When the digest is pushed (again)
    decision = decide_deploy(image_push(), svc)

    # Then nothing is rolled out
    assert skip_code(decision) == "already-running"


# What a rollout touches.


def test_rollout_pins_the_tracked_container_to_the_pushed_digest() -> None:
    # Given a service running web by tag
    svc = service(Container("app", f"{REGISTRY}/web:main"), SIDECAR)

    # When a tracked tag is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then the container is pinned to <registry>/<repo>@<digest>, not to the movable tag
    assert images == {"app": f"{REGISTRY}/web@{NEW}"}
    pinned = parse_image(images["app"])
    assert pinned.tag is None
    assert pinned.digest == NEW


def test_sidecar_from_another_repository_is_never_touched() -> None:
    # Given a service with the app from `web` and a log-router from `log-router`
    svc = service(APP, SIDECAR)

    # When `web` is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then only the app is in the rollout
    assert set(images) == {"app"}
    assert SIDECAR.name not in images


def test_every_container_from_the_pushed_repository_is_rolled_out() -> None:
    # Given two containers running images from `web`, one of them already on the new digest
    worker = Container("worker", f"{REGISTRY}/web:main")
    svc = service(APP, worker, Container("sync", f"{REGISTRY}/web@{NEW}"), SIDECAR)

    # When `web` is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then all of them are pinned to the digest, and the sidecar is not
    assert images == {
        "app": f"{REGISTRY}/web@{NEW}",
        "sync": f"{REGISTRY}/web@{NEW}",
        "worker": f"{REGISTRY}/web@{NEW}",
    }


@pytest.mark.parametrize(
    ("containers", "expected"),
    [("app", {"app"}), ("worker", {"worker"}), ("app, worker", {"app", "worker"})],
)
def test_autopilot_containers_narrows_the_rollout(containers: str, expected: set[str]) -> None:
    # Given two containers from `web`, and an autopilot:containers tag naming some of them
    worker = Container("worker", f"{REGISTRY}/web:main")
    svc = service(APP, worker, SIDECAR, tags={**TRACK_MAIN, "autopilot:containers": containers})

    # When `web` is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then only the named containers are rolled out
    assert set(images) == expected


def test_autopilot_containers_cannot_widen_the_rollout_to_another_repository() -> None:
    # Given autopilot:containers naming only the sidecar, whose image is from another repository
    svc = service(APP, SIDECAR, tags={**TRACK_MAIN, "autopilot:containers": "log-router"})

    # When `web` is pushed
    decision = decide_deploy(image_push(), svc)

    # Then nothing is rolled out: the sidecar never gets the web image
    assert skip_code(decision) == "not-using-repository"


@pytest.mark.parametrize(
    "registry",
    [
        f"{ACCOUNT}.dkr-ecr.{REGION}.on.aws",
        f"{ACCOUNT}.dkr.ecr-fips.{REGION}.amazonaws.com",
    ],
)
def test_a_container_naming_the_repository_through_another_endpoint_is_rolled_out(
    registry: str,
) -> None:
    # Given a container pulling `web` through a dual-stack or FIPS endpoint
    svc = service(Container("app", f"{registry}/web:main"), SIDECAR)

    # When `web` is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then the container is recognised as using the repository
    assert set(images) == {"app"}


@pytest.mark.parametrize(
    "registry",
    [
        f"{ACCOUNT}.dkr-ecr.{REGION}.on.aws",
        f"{ACCOUNT}.dkr.ecr-fips.{REGION}.amazonaws.com",
    ],
)
def test_rollout_keeps_the_registry_endpoint_the_container_pulls_from(registry: str) -> None:
    # Given a container pulling `web` through a dual-stack (IPv6) or FIPS endpoint
    svc = service(Container("app", f"{registry}/web:main"), SIDECAR)

    # When `web` is pushed
    images = rolled_out(decide_deploy(image_push(), svc))

    # Then only the reference changes to the digest: the endpoint stays the one it was
    assert images == {"app": f"{registry}/web@{NEW}"}


def test_one_digest_pushed_under_two_tags_deploys_once() -> None:
    # Given a service following main and main-<sha>, and CI pushing one build under both tags
    svc = service(tags={"autopilot:track": "glob:main+"})
    first_push = image_push(tag="main", event_id="evt-1")
    second_push = image_push(tag="main-4f2a9c1", event_id="evt-2")

    # When the first push is rolled out and the second is decided against the updated service
    first = decide_deploy(first_push, svc)
    second = decide_deploy(second_push, after(svc, first))

    # Then the digest is deployed once and the second push finds it running
    assert rolled_out(first) == {"app": f"{REGISTRY}/web@{NEW}"}
    assert skip_code(second) == "already-running"


# Never backwards: versions and push times from ECR.


@pytest.mark.parametrize(
    ("pushed_tag", "expected"),
    [("1.4.9", "downgrade"), ("1.5.1", "rollout"), ("v1.6.0", "rollout")],
)
def test_semver_never_downgrades(pushed_tag: str, expected: str) -> None:
    # Given a service on 1.5.0 tracking a range that also holds 1.4.9, and a push made later
    svc = service(tags={"autopilot:track": "semver:1.4 - 1"})
    running = {OLD: facts(OLD, "1.5.0", "latest", pushed_at=EARLIER)}
    pushed = facts(NEW, pushed_tag, pushed_at=LATER)

    # When the pushed version is decided against what runs
    decision = decide_deploy(image_push(tag=pushed_tag), svc, pushed, running)

    # Then a lower version is refused however recently it was pushed, a higher one goes out
    if expected == "downgrade":
        assert skip_code(decision) == "downgrade"
    else:
        assert rolled_out(decision) == {"app": f"{REGISTRY}/web@{NEW}"}


def test_semver_never_downgrades_a_container_referenced_by_version_tag() -> None:
    # Given a service running web:1.5.0 by tag (as before its first automated deploy)
    svc = service(
        Container("app", f"{REGISTRY}/web:1.5.0"),
        SIDECAR,
        tags={"autopilot:track": "semver:1.4 - 1"},
    )
    pushed = facts(NEW, "1.4.9", pushed_at=LATER)

    # When 1.4.9 is pushed; no running digest to look up, so ECR has no facts on what runs
    decision = decide_deploy(image_push(tag="1.4.9"), svc, pushed, running_images={})

    # Then it is still refused as a downgrade
    assert skip_code(decision) == "downgrade"


@pytest.mark.parametrize(
    ("running_pushed_at", "expected"),
    [(LATER, "older-push"), (EARLIER, "rollout")],
)
def test_a_push_older_than_the_running_image_is_skipped(
    running_pushed_at: datetime, expected: str
) -> None:
    # Given a service running an image, and a push (perhaps delivered late) of another digest
    svc = service()
    pushed_at = EARLIER + timedelta(minutes=30)
    running = {OLD: facts(OLD, "main", pushed_at=running_pushed_at)}
    pushed = facts(NEW, "main", pushed_at=pushed_at)

    # When it is decided against ECR's push times
    decision = decide_deploy(image_push(), svc, pushed, running)

    # Then an image pushed before the running one is not rolled out; a newer one is
    if expected == "older-push":
        assert skip_code(decision) == "older-push"
    else:
        assert rolled_out(decision) == {"app": f"{REGISTRY}/web@{NEW}"}


def test_without_ecr_facts_the_planner_queues_the_rollout() -> None:
    # Given a running image pushed after this one, which only ECR's facts would reveal
    svc = service()

    # When the planner decides without facts, and the executor with them
    planned = decide_deploy(image_push(), svc)
    executed = decide_deploy(
        image_push(),
        svc,
        facts(NEW, "main", pushed_at=EARLIER),
        {OLD: facts(OLD, "main", pushed_at=LATER)},
    )

    # Then the planner queues it and the authoritative run refuses it
    assert rolled_out(planned) == {"app": f"{REGISTRY}/web@{NEW}"}
    assert skip_code(executed) == "older-push"

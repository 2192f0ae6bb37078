"""Plain values about pushes and services, and the labels people read them by."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from autopilot.domain.fleet import (
    Container,
    ImagePush,
    Service,
    short_digest,
    task_definition_label,
)
from autopilot.domain.images import parse_image, same_ecr_repository

ACCOUNT = "123456789012"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def image_push(region: str = "eu-west-1", repository: str = "web") -> ImagePush:
    return ImagePush(
        event_id="3f1c0a52-7c5e-4d0e-9a57-2a9d8e0b6c11",
        time=datetime(2025, 5, 1, 12, 0, tzinfo=UTC),
        account=ACCOUNT,
        region=region,
        repository=repository,
        digest=DIGEST,
        tag="main",
    )


def service(
    cluster_arn: str = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/prod",
    task_definition_arn: str = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:7",
) -> Service:
    return Service(
        arn=f"arn:aws:ecs:eu-west-1:{ACCOUNT}:service/prod/web",
        cluster_arn=cluster_arn,
        name="web",
        status="ACTIVE",
        task_definition_arn=task_definition_arn,
        containers=(Container("app", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:main"),),
    )


@pytest.mark.parametrize(
    ("region", "registry"),
    [
        ("eu-west-1", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"),
        ("cn-northwest-1", f"{ACCOUNT}.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
    ],
)
def test_push_registry_is_the_accounts_ecr_registry_in_the_region(
    region: str, registry: str
) -> None:
    # Given a push to ECR in a region
    push = image_push(region=region)

    # When its registry is asked for
    # Then it is the account's registry host in that region's partition
    assert push.registry == registry


def test_pinned_image_names_the_pushed_repository_by_digest() -> None:
    # Given a push of a tagged image
    push = image_push(repository="team/web")

    # When the image to deploy is named
    pinned = push.pinned_image

    # Then it is the pushed repository, pinned by digest, without the movable tag
    assert pinned == f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/team/web@{DIGEST}"
    reference = parse_image(pinned)
    assert reference.tag is None
    assert reference.digest == DIGEST
    assert same_ecr_repository(reference, ACCOUNT, "eu-west-1", "team/web")


@pytest.mark.parametrize(
    ("digest", "short"),
    [
        (DIGEST, "sha256:0123456789ab"),
        ("sha256:abc", "sha256:abc"),
        ("not-a-digest", "not-a-digest"),
        ("", ""),
    ],
)
def test_short_digest_keeps_the_algorithm_and_twelve_characters(digest: str, short: str) -> None:
    # Given a digest
    # When it is shortened for people to read
    # Then the algorithm stays and the value is cut to 12 characters
    assert short_digest(digest) == short


@pytest.mark.parametrize(
    ("arn", "label"),
    [
        (f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:7", "web:7"),
        (f"arn:aws-cn:ecs:cn-north-1:{ACCOUNT}:task-definition/web-api:112", "web-api:112"),
        ("web:7", "web:7"),
    ],
)
def test_task_definition_label_is_family_and_revision(arn: str, label: str) -> None:
    # Given a task definition ARN
    # When it is labelled
    # Then the label is family:revision
    assert task_definition_label(arn) == label


def test_service_labels_name_cluster_service_and_task_definition() -> None:
    # Given a service in cluster prod running web:7
    svc = service()

    # When it is labelled
    # Then cluster and service read as prod/web, the task definition as web:7
    assert svc.cluster_name == "prod"
    assert svc.label == "prod/web"
    assert svc.task_definition_label == "web:7"

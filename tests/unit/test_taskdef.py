"""Cloning a task definition: a new revision equal to the old one but for the chosen images."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest
from botocore.model import StructureShape
from botocore.validate import validate_parameters

from autopilot.domain.taskdef import (
    READ_ONLY_FIELDS,
    UnsupportedTaskDefinitionError,
    clone_task_definition,
    writable_tags,
)

ACCOUNT = "123456789012"
REGISTRY = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"
OLD_DIGEST = "sha256:" + "a" * 64
NEW_DIGEST = "sha256:" + "b" * 64
NEW_APP_IMAGE = f"{REGISTRY}/web@{NEW_DIGEST}"


def described_task_definition() -> dict[str, Any]:
    """`taskDefinition` as DescribeTaskDefinition returns it for a Fargate web service."""
    return {
        "taskDefinitionArn": f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:41",
        "family": "web",
        "revision": 41,
        "status": "ACTIVE",
        "taskRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-task",
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/web-execution",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "compatibilities": ["EC2", "FARGATE"],
        "cpu": "1024",
        "memory": "2048",
        "ephemeralStorage": {"sizeInGiB": 40},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
        "ipcMode": "task",
        "pidMode": "task",
        "containerDefinitions": [
            {
                "name": "app",
                "image": f"{REGISTRY}/web@{OLD_DIGEST}",
                "cpu": 0,
                "essential": True,
                "portMappings": [
                    {"containerPort": 8080, "hostPort": 8080, "protocol": "tcp", "name": "http"}
                ],
                "environment": [
                    {"name": "LOG_LEVEL", "value": "info"},
                    {"name": "FEATURE_FLAGS", "value": ""},
                ],
                "secrets": [
                    {
                        "name": "DATABASE_URL",
                        "valueFrom": f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:db-AbCd",
                    }
                ],
                "mountPoints": [
                    {"sourceVolume": "uploads", "containerPath": "/srv/uploads", "readOnly": False}
                ],
                "volumesFrom": [],
                "dependsOn": [{"containerName": "log-router", "condition": "START"}],
                "logConfiguration": {"logDriver": "awsfirelens", "options": {}},
                "healthCheck": {
                    "command": ["CMD-SHELL", "curl -f http://localhost:8080/health || exit 1"],
                    "interval": 30,
                    "timeout": 5,
                    "retries": 3,
                },
                "systemControls": [],
            },
            {
                "name": "log-router",
                "image": f"{REGISTRY}/log-router:2.31.12",
                "cpu": 0,
                "essential": True,
                "environment": [],
                "mountPoints": [],
                "volumesFrom": [],
                "user": "0",
                "firelensConfiguration": {"type": "fluentbit", "options": {}},
                "systemControls": [],
            },
        ],
        "volumes": [
            {"name": "scratch", "host": {}},
            {
                "name": "uploads",
                "efsVolumeConfiguration": {
                    "fileSystemId": "fs-0123456789abcdef0",
                    "rootDirectory": "/",
                    "transitEncryption": "ENABLED",
                    "authorizationConfig": {
                        "accessPointId": "fsap-0123456789abcdef0",
                        "iam": "ENABLED",
                    },
                },
            },
        ],
        "proxyConfiguration": {
            "type": "APPMESH",
            "containerName": "envoy",
            "properties": [{"name": "AppPorts", "value": "8080"}],
        },
        "placementConstraints": [
            {"type": "memberOf", "expression": "attribute:ecs.availability-zone in [eu-west-1a]"}
        ],
        "requiresAttributes": [
            {"name": "com.amazonaws.ecs.capability.ecr-auth"},
            {"name": "ecs.capability.secrets.asm.environment-variables"},
        ],
        "registeredAt": datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        "registeredBy": f"arn:aws:sts::{ACCOUNT}:assumed-role/deployer/ci",
        "deregisteredAt": datetime(2025, 4, 1, 9, 30, tzinfo=UTC),
        "deleteRequestedAt": datetime(2025, 4, 2, 9, 30, tzinfo=UTC),
    }


def container(definition: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(c for c in definition["containerDefinitions"] if c["name"] == name)
    return found


@pytest.fixture
def source() -> dict[str, Any]:
    return described_task_definition()


def test_the_source_holds_every_read_only_field(source: dict[str, Any]) -> None:
    # Given the described task definition used throughout these tests
    # When its fields are compared with the read-only ones
    # Then it holds them all, so the tests below prove each is dropped
    assert set(source) >= READ_ONLY_FIELDS


def test_clone_differs_from_source_only_in_the_chosen_containers_image(
    source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given a described task definition and the fields the SDK can register
    expected = {k: copy.deepcopy(v) for k, v in source.items() if k not in READ_ONLY_FIELDS}
    container(expected, "app")["image"] = NEW_APP_IMAGE

    # When the app container is moved to the new image
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)

    # Then everything else is carried over exactly, down to the last nested value
    assert clone == expected
    assert container(clone, "app")["image"] == NEW_APP_IMAGE
    assert container(clone, "log-router") == container(source, "log-router")


@pytest.mark.parametrize("field", sorted(READ_ONLY_FIELDS))
def test_clone_drops_the_read_only_field(
    field: str, source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given a described task definition holding a field RegisterTaskDefinition refuses
    # When it is cloned
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)

    # Then that field is left out
    assert field not in clone


@pytest.mark.parametrize(
    "field",
    [
        "ephemeralStorage",
        "runtimePlatform",
        "volumes",
        "proxyConfiguration",
        "placementConstraints",
        "ipcMode",
        "pidMode",
        "requiresCompatibilities",
        "taskRoleArn",
        "executionRoleArn",
    ],
)
def test_clone_carries_the_task_level_field(
    field: str, source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given a described task definition using the field
    # When it is cloned
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)

    # Then the field is carried over unchanged
    assert clone[field] == source[field]


def test_clone_keeps_secrets_and_environment_entries_with_empty_values(
    source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given an app container with secrets and an environment variable set to ""
    # When it is cloned
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)

    # Then the secret and the empty value survive
    app = container(clone, "app")
    assert app["secrets"] == container(source, "app")["secrets"]
    assert {"name": "FEATURE_FLAGS", "value": ""} in app["environment"]


def test_clone_is_valid_input_for_register_task_definition(
    source: dict[str, Any],
    writable_fields: frozenset[str],
    register_task_definition_input: StructureShape,
) -> None:
    # Given a clone of a described task definition
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)

    # When the SDK validates it as RegisterTaskDefinition input
    # Then it has no complaint (an unknown or read-only key would raise ParamValidationError)
    validate_parameters(clone, register_task_definition_input)


def test_clone_does_not_mutate_the_source(
    source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given a described task definition and a snapshot of it
    snapshot = copy.deepcopy(source)

    # When it is cloned and the clone is then changed in depth
    clone = clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)
    container(clone, "app")["environment"].append({"name": "EXTRA", "value": "1"})
    clone["volumes"][1]["efsVolumeConfiguration"]["rootDirectory"] = "/elsewhere"

    # Then the source is exactly as it was
    assert source == snapshot


def test_a_field_the_sdk_cannot_register_is_refused_not_dropped(
    source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given a field AWS adds to DescribeTaskDefinition before this SDK can register it
    source["someFieldAwsAddsNext"] = {"enabled": True}

    # When it is cloned
    # Then the clone stops rather than silently losing the field
    with pytest.raises(UnsupportedTaskDefinitionError, match="someFieldAwsAddsNext"):
        clone_task_definition(source, {"app": NEW_APP_IMAGE}, writable_fields)


def test_a_container_missing_from_the_task_definition_is_refused(
    source: dict[str, Any], writable_fields: frozenset[str]
) -> None:
    # Given new images naming a container the task definition does not have
    new_images = {"app": NEW_APP_IMAGE, "worker": NEW_APP_IMAGE}

    # When it is cloned
    # Then the clone is refused, naming the missing container
    with pytest.raises(UnsupportedTaskDefinitionError, match="worker"):
        clone_task_definition(source, new_images, writable_fields)


def test_every_field_describe_returns_is_read_only_or_registrable(
    described_task_definition_fields: frozenset[str], writable_fields: frozenset[str]
) -> None:
    # Given the fields this SDK's model says DescribeTaskDefinition returns
    # When they are sorted into read-only and registrable
    unaccounted = described_task_definition_fields - READ_ONLY_FIELDS - writable_fields

    # Then none is left over, so no field of a real task definition stops a clone
    assert unaccounted == set()


def test_no_read_only_field_is_one_register_accepts(
    register_task_definition_input: StructureShape,
) -> None:
    # Given the fields RegisterTaskDefinition accepts
    registrable = set(register_task_definition_input.members)

    # When they are compared with the fields the clone drops as read-only
    # Then none is dropped that could have been carried over
    assert READ_ONLY_FIELDS.isdisjoint(registrable)


@pytest.mark.parametrize(
    "key", ["aws:cloudformation:stack-name", "AWS:ecs:serviceName", "Aws:custom", "aws:"]
)
def test_writable_tags_drops_tags_reserved_for_aws_in_any_case(key: str) -> None:
    # Given a reserved tag among the user's tags
    tags = [{"key": "team", "value": "storefront"}, {"key": key, "value": "x"}]

    # When the tags for the new revision are chosen
    result = writable_tags(tags)

    # Then the reserved tag is left behind and the user's tag carried
    assert result == [{"key": "team", "value": "storefront"}]


def test_writable_tags_keeps_user_tags_in_order_and_fills_a_missing_value() -> None:
    # Given user tags, one merely starting with "aws" and one without a value
    tags = [
        {"key": "awsome", "value": "yes"},
        {"key": "owner:aws:team", "value": "platform"},
        {"key": "flag"},
    ]

    # When the tags for the new revision are chosen
    result = writable_tags(tags)

    # Then all of them are kept, in order, each with a value
    assert result == [
        {"key": "awsome", "value": "yes"},
        {"key": "owner:aws:team", "value": "platform"},
        {"key": "flag", "value": ""},
    ]

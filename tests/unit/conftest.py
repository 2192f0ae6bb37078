"""Shared fixtures for the unit tier: the SDK's own model of the ECS API, loaded once.

Creating a client reads botocore's bundled JSON model; it needs no credentials and makes no
call, so the unit tier stays offline.
"""

from __future__ import annotations

import socket

import boto3
import pytest
from botocore.model import ServiceModel, StructureShape


@pytest.fixture(scope="session")
def ecs_model() -> ServiceModel:
    model: ServiceModel = boto3.client("ecs", region_name="us-east-1").meta.service_model
    return model


@pytest.fixture(scope="session")
def register_task_definition_input(ecs_model: ServiceModel) -> StructureShape:
    shape = ecs_model.operation_model("RegisterTaskDefinition").input_shape
    assert shape is not None
    return shape


@pytest.fixture(scope="session")
def writable_fields(register_task_definition_input: StructureShape) -> frozenset[str]:
    """What the executor passes as `writable_fields`: RegisterTaskDefinition's members but tags."""
    return frozenset(register_task_definition_input.members) - {"tags"}


@pytest.fixture(scope="session")
def described_task_definition_fields(ecs_model: ServiceModel) -> frozenset[str]:
    """Every field DescribeTaskDefinition can return in `taskDefinition`."""
    output = ecs_model.operation_model("DescribeTaskDefinition").output_shape
    assert output is not None
    shape = output.members["taskDefinition"]
    assert isinstance(shape, StructureShape)
    return frozenset(shape.members)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unit tests are pure: any attempt to open a connection fails the test."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise RuntimeError("unit tests must not touch the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)

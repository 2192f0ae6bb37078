"""The operator CLI against a deployed stack: its resources come from CloudFormation outputs."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest
from moto import mock_aws

from autopilot.adapters import clients
from autopilot_tools.cli import operator

STACK_TEMPLATE = {
    "Resources": {
        "LedgerTable": {
            "Type": "AWS::DynamoDB::Table",
            "Properties": {
                "BillingMode": "PAY_PER_REQUEST",
                "AttributeDefinitions": [
                    {"AttributeName": "pk", "AttributeType": "S"},
                    {"AttributeName": "sk", "AttributeType": "S"},
                ],
                "KeySchema": [
                    {"AttributeName": "pk", "KeyType": "HASH"},
                    {"AttributeName": "sk", "KeyType": "RANGE"},
                ],
            },
        },
        "ActionsQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {"FifoQueue": True, "QueueName": "ecs-autopilot-actions.fifo"},
        },
    },
    "Outputs": {
        "LedgerTableName": {"Value": {"Ref": "LedgerTable"}},
        "ActionsQueueUrl": {"Value": {"Ref": "ActionsQueue"}},
    },
}


@pytest.fixture
def stack() -> Iterator[str]:
    """Given a deployed stack with the outputs the CLI reads (its other resources left out)."""
    with mock_aws():
        clients.reset()
        boto3.client("cloudformation").create_stack(
            StackName="ecs-autopilot-prod", TemplateBody=json.dumps(STACK_TEMPLATE)
        )
        yield "ecs-autopilot-prod"
        clients.reset()


def test_the_cli_finds_the_ledger_and_queue_from_the_stack_outputs(stack: str) -> None:
    # When the CLI connects to the stack
    backend = operator.aws_backend(stack)

    # Then it reads the ledger named in the outputs, and reports who is operating
    assert backend.operator.startswith("arn:aws:")
    assert operator.status(backend) == {"services": [], "quarantined": []}


def test_a_missing_stack_is_a_clear_error(stack: str) -> None:
    with pytest.raises(operator.OperatorError, match="cannot read stack nope"):
        operator.aws_backend("nope")

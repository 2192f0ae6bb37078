"""Integration tier: handlers and adapters against moto in-process (`mock_aws`).

The application's resources are created from template.yaml by the local runner, and the
handlers are loaded from the template's CodeUri and Handler, as Lambda loads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws

from autopilot import wiring
from autopilot.adapters import clients
from autopilot_tools.local import moto_extensions
from autopilot_tools.local.fleet import seed_fleet
from autopilot_tools.local.runner import LocalApp

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def app() -> Iterator[LocalApp]:
    """Given the application's own resources (tables, queues, topic, rules) in moto."""
    moto_extensions.install()
    with mock_aws():
        clients.reset()
        wiring.reset()
        local = LocalApp(ROOT, endpoint=None)
        local.ensure_resources()
        yield local
        wiring.reset()
        clients.reset()


@pytest.fixture
def services(app: LocalApp) -> dict[str, str]:
    """Given the demo fleet: service label -> service ARN."""
    with app.aws_environment():
        return seed_fleet()


def _checkout_definition(ecs: ECSClient, image: str) -> str:
    """checkout's first revision: one web container on port 8080 running `image`."""
    return str(
        ecs.register_task_definition(
            family="checkout",
            containerDefinitions=[
                {
                    "name": "web",
                    "image": image,
                    "memory": 512,
                    "portMappings": [{"containerPort": 8080}],
                }
            ],
        )["taskDefinition"]["taskDefinitionArn"]
    )


def create_blue_green_service(app: LocalApp, image: str) -> str:
    """A CODE_DEPLOY service prod/checkout following web:main, with its CodeDeploy application
    and deployment group under the console's default names; returns its ARN."""
    with app.aws_environment():
        ecs, codedeploy = boto3.client("ecs"), boto3.client("codedeploy")
        definition = _checkout_definition(ecs, image)
        service = ecs.create_service(
            cluster="prod",
            serviceName="checkout",
            taskDefinition=definition,
            desiredCount=2,
            deploymentController={"type": "CODE_DEPLOY"},
            loadBalancers=[
                {
                    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:"
                    "123456789012:targetgroup/blue/abc",
                    "containerName": "web",
                    "containerPort": 8080,
                }
            ],
            tags=[{"key": "autopilot:track", "value": "tag:main"}],
        )["service"]["serviceArn"]
        codedeploy.create_application(applicationName="AppECS-prod-checkout", computePlatform="ECS")
        codedeploy.create_deployment_group(
            applicationName="AppECS-prod-checkout",
            deploymentGroupName="DgpECS-prod-checkout",
            serviceRoleArn="arn:aws:iam::123456789012:role/codedeploy",
            ecsServices=[{"serviceName": "checkout", "clusterName": "prod"}],
        )
    return str(service)


def create_native_blue_green_service(
    app: LocalApp, image: str, strategy: str = "BLUE_GREEN"
) -> str:
    """prod/checkout following web:main, deployed by ECS itself with `strategy` (the ECS
    deployment controller; a 10-minute bake time) behind a load balancer whose listener rule
    ECS shifts between a blue and a green target group; returns its ARN."""
    balancing = "arn:aws:elasticloadbalancing:us-east-1:123456789012"
    listener_rule = f"{balancing}:listener-rule/app/shop/0a1b2c3d/4e5f6a7b/8c9d0e1f"
    role = "arn:aws:iam::123456789012:role/ecsInfrastructureRoleForLoadBalancers"
    with app.aws_environment():
        ecs = boto3.client("ecs")
        definition = _checkout_definition(ecs, image)
        service = ecs.create_service(
            cluster="prod",
            serviceName="checkout",
            taskDefinition=definition,
            desiredCount=2,
            deploymentController={"type": "ECS"},
            deploymentConfiguration={"strategy": strategy, "bakeTimeInMinutes": 10},
            loadBalancers=[
                {
                    "targetGroupArn": f"{balancing}:targetgroup/checkout-blue/abc",
                    "containerName": "web",
                    "containerPort": 8080,
                    "advancedConfiguration": {
                        "alternateTargetGroupArn": f"{balancing}:targetgroup/checkout-green/def",
                        "productionListenerRule": listener_rule,
                        "roleArn": role,
                    },
                }
            ],
            tags=[{"key": "autopilot:track", "value": "tag:main"}],
        )["service"]["serviceArn"]
    return str(service)

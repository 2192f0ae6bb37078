"""AWS CodeDeploy: blue/green deployments for services with the CODE_DEPLOY controller.

ECS refuses UpdateService with a new task definition for those services; the new revision
goes out as a CodeDeploy deployment with an AppSpec instead.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient
    from mypy_boto3_codedeploy.literals import DeploymentStatusType

# CreateDeployment with an AppSpec revision also reads the deployment configuration and
# registers the revision with the application.
IAM_ACTIONS = {
    "deploy": (
        "codedeploy:CreateDeployment",
        "codedeploy:GetApplicationRevision",
        "codedeploy:GetDeployment",
        "codedeploy:GetDeploymentConfig",
        "codedeploy:GetDeploymentGroup",
        "codedeploy:ListDeployments",
        "codedeploy:RegisterApplicationRevision",
        "codedeploy:StopDeployment",
    ),
    "read": ("codedeploy:GetDeploymentGroup",),
}


# Deployments that have not ended (CodeDeploy's DeploymentStatus values).
ACTIVE_STATUSES: tuple[DeploymentStatusType, ...] = (
    "Created",
    "Queued",
    "InProgress",
    "Baking",
    "Ready",
)


def appspec(task_definition_arn: str, container_name: str, container_port: int) -> str:
    return json.dumps(
        {
            "version": 0.0,
            "Resources": [
                {
                    "TargetService": {
                        "Type": "AWS::ECS::Service",
                        "Properties": {
                            "TaskDefinition": task_definition_arn,
                            "LoadBalancerInfo": {
                                "ContainerName": container_name,
                                "ContainerPort": container_port,
                            },
                        },
                    }
                }
            ],
        }
    )


def appspec_task_definition(content: str) -> str:
    """The task definition an AppSpec deploys ("" if it names none): compared exactly, since
    `checkout:1` is a prefix of `checkout:12`."""
    try:
        resources = json.loads(content).get("Resources", [])
        return str(resources[0]["TargetService"]["Properties"]["TaskDefinition"])
    except (ValueError, AttributeError, LookupError, TypeError):
        return ""


class CodeDeployGateway:
    def __init__(self, client: CodeDeployClient | None = None) -> None:
        self._codedeploy = client or clients.codedeploy()

    def create_deployment(
        self, application: str, deployment_group: str, appspec_content: str, description: str
    ) -> str:
        response = self._codedeploy.create_deployment(
            applicationName=application,
            deploymentGroupName=deployment_group,
            revision={
                "revisionType": "AppSpecContent",
                "appSpecContent": {"content": appspec_content},
            },
            description=description[:100],
        )
        return response["deploymentId"]

    def stop_deployment(self, deployment_id: str) -> None:
        """Stop a blue/green deployment and let CodeDeploy shift traffic back.

        A deployment that already ended (an earlier attempt stopped it, or it failed) is left
        as it is: there is nothing to stop."""
        try:
            self._codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)
        except ClientError as exc:
            if is_code(exc, "DeploymentAlreadyCompletedException"):
                return
            raise

    def deployment_status(self, deployment_id: str) -> str:
        """Created | Queued | InProgress | Baking | Ready | Succeeded | Failed | Stopped."""
        response = self._codedeploy.get_deployment(deploymentId=deployment_id)
        return response["deploymentInfo"].get("status", "")

    def deployment_for(
        self,
        application: str,
        deployment_group: str,
        task_definition_arn: str,
        since: datetime,
    ) -> str | None:
        """The group's deployment of `task_definition_arn` created since `since` (in flight or
        succeeded).

        CreateDeployment has no idempotency token: a retry after a lost response finds the
        deployment the earlier attempt created here instead of creating a second one."""
        response = self._codedeploy.list_deployments(
            applicationName=application,
            deploymentGroupName=deployment_group,
            includeOnlyStatuses=[*ACTIVE_STATUSES, "Succeeded"],
            createTimeRange={"start": since},
        )
        for deployment_id in response.get("deployments", []):
            info = self._codedeploy.get_deployment(deploymentId=deployment_id)["deploymentInfo"]
            content = info.get("revision", {}).get("appSpecContent", {}).get("content", "")
            if appspec_task_definition(content) == task_definition_arn:
                return deployment_id
        return None

    def ecs_services(self, application: str, deployment_group: str) -> list[tuple[str, str]]:
        """(cluster, service) pairs the deployment group deploys to."""
        response = self._codedeploy.get_deployment_group(
            applicationName=application, deploymentGroupName=deployment_group
        )
        return [
            (s["clusterName"], s["serviceName"])
            for s in response["deploymentGroupInfo"].get("ecsServices", [])
            if "clusterName" in s and "serviceName" in s
        ]

"""AWS CodeDeploy: blue/green deployments for services with the CODE_DEPLOY controller.

ECS refuses UpdateService with a new task definition for those services; the new revision
goes out as a CodeDeploy deployment with an AppSpec instead.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from autopilot.adapters import clients

if TYPE_CHECKING:
    from mypy_boto3_codedeploy import CodeDeployClient

# CreateDeployment with an AppSpec revision also reads the deployment configuration and
# registers the revision with the application.
IAM_ACTIONS = {
    "deploy": (
        "codedeploy:CreateDeployment",
        "codedeploy:GetApplicationRevision",
        "codedeploy:GetDeploymentConfig",
        "codedeploy:RegisterApplicationRevision",
        "codedeploy:StopDeployment",
    ),
    "read": ("codedeploy:GetDeploymentGroup",),
}


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
        """Stop a blue/green deployment and let CodeDeploy shift traffic back."""
        self._codedeploy.stop_deployment(deploymentId=deployment_id, autoRollbackEnabled=True)

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

"""AWS CodeDeploy in memory, for ECS blue/green: one active deployment per deployment group.

Faithful to what the workflows rely on: CreateDeployment refuses a second deployment while one
is active in the group (DeploymentLimitExceededException); StopDeployment of a finished one
is refused by CodeDeploy (DeploymentAlreadyCompletedException), which the adapter reads as
done; the ECS service runs the new revision only once a deployment succeeds (`succeed`), and
keeps the original one when it is stopped or fails. `deployment_for` answers as the adapter's
ListDeployments (the last day's, in flight or succeeded) + GetDeployment (its AppSpec) does.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from autopilot.adapters.codedeploy import appspec_task_definition
from autopilot.domain.alarms import service_arn
from tests.fakes.aws import ACCOUNT, REGION, client_error
from tests.fakes.ecs import FakeEcs

ACTIVE = frozenset({"Created", "Queued", "InProgress", "Baking", "Ready"})


@dataclass
class CodeDeployment:
    id: str
    application: str
    group: str
    task_definition: str  # the AppSpec's TargetService TaskDefinition
    description: str
    appspec: str
    created_at: datetime
    status: str = "InProgress"
    auto_rollback: bool = False


class FakeCodeDeploy:
    def __init__(
        self,
        ecs: FakeEcs,
        clock: Callable[[], datetime] | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self._ecs = ecs
        self._clock = clock or (lambda: datetime.now(UTC))
        self._account = account
        self._region = region
        self._groups: dict[tuple[str, str], list[tuple[str, str]]] = {}
        self.deployments: dict[str, CodeDeployment] = {}
        self._ids = itertools.count(1)

    # -- set-up and test helpers --------------------------------------------------------------

    def add_group(self, application: str, group: str, cluster: str, service: str) -> None:
        self._groups.setdefault((application, group), []).append((cluster, service))

    def succeed(self, deployment_id: str) -> None:
        """All traffic shifted to the replacement task set: the service runs the new revision."""
        deployment = self.deployments[deployment_id]
        deployment.status = "Succeeded"
        for cluster, name in self._groups[(deployment.application, deployment.group)]:
            arn = service_arn(cluster, name, self._account, self._region)
            self._ecs.switch_task_set(arn, deployment.task_definition)

    def fail(self, deployment_id: str) -> None:
        self.deployments[deployment_id].status = "Failed"

    def finish_all(self) -> None:
        """Let every active deployment succeed."""
        for deployment in list(self.deployments.values()):
            if deployment.status in ACTIVE:
                self.succeed(deployment.id)

    # -- the gateway --------------------------------------------------------------------------

    def create_deployment(
        self, application: str, deployment_group: str, appspec_content: str, description: str
    ) -> str:
        if not any(app == application for app, _ in self._groups):
            raise client_error(
                "ApplicationDoesNotExistException", "No application found", "CreateDeployment"
            )
        if (application, deployment_group) not in self._groups:
            raise client_error(
                "DeploymentGroupDoesNotExistException",
                "No deployment group found",
                "CreateDeployment",
            )
        for active in self.deployments.values():
            if (active.application, active.group) == (application, deployment_group) and (
                active.status in ACTIVE
            ):
                raise client_error(
                    "DeploymentLimitExceededException",
                    f"The Deployment Group '{deployment_group}' already has an active "
                    f"Deployment '{active.id}'",
                    "CreateDeployment",
                )
        appspec = json.loads(appspec_content)
        target = appspec["Resources"][0]["TargetService"]["Properties"]["TaskDefinition"]
        deployment_id = f"d-{next(self._ids):09d}"
        self.deployments[deployment_id] = CodeDeployment(
            deployment_id,
            application,
            deployment_group,
            target,
            description[:100],
            appspec_content,
            self._clock(),
        )
        return deployment_id

    def stop_deployment(self, deployment_id: str) -> None:
        deployment = self._get(deployment_id, "StopDeployment")
        if deployment.status not in ACTIVE:
            return  # DeploymentAlreadyCompletedException: nothing left to stop
        # autoRollbackEnabled: traffic stays on (or goes back to) the original task set.
        deployment.status, deployment.auto_rollback = "Stopped", True

    def deployment_for(
        self,
        application: str,
        deployment_group: str,
        task_definition_arn: str,
        since: datetime,
    ) -> str | None:
        for deployment in sorted(
            self.deployments.values(), key=lambda d: d.created_at, reverse=True
        ):
            if (
                (deployment.application, deployment.group) == (application, deployment_group)
                and (deployment.status in ACTIVE or deployment.status == "Succeeded")
                and deployment.created_at >= since
                and appspec_task_definition(deployment.appspec) == task_definition_arn
            ):
                return deployment.id
        return None

    def ecs_services(self, application: str, deployment_group: str) -> list[tuple[str, str]]:
        if (application, deployment_group) not in self._groups:
            raise client_error(
                "DeploymentGroupDoesNotExistException",
                "No deployment group found",
                "GetDeploymentGroup",
            )
        return list(self._groups[(application, deployment_group)])

    def deployment_status(self, deployment_id: str) -> str:
        return self._get(deployment_id, "GetDeployment").status

    def _get(self, deployment_id: str, operation: str) -> CodeDeployment:
        if deployment_id not in self.deployments:
            raise client_error(
                "DeploymentDoesNotExistException",
                f"The deployment {deployment_id} could not be found.",
                operation,
            )
        return self.deployments[deployment_id]

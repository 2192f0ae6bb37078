"""What the automation knows about a service and an image, as plain values."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

import msgspec

from autopilot.domain.capacity import TaskSize
from autopilot.domain.images import ecr_registry

# ECS's own traffic-shifting strategies (deploymentConfiguration.strategy, ECS controller): the
# old revision keeps serving until traffic shifts, so stopping a deployment with rollback sends
# traffic straight back to it.
TRAFFIC_SHIFTING = frozenset({"BLUE_GREEN", "LINEAR", "CANARY"})


class ImagePush(msgspec.Struct, frozen=True):
    """One successful, tagged push to ECR, as the event told it."""

    event_id: str
    time: datetime
    account: str
    region: str
    repository: str
    digest: str
    tag: str

    @property
    def registry(self) -> str:
        return ecr_registry(self.account, self.region)

    @property
    def pinned_image(self) -> str:
        return f"{self.registry}/{self.repository}@{self.digest}"


class Container(msgspec.Struct, frozen=True):
    name: str
    image: str


class EcsDeployment(msgspec.Struct, frozen=True):
    """One of the service's deployments, as DescribeServices shows it."""

    id: str
    status: str  # PRIMARY | ACTIVE | INACTIVE
    task_definition: str
    rollout_state: str = ""  # IN_PROGRESS | COMPLETED | FAILED ("" for CODE_DEPLOY/EXTERNAL)
    running_count: int = 0
    desired_count: int = 0
    updated_at: datetime | None = None


class PauseHook(msgspec.Struct, frozen=True):
    """A `PAUSE` hook of the service's deploymentConfiguration.lifecycleHooks: at these stages
    ECS waits for ContinueServiceDeployment, and after `timeout_minutes` takes `timeout_action`
    (the API's defaults: 1440 minutes, ROLLBACK)."""

    stages: tuple[str, ...]
    timeout_minutes: int = 1440
    timeout_action: str = "ROLLBACK"


class Service(msgspec.Struct, frozen=True):
    arn: str
    cluster_arn: str
    name: str
    status: str
    task_definition_arn: str
    containers: tuple[Container, ...]
    deployment_controller: str = "ECS"
    scheduling_strategy: str = "REPLICA"
    desired_count: int = 0
    tags: Mapping[str, str] = msgspec.field(default_factory=dict)
    task_size: TaskSize = msgspec.field(default_factory=lambda: TaskSize(0, 0))
    load_balancers: tuple[tuple[str, int], ...] = ()
    running_count: int = 0
    deployments: tuple[EcsDeployment, ...] = ()
    # Alarms the service's own deploymentConfiguration.alarms names: tied to it for rollback.
    deployment_alarms: tuple[str, ...] = ()
    # deploymentConfiguration.strategy (ROLLING when absent) and bakeTimeInMinutes: how the ECS
    # deployment controller deploys it.
    strategy: str = "ROLLING"
    bake_time_minutes: int | None = None
    # deploymentConfiguration.lifecycleHooks of targetType PAUSE: where a deployment waits.
    pause_hooks: tuple[PauseHook, ...] = ()

    def deployment(self, deployment_id: str) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.id == deployment_id), None)

    @property
    def primary(self) -> EcsDeployment | None:
        return next((d for d in self.deployments if d.status == "PRIMARY"), None)

    @property
    def shifts_traffic(self) -> bool:
        """ECS's own blue/green, linear or canary deployments (not CodeDeploy's)."""
        return self.deployment_controller == "ECS" and self.strategy in TRAFFIC_SHIFTING

    @property
    def rollout(self) -> str:
        """How the service is deployed, as the ledger names it: the ECS controller's strategy,
        or the controller itself (CODE_DEPLOY, EXTERNAL)."""
        return self.strategy if self.deployment_controller == "ECS" else self.deployment_controller

    @property
    def cluster_name(self) -> str:
        return self.cluster_arn.rsplit("/", 1)[-1]

    @property
    def label(self) -> str:
        return f"{self.cluster_name}/{self.name}"

    @property
    def task_definition_label(self) -> str:
        """`family:revision`, the way people name a task definition."""
        return task_definition_label(self.task_definition_arn)


class ImageFacts(msgspec.Struct, frozen=True):
    """What ECR says of one digest."""

    digest: str
    tags: tuple[str, ...]
    pushed_at: datetime


def task_definition_label(arn: str) -> str:
    return arn.rsplit("/", 1)[-1]


def short_digest(digest: str) -> str:
    algorithm, _, value = digest.partition(":")
    return f"{algorithm}:{value[:12]}" if value else digest

"""One account's worth of fakes, wired the way `wiring.py` wires the real adapters.

`World` builds the ExecutorContext and the report's sources from the fakes; `wrap` lets a test
put something (the chaos suite's `Faults`) between a workflow and every gateway.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from autopilot.domain.fleet import ImagePush
from autopilot.ports import ServiceRevisionReader
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.cost_report import ReportDelivery, ReportSources
from tests.fakes.aws import ACCOUNT, REGION
from tests.fakes.capacity import FakeAutoScaling, FakeScheduler
from tests.fakes.cloudwatch import FakeCloudWatch
from tests.fakes.codedeploy import FakeCodeDeploy
from tests.fakes.ecr import FakeEcr
from tests.fakes.ecs import FakeEcs, FakeTagging
from tests.fakes.fleet_index import FakeFleetIndex
from tests.fakes.ledger import FakeLedger
from tests.fakes.messages import FakeActionQueue, FakeNotifier
from tests.fakes.report import FakeCostExplorer, FakeMailer, FakeReportDeliveries

T0 = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)  # a Tuesday afternoon
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"

G = TypeVar("G")


class Wrap(Protocol):
    """Puts something between a workflow and a gateway; `name` says which gateway it is."""

    def __call__(self, gateway: G, name: str) -> G: ...


def unwrapped(gateway: G, name: str) -> G:
    return gateway


def digest(label: str) -> str:
    """A stable, well-formed digest for a named build."""
    return "sha256:" + hashlib.sha256(label.encode()).hexdigest()


def ecr_image(repository: str, image_digest: str) -> str:
    return f"{REGISTRY}/{repository}@{image_digest}"


def fargate_task_definition(family: str, containers: Mapping[str, str]) -> dict[str, Any]:
    """RegisterTaskDefinition input with the fields a careless clone would lose."""
    definitions = [
        {
            "name": name,
            "image": image,
            "essential": index == 0,
            "portMappings": [{"containerPort": 8080, "protocol": "tcp"}] if index == 0 else [],
            "environment": [{"name": "FEATURE_FLAGS", "value": ""}],
            "secrets": [
                {
                    "name": "DATABASE_URL",
                    "valueFrom": f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:{family}-db",
                }
            ],
        }
        for index, (name, image) in enumerate(containers.items())
    ]
    return {
        "family": family,
        "executionRoleArn": f"arn:aws:iam::{ACCOUNT}:role/ecsTaskExecutionRole",
        "networkMode": "awsvpc",
        "requiresCompatibilities": ["FARGATE"],
        "cpu": "512",
        "memory": "1024",
        "containerDefinitions": definitions,
        "ephemeralStorage": {"sizeInGiB": 30},
        "runtimePlatform": {"cpuArchitecture": "ARM64", "operatingSystemFamily": "LINUX"},
    }


@dataclass
class Clock:
    now: datetime = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


class World:
    def __init__(self, now: datetime = T0) -> None:
        self.clock = Clock(now)
        self.ecs = FakeEcs(self.clock)
        self.tagging = FakeTagging(self.ecs)
        self.ecr = FakeEcr()
        self.codedeploy = FakeCodeDeploy(self.ecs, self.clock)
        self.cloudwatch = FakeCloudWatch()
        self.ledger = FakeLedger()
        self.notifier = FakeNotifier()
        self.autoscaling = FakeAutoScaling()
        self.scheduler = FakeScheduler()
        self.costs = FakeCostExplorer()
        self.mailer = FakeMailer("autopilot@example.com", ["platform@example.com"], "reports")
        self.deliveries = FakeReportDeliveries()
        self.queue = FakeActionQueue()
        self.index = FakeFleetIndex()
        # Canary analysis's reader of service revisions, when a story needs one (tests/fakes/canary)
        self.service_revisions: ServiceRevisionReader | None = None

    def now(self) -> datetime:
        """The planners' clock (World stands in for the gateways a planner is handed)."""
        return self.clock()

    # -- set-up ---------------------------------------------------------------------------------

    def add_service(
        self,
        cluster: str,
        name: str,
        containers: Mapping[str, str],
        *,
        family: str | None = None,
        **options: Any,
    ) -> str:
        """Register the service's first revision and create it (see FakeEcs.add_service)."""
        revision = self.ecs.register_task_definition(
            fargate_task_definition(family or name, containers), [{"key": "team", "value": "web"}]
        )
        return self.ecs.add_service(cluster, name, revision, **options)

    def push(
        self, repository: str, build: str, tag: str, *, at: datetime | None = None
    ) -> ImagePush:
        """Push a build to ECR; returns the push as its EventBridge event describes it."""
        pushed_at = at or self.clock()
        image_digest = digest(f"{repository}#{build}")
        self.ecr.push(repository, image_digest, tag, pushed_at)
        return ImagePush(
            event_id=f"push-{repository}-{build}-{tag}",
            time=pushed_at,
            account=ACCOUNT,
            region=REGION,
            repository=repository,
            digest=image_digest,
            tag=tag,
        )

    # -- what the workflows are given -----------------------------------------------------------

    def context(
        self, *, dry_run: bool = False, wrap: Wrap = unwrapped, freeze_after: int = 3
    ) -> ExecutorContext:
        scheduler = wrap(self.scheduler, "scheduler")
        return ExecutorContext(
            ecs=wrap(self.ecs, "ecs"),
            ecr=wrap(self.ecr, "ecr"),
            codedeploy=wrap(self.codedeploy, "codedeploy"),
            cloudwatch=wrap(self.cloudwatch, "cloudwatch"),
            ledger=wrap(self.ledger, "ledger"),
            notifier=self.notifier,  # best effort: the real one never raises
            autoscaling=wrap(self.autoscaling, "autoscaling"),
            scheduler=lambda: scheduler,
            dry_run=dry_run,
            clock=self.clock,
            freeze_after=freeze_after,
            index=wrap(self.index, "index"),
            service_revisions=(
                wrap(self.service_revisions, "service_revisions")
                if self.service_revisions is not None
                else None
            ),
        )

    def report_sources(self, wrap: Wrap = unwrapped) -> ReportSources:
        return ReportSources(
            costs=wrap(self.costs, "costs"),
            cloudwatch=wrap(self.cloudwatch, "cloudwatch"),
            ecs=wrap(self.ecs, "ecs"),
            ledger=wrap(self.ledger, "ledger"),
            account=ACCOUNT,
            region=REGION,
        )

    def report_delivery(self, wrap: Wrap = unwrapped) -> ReportDelivery:
        return ReportDelivery(
            mailer=wrap(self.mailer, "mailer"),
            deliveries=wrap(self.deliveries, "deliveries"),
            notifier=self.notifier,  # best effort: the real one never raises
        )

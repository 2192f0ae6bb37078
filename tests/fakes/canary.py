"""What canary analysis reads, in memory: a service's tags and target group pair, its service
revisions, the target groups' load balancers and their per-minute metrics."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from autopilot.domain.canary_hook import (
    ContainerImage,
    Minute,
    ServiceRevision,
    ServiceTraffic,
    TargetGroupPair,
    Window,
)
from autopilot.domain.errors import NotFoundError
from tests.fakes.aws import ACCOUNT, REGION
from tests.fakes.messages import FakeActionQueue
from tests.fakes.world import Clock

SERVICE = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/cart"
DEPLOYMENT = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-deployment/prod/cart/EZe5RNVLH6PPzHXINuP28"
GREEN_REVISION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/prod/cart/9313423515462893900"
BLUE_REVISION = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service-revision/prod/cart/1920498462936580504"
_ELB = f"arn:aws:elasticloadbalancing:{REGION}:{ACCOUNT}"
PRIMARY_TG = f"{_ELB}:targetgroup/cart-primary/6d0ecf831eec9f09"
ALTERNATE_TG = f"{_ELB}:targetgroup/cart-alternate/2f4b1c9e7a3d5e60"
LOAD_BALANCER = f"{_ELB}:loadbalancer/app/shop/50dc6c495c0c9188"


class FakeServiceRevisions:
    def __init__(self) -> None:
        self.services: dict[str, ServiceTraffic] = {}
        self.revisions: dict[str, ServiceRevision] = {}
        self.reads = 0

    def service(self, service_arn: str) -> ServiceTraffic | None:
        self.reads += 1
        return self.services.get(service_arn)

    def revision(self, revision_arn: str) -> ServiceRevision | None:
        self.reads += 1
        return self.revisions.get(revision_arn)


class FakeTargetGroups:
    def __init__(self) -> None:
        self.fronts: dict[str, tuple[str, ...]] = {}

    def load_balancers(self, target_group_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        missing = [arn for arn in target_group_arns if arn not in self.fronts]
        if missing:
            raise NotFoundError(f"target group not found: {', '.join(missing)}")
        return {arn: self.fronts[arn] for arn in target_group_arns}


@dataclass
class FakeAlbMetrics:
    """Per target group, the minutes it served; every query is kept."""

    series: dict[str, list[Minute]] = field(default_factory=dict)
    queries: list[tuple[str, tuple[str, ...], Window]] = field(default_factory=list)

    def minutes(
        self, load_balancer: str, target_groups: Sequence[str], window: Window
    ) -> dict[str, list[Minute]]:
        self.queries.append((load_balancer, tuple(target_groups), window))
        return {tg: list(self.series.get(tg, [])) for tg in target_groups}


class FakeTaggingOf:
    def __init__(self, services: FakeServiceRevisions) -> None:
        self._services = services

    def services_tagged(self, key: str) -> list[str]:
        return sorted(a for a, s in self._services.services.items() if key in s.tags)

    def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
        tagged = set(self.services_tagged(key))
        return [a for a in service_arns if a in tagged]


@dataclass
class FakeHookAws:
    """The gateways the lifecycle hook is handed, in memory."""

    clock: Clock
    services: FakeServiceRevisions = field(default_factory=FakeServiceRevisions)
    target_groups: FakeTargetGroups = field(default_factory=FakeTargetGroups)
    metrics: FakeAlbMetrics = field(default_factory=FakeAlbMetrics)
    queue: FakeActionQueue = field(default_factory=FakeActionQueue)
    dry_run: bool = False

    @property
    def tagging(self) -> FakeTaggingOf:
        return FakeTaggingOf(self.services)

    def now(self) -> datetime:
        return self.clock()


def cart_service(
    tags: Mapping[str, str],
    pairs: tuple[TargetGroupPair, ...] = (TargetGroupPair(PRIMARY_TG, ALTERNATE_TG),),
) -> ServiceTraffic:
    return ServiceTraffic(SERVICE, dict(tags), pairs)


def revision(
    arn: str, target_group: str, images: Mapping[str, tuple[str, str]], task_definition: str = ""
) -> ServiceRevision:
    """`images`: container -> (image as the task definition names it, digest ECS resolved)."""
    return ServiceRevision(
        arn=arn,
        service_arn=SERVICE,
        task_definition=task_definition or f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/cart:2",
        images=tuple(ContainerImage(c, image, digest) for c, (image, digest) in images.items()),
        target_groups=(target_group,),
    )

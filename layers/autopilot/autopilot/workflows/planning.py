"""What every planner shares: the gateways it may use, and the one opt-in rule.

The rule: a planner acts only for services that opted in with a tag (`autopilot:track`, or
`autopilot:schedule` for schedules). Every other service is ignored here, before anything is
queued, so it leaves no ledger entry: the ledger is the history of services the automation
manages, not of everything an event mentions.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Protocol

from autopilot.domain.config import TRACK
from autopilot.observability import count, logger
from autopilot.ports import (
    ActionQueue,
    CloudWatchGateway,
    CodeDeployGateway,
    EcsGateway,
    FleetIndex,
    TaggingGateway,
)


class PlannerGateways(Protocol):
    """What a planning function may use; each is built on first use (a planner builds only
    the clients it needs)."""

    @property
    def ecs(self) -> EcsGateway: ...
    @property
    def tagging(self) -> TaggingGateway: ...
    @property
    def cloudwatch(self) -> CloudWatchGateway: ...
    @property
    def codedeploy(self) -> CodeDeployGateway: ...
    @property
    def queue(self) -> ActionQueue: ...
    @property
    def index(self) -> FleetIndex: ...
    @property
    def clusters(self) -> frozenset[str] | None: ...  # the managed clusters (None: all)
    def now(self) -> datetime: ...


def opted_in(
    tagging: TaggingGateway,
    among: Iterable[str] | None = None,
    *,
    key: str = TRACK,
    tagged: Collection[str] | None = None,
) -> list[str]:
    """The services that opted in with the `key` tag (in the managed clusters); with `among`,
    those of them that did, in their order, the others logged and counted as ignored.

    `tagged`: the opted-in services, when the planner listed them already (one listing per
    event: GetResources pages through every tagged service)."""
    listed = tagging.services_tagged(key) if tagged is None else tagged
    if among is None:
        return list(listed)
    wanted = set(listed)
    kept: list[str] = []
    for arn in among:
        if arn in wanted:
            kept.append(arn)
        else:
            logger.info(
                "service not opted in: ignored, no ledger entry",
                extra={"ecs_service": arn, "tag": key},
            )
            count("ServiceNotOptedIn")
    return kept

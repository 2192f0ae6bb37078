"""The fleet index kept fresh, and read to plan a push (what it holds, how fresh it is and why a
stale entry cannot cause a wrong change: adapters/fleet_index.py).

The index function owns it. It takes:
- `{"action": "reindex"}` (the ReindexSchedule, `autopilot local send`): the index rewritten
  from the opted-in services, every other entry removed;
- `AWS API Call via CloudTrail` for CreateService, UpdateService, DeleteService, TagResource
  and UntagResource on a service: that service read again;
- `ECS Deployment State Change` and `ECS Service Action` (a task set's steady state, for
  blue/green services): the services they name read again.

Reading a service again: its tags first (a service that did not opt in, or is outside the
managed clusters, is never described: its entry, if any, is removed), then DescribeServices
for its running revision. A call that failed (CloudTrail's `errorCode`) changed nothing and
is ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

from msgspec import field

from autopilot.domain.config import TRACK
from autopilot.domain.fleet_index import (
    IndexChange,
    IndexEntry,
    called_service,
    changes,
    repositories_used,
)
from autopilot.models.base import Model
from autopilot.models.events import AtLeastOne, EventBridgeEvent, IgnoredEvent
from autopilot.observability import count, logger

if TYPE_CHECKING:
    from collections.abc import Iterable
    from datetime import datetime

    from autopilot.domain.fleet import Service
    from autopilot.ports import EcsGateway, FleetIndex, TaggingGateway

API_CALLS = ("CreateService", "UpdateService", "DeleteService", "TagResource", "UntagResource")


class IndexGateways(Protocol):
    """What keeping and reading the index uses (a planner's gateways have them all)."""

    @property
    def ecs(self) -> EcsGateway: ...
    @property
    def tagging(self) -> TaggingGateway: ...
    @property
    def index(self) -> FleetIndex: ...
    def now(self) -> datetime: ...


# -- what the index function is sent ----------------------------------------------------------


class ReindexDocument(Model, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the ReindexSchedule delivers: `{"action": "reindex"}`."""

    action: Literal["reindex"]


class ApiCallDetail(Model, frozen=True, kw_only=True):
    """The CloudTrail record of one ECS API call, as EventBridge delivers it."""

    eventSource: Literal["ecs.amazonaws.com"]  # noqa: N815 - AWS's field names
    eventName: str  # noqa: N815
    awsRegion: str  # noqa: N815
    recipientAccountId: str = ""  # noqa: N815
    errorCode: str | None = None  # noqa: N815
    requestParameters: dict[str, Any] | None = None  # noqa: N815
    responseElements: dict[str, Any] | None = None  # noqa: N815


class EcsApiCallEvent(EventBridgeEvent, frozen=True, kw_only=True):
    detail_type: Literal["AWS API Call via CloudTrail"] = field(name="detail-type")
    source: Literal["aws.ecs"]
    detail: ApiCallDetail


class EcsServiceEvent(EventBridgeEvent, frozen=True, kw_only=True):
    """ECS's own events about services; only the services they name are used."""

    detail_type: Literal["ECS Deployment State Change", "ECS Service Action"] = field(
        name="detail-type"
    )
    source: Literal["aws.ecs"]
    resources: AtLeastOne


IndexEvent = ReindexDocument | EcsApiCallEvent | EcsServiceEvent


def parse_index_event(event: object) -> IndexEvent:
    """A schedule document has no `detail-type`; EventBridge events are told apart by theirs.
    Malformed input raises `Invalid` (the handler keeps it as a dead letter)."""
    if not isinstance(event, Mapping) or "detail-type" not in event:
        return ReindexDocument.parse(event)
    if event.get("detail-type") == "AWS API Call via CloudTrail":
        return EcsApiCallEvent.parse(event)
    return EcsServiceEvent.parse(event)


def on_index_event(event: IndexEvent, aws: IndexGateways) -> dict[str, Any]:
    if isinstance(event, ReindexDocument):
        done = reindex(aws)
        return {
            "reindexed": len(done.entries),
            "changed": done.changed,
            "removed": done.removed,
        }
    return refresh(_services_named(event), aws)


def _services_named(event: EcsApiCallEvent | EcsServiceEvent) -> list[str]:
    if isinstance(event, EcsServiceEvent):
        services = [arn for arn in event.resources if ":service/" in arn]
        if not services:
            raise IgnoredEvent("the ECS event names no service")
        return services
    detail = event.detail
    if detail.eventName not in API_CALLS:
        raise IgnoredEvent(f"{detail.eventName} does not change what the index knows")
    if detail.errorCode:
        raise IgnoredEvent(f"{detail.eventName} failed ({detail.errorCode}): nothing changed")
    arn = called_service(
        detail.eventName,
        detail.requestParameters or {},
        detail.responseElements or {},
        detail.recipientAccountId or event.account,
        detail.awsRegion,
    )
    if arn is None:
        raise IgnoredEvent(f"{detail.eventName} is not about a service")
    return [arn]


# -- keeping it fresh -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reindexed:
    entries: list[IndexEntry]
    changed: int
    removed: int


def _entry(ecs: EcsGateway, arn: str, revision: str, previous: IndexEntry | None) -> IndexEntry:
    """The service's entry for the revision it runs: the index's own when it names that
    revision (revisions never change), else read from the task definition."""
    if previous is not None and previous.task_definition_arn == revision:
        return previous
    definition, _ = ecs.task_definition(revision)
    return IndexEntry(arn, revision, repositories_used(definition))


def reindex(aws: IndexGateways) -> Reindexed:
    """Rewrite the index from the opted-in services (GetResources on `autopilot:track`, in the
    managed clusters), remove every other entry, and mark it built. Only the task definitions
    of revisions the index does not know yet are read."""
    running = aws.ecs.running_revisions(aws.tagging.services_tagged(TRACK))
    current = aws.index.entries()
    wanted = [_entry(aws.ecs, arn, rev, current.get(arn)) for arn, rev in sorted(running.items())]
    found = changes(current, wanted)
    aws.index.apply(found)
    aws.index.mark_built(aws.now())
    removed = sum(1 for c in found if c.entry is None)
    logger.info(
        "fleet index rebuilt",
        extra={"services": len(wanted), "changed": len(found) - removed, "removed": removed},
    )
    count("FleetReindexed")
    return Reindexed(wanted, len(found) - removed, removed)


def refresh(service_arns: Iterable[str], aws: IndexGateways) -> dict[str, Any]:
    """Read the services again and bring their entries up to date."""
    arns = sorted(set(service_arns))
    opted = aws.tagging.tagged_among(arns, TRACK)
    running = aws.ecs.running_revisions(opted) if opted else {}
    found: list[IndexChange] = []
    for arn in arns:
        previous = aws.index.entry(arn)
        revision = running.get(arn)
        entry = _entry(aws.ecs, arn, revision, previous) if revision else None
        if previous != entry:
            found.append(IndexChange(previous, entry))
    aws.index.apply(found)
    for change in found:
        arn = (change.entry or change.previous or IndexEntry("", "", frozenset())).service_arn
        logger.info(
            "fleet index updated",
            extra={"ecs_service": arn, "removed": change.entry is None},
        )
    count("FleetIndexUpdated", len(found))
    changed = {
        (c.entry or c.previous or IndexEntry("", "", frozenset())).service_arn for c in found
    }
    return {
        "indexed": sorted(c.entry.service_arn for c in found if c.entry is not None),
        "removed": sorted(c.previous.service_arn for c in found if c.entry is None and c.previous),
        "unchanged": [arn for arn in arns if arn in running and arn not in changed],
        # no autopilot:track tag now (or outside the managed clusters, or gone): never read
        "not_opted_in": [arn for arn in arns if arn not in opted and arn not in changed],
    }


# -- reading it -------------------------------------------------------------------------------


def following(repository: str, aws: IndexGateways) -> list[Service]:
    """The opted-in services that may use the repository (a repository key), described fresh
    with their tags. The first push after the index was never built builds it."""
    if aws.index.built_at() is None:
        reindex(aws)
    candidates = aws.index.services_for(repository)
    opted = aws.tagging.tagged_among(candidates, TRACK) if candidates else []
    return aws.ecs.describe_services(opted) if opted else []

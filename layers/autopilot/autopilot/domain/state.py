"""What the automation remembers about a service between events (the ledger's STATE item)."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

import msgspec

from autopilot.domain.capacity import Parked, Scaled
from autopilot.domain.fleet import ImagePush
from autopilot.domain.images import InvalidImageReferenceError, parse_image
from autopilot.records import replace

KNOWN_GOOD_KEPT = 5  # enough to step back past a bad release or two
# A deployment that never reported its end stops counting as "just deployed" after this long,
# whatever ECS says: an alarm days later is not about it.
IN_PROGRESS_CAP = timedelta(hours=2)


class DeploymentState(StrEnum):
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    FAILED = "failed"
    SUPERSEDED = "superseded"  # someone else deployed another revision meanwhile


class KnownGood(msgspec.Struct, frozen=True):
    """A revision that ran well: a completed deployment, or what ran before the first one."""

    task_definition: str
    images: tuple[str, ...]  # the revision's images that are pinned by digest
    recorded_at: datetime
    source: str  # deployment-completed | baseline | operator

    @property
    def digests(self) -> frozenset[str]:
        return digests_of(self.images)


class Deployment(msgspec.Struct, frozen=True):
    """The latest deployment the automation started on the service."""

    action_id: str
    kind: str  # deploy | rollback
    deployment_id: str
    task_definition: str
    images: tuple[str, ...]
    started_at: datetime
    state: DeploymentState = DeploymentState.IN_PROGRESS
    finished_at: datetime | None = None
    # How the change was made: update-service | codedeploy | codedeploy-stop (a blue/green
    # deployment stopped with rollback: its end event is the rollback completing) |
    # stop-service-deployment | already-rolling-back (ECS's own blue/green, linear or canary
    # deployment, stopped with rollback by the automation or already by ECS).
    via: str = "update-service"
    # Completed while the service ran no task (parked): it proves nothing until tasks have run
    # for the bake time; `serving_since` is when they started (unpark).
    unproven: bool = False
    serving_since: datetime | None = None
    # A rollback: when what triggered it happened (the alarm's time), to say how long it took.
    triggered_at: datetime | None = None


class HeldPush(msgspec.Struct, frozen=True):
    """The newest push that was held back from the service, and why (alarm, scan)."""

    push: ImagePush
    held_at: datetime
    code: str  # alarm-firing | scan-pending
    reason: str
    notified: bool = False  # a hold that can last forever is told once


class ServiceState(msgspec.Struct, frozen=True):
    service_arn: str
    known_good: tuple[KnownGood, ...] = ()  # newest first
    latest: Deployment | None = None
    rollbacks: tuple[datetime, ...] = ()
    paused: bool = False
    frozen: bool = False
    frozen_reason: str = ""
    parked: Parked | None = None
    scaled: Scaled | None = None
    held: HeldPush | None = None
    version: int = 0  # optimistic lock: a write must see the version it read

    def remember_good(self, good: KnownGood) -> ServiceState:
        others = tuple(k for k in self.known_good if k.task_definition != good.task_definition)
        return replace(self, known_good=(good, *others)[:KNOWN_GOOD_KEPT])

    def forget_digests(self, digests: frozenset[str] | set[str]) -> ServiceState:
        """Revisions that contain a bad digest are no longer good."""
        kept = tuple(k for k in self.known_good if not digests.intersection(k.digests))
        return replace(self, known_good=kept)

    def rollbacks_since(self, since: datetime) -> tuple[datetime, ...]:
        return tuple(t for t in self.rollbacks if t >= since)

    def in_bake_window(self, now: datetime, bake_minutes: int) -> bool:
        """An automated deploy is in progress (for at most IN_PROGRESS_CAP), or has served
        traffic for less than `bake_minutes` since it completed (or, completed while parked,
        since its tasks started)."""
        latest = self.latest
        if latest is None or latest.kind != "deploy":
            return False
        if latest.state is DeploymentState.IN_PROGRESS:
            return now - latest.started_at <= IN_PROGRESS_CAP
        if latest.state is not DeploymentState.COMPLETED:
            return False
        since = latest.serving_since if latest.unproven else latest.finished_at
        return since is not None and now - since <= timedelta(minutes=bake_minutes)

    def completed_at(self) -> datetime | None:
        latest = self.latest
        return latest.finished_at if latest and latest.state is DeploymentState.COMPLETED else None


def digests_of(images: tuple[str, ...] | list[str]) -> frozenset[str]:
    found = set()
    for image in images:
        try:
            digest = parse_image(image).digest
        except InvalidImageReferenceError:
            continue
        if digest:
            found.add(digest)
    return frozenset(found)


def pinned_images(images: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """The images among these that name a digest, sorted."""
    return tuple(sorted(i for i in images if digests_of([i])))

"""Rolling a service back to a revision that worked, and nothing else.

When in doubt the decision is to notify, never to guess: no known-good revision, outside the
bake window, rollback turned off, a frozen service, all end in a notification.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from autopilot.domain.decisions import Skip
from autopilot.domain.deploy import managed_config
from autopilot.domain.fleet import Service, task_definition_label
from autopilot.domain.state import (
    DeploymentState,
    KnownGood,
    ServiceState,
    digests_of,
    pinned_images,
)

FREEZE_WINDOW = timedelta(hours=1)


class RollBack(msgspec.Struct, frozen=True):
    target: KnownGood
    bad_digests: tuple[str, ...]


class NotifyOnly(msgspec.Struct, frozen=True):
    """Someone should look; the automation will not act on its own."""

    reason: str
    code: str


RollbackDecision = RollBack | NotifyOnly | Skip


def decide_automatic_rollback(
    service: Service, state: ServiceState, now: datetime, quarantined: set[str]
) -> RollbackDecision:
    """An alarm fired for this service: roll back only what the automation just deployed."""
    managed = managed_config(service)
    if isinstance(managed, Skip):
        return managed
    config, _ = managed
    latest = state.latest
    if latest is not None and latest.kind == "rollback":
        # The same alarm again, another alarm, or flapping: one rollback is enough.
        return Skip(
            f"already rolled back to {task_definition_label(latest.task_definition)}: one "
            "rollback per bad deploy; the next push deploys again (autopilot history "
            f"{service.label} shows it; autopilot rollback {service.label} --to REVISION "
            "picks another revision)",
            "already-rolled-back",
        )
    if not config.rollback:
        return NotifyOnly("autopilot:rollback is off", "rollback-off")
    if state.paused:
        return NotifyOnly(f"service is paused: autopilot resume {service.label} lifts it", "paused")
    if state.frozen:
        return NotifyOnly(
            f"service is frozen ({state.frozen_reason}): autopilot resume {service.label} lifts it",
            "frozen",
        )
    # A blue/green deployment in flight has not switched the service's revision yet.
    in_flight = (
        service.deployment_controller == "CODE_DEPLOY"
        and latest is not None
        and latest.state is DeploymentState.IN_PROGRESS
    )
    if latest is None or (not in_flight and latest.task_definition != service.task_definition_arn):
        return NotifyOnly(
            "the service does not run a revision the automation deployed", "not-automated"
        )
    if latest.state is DeploymentState.FAILED:
        return NotifyOnly("the deployment already failed; ECS handles its own rollback", "failed")
    if not state.in_bake_window(now, config.bake_minutes):
        return NotifyOnly(
            f"outside the bake window ({config.bake_minutes} minutes after the last "
            "automated deployment): not rolling back on its own",
            "outside-bake-window",
        )
    if in_flight:
        # Stopping the deployment sends traffic back to the original task set.
        original = KnownGood(
            task_definition=service.task_definition_arn,
            images=pinned_images([c.image for c in service.containers]),
            recorded_at=now,
            source="original-task-set",
        )
        return RollBack(original, tuple(sorted(latest_digests(state) - original.digests)))
    return _roll_back_from(service, state, quarantined, current_digests=latest_digests(state))


def decide_operator_rollback(
    service: Service,
    state: ServiceState,
    quarantined: set[str],
    current_digests: frozenset[str],
    requested: KnownGood | None = None,
    *,
    quarantine_forward: bool = False,
) -> RollbackDecision:
    """An operator asked: bake window, pause and freeze do not apply; the target must exist.
    Going forward (`--to` a newer revision) leaves images that were not shown bad, so they are
    quarantined only when the operator says so."""
    if requested is not None:
        if requested.task_definition == service.task_definition_arn:
            return Skip("the service already runs that revision", "already-running")
        forward = _revision(requested.task_definition) > _revision(service.task_definition_arn)
        if forward and not quarantine_forward:
            return RollBack(requested, ())
        bad = tuple(sorted(current_digests - requested.digests))
        return RollBack(requested, bad)
    return _roll_back_from(service, state, quarantined, current_digests)


def _roll_back_from(
    service: Service,
    state: ServiceState,
    quarantined: set[str],
    current_digests: frozenset[str],
) -> RollbackDecision:
    for good in state.known_good:
        if good.task_definition == service.task_definition_arn:
            continue
        if quarantined.intersection(good.digests):
            continue
        bad = tuple(sorted(current_digests - good.digests))
        return RollBack(good, bad)
    current = task_definition_label(service.task_definition_arn)
    return NotifyOnly(f"no known-good revision to return to from {current}", "no-known-good")


def latest_digests(state: ServiceState) -> frozenset[str]:
    return digests_of(state.latest.images) if state.latest else frozenset()


def should_freeze(state: ServiceState, now: datetime, limit: int) -> bool:
    """After `limit` rollbacks within an hour (this one included), stop deploying on its own."""
    return len(state.rollbacks_since(now - FREEZE_WINDOW)) >= limit


def _revision(task_definition_arn: str) -> int:
    """The revision number of `...:task-definition/family:N` (0 when there is none)."""
    number = task_definition_arn.rpartition(":")[2]
    return int(number) if number.isdigit() else 0

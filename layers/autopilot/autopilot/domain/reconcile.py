"""What ECS shows about the automation's own latest deployment, folded into the state.

End events get lost (the circuit breaker is off, so FAILED never comes; an event lands in the
dead-letter queue). Every action that reads the service anyway reconciles first, so a
deployment never stays "in progress" on the automation's word alone.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from autopilot.domain.fleet import Service
from autopilot.domain.state import DeploymentState, KnownGood, ServiceState
from autopilot.records import replace


class Reconciled(msgspec.Struct, frozen=True):
    state: ServiceState
    note: str  # what changed and why, for the log


def serving(service: Service) -> bool:
    """Does the service run tasks? A revision that ran none proves nothing. ECS completes a
    deployment only once the running count reached the desired count, so a completion with a
    desired count above zero means tasks ran; a parked service (desired 0) completes at once."""
    return service.desired_count > 0


def complete(state: ServiceState, at: datetime, *, with_tasks: bool) -> ServiceState:
    """The latest deployment completed: with tasks running it is known good; without, it is
    proven only once tasks have run for the bake time (see `prove`)."""
    latest = state.latest
    if latest is None:
        return state
    finished = replace(
        latest, state=DeploymentState.COMPLETED, finished_at=at, unproven=not with_tasks
    )
    state = replace(state, latest=finished)
    if not with_tasks:
        return state
    return state.remember_good(
        KnownGood(latest.task_definition, latest.images, at, "deployment-completed")
    )


def with_ecs(state: ServiceState, service: Service, now: datetime) -> Reconciled | None:
    """The state as ECS shows it, or None when there is nothing to change.

    Only for the ECS deployment controller: DescribeServices lists its deployments with their
    `rolloutState`. A deployment drops out of the list once it is neither PRIMARY nor ACTIVE."""
    latest = state.latest
    if (
        latest is None
        or latest.state is not DeploymentState.IN_PROGRESS
        or service.deployment_controller != "ECS"
    ):
        return None
    shown = service.deployment(latest.deployment_id) if latest.deployment_id else None
    if shown is None and service.task_definition_arn == latest.task_definition:
        shown = service.primary
    if shown is None or shown.task_definition != latest.task_definition:
        if service.task_definition_arn == latest.task_definition:
            return None
        superseded = replace(latest, state=DeploymentState.SUPERSEDED, finished_at=now)
        return Reconciled(
            replace(state, latest=superseded),
            "the service was deployed to another revision meanwhile",
        )
    at = shown.updated_at or now
    if shown.rollout_state == "COMPLETED":
        return Reconciled(
            complete(state, at, with_tasks=serving(service)),
            "ECS shows the deployment completed (its end event never came)",
        )
    if shown.rollout_state == "FAILED":
        failed = replace(latest, state=DeploymentState.FAILED, finished_at=at)
        return Reconciled(
            replace(state, latest=failed), "ECS shows the deployment failed (no end event came)"
        )
    return None


def with_codedeploy(state: ServiceState, status: str, now: datetime) -> Reconciled | None:
    """The state after CodeDeploy reported `status` for the latest (blue/green) deployment."""
    latest = state.latest
    if latest is None or latest.state is not DeploymentState.IN_PROGRESS:
        return None
    if status == "Succeeded":
        if latest.via == "codedeploy-stop":
            return None  # a deployment we stopped cannot succeed; wait for its end
        return Reconciled(complete(state, now, with_tasks=True), "CodeDeploy shows it succeeded")
    if status in {"Failed", "Stopped"}:
        if latest.via == "codedeploy-stop":
            # The automation stopped it with rollback: traffic is back on the original set.
            return Reconciled(
                complete(state, now, with_tasks=True), "the stopped deployment rolled back"
            )
        failed = replace(latest, state=DeploymentState.FAILED, finished_at=now)
        return Reconciled(replace(state, latest=failed), f"CodeDeploy shows it {status.lower()}")
    return None


def prove(state: ServiceState, service: Service, now: datetime, bake_minutes: int) -> ServiceState:
    """A deployment that completed while parked becomes known good once its tasks have run
    for the bake time; until then it only starts its clock when tasks run."""
    latest = state.latest
    if latest is None or latest.state is not DeploymentState.COMPLETED or not latest.unproven:
        return state
    if latest.serving_since is None:
        if not serving(service):
            return state
        return replace(state, latest=replace(latest, serving_since=now))
    if now - latest.serving_since < timedelta(minutes=bake_minutes):
        return state
    proven = replace(latest, unproven=False)
    return replace(state, latest=proven).remember_good(
        KnownGood(latest.task_definition, latest.images, now, "deployment-completed")
    )


def started_serving(state: ServiceState, now: datetime) -> ServiceState:
    """Unpark: a revision that completed while parked starts its bake time now."""
    latest = state.latest
    if latest is None or not latest.unproven or latest.serving_since is not None:
        return state
    return replace(state, latest=replace(latest, serving_since=now))

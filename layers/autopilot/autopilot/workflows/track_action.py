"""A deployment ended. If the automation started it, record how: a completed one becomes the
last known good (once it has served traffic); a failed one is recorded as failed and its new
digests are quarantined; the end of a blue/green deployment the automation itself stopped is
the rollback completing. ECS's own blue/green, linear and canary rollbacks are deployments of
their own: whichever end event comes, the stopped deployment is read from ECS, and once ECS
shows it rolled back, traffic is back on blue: recorded with how long that took.

Intent first, as everywhere: the entry is written `started` before the state changes, so a
retry after the state was saved (and the entry's write lost) finishes with what the state shows
instead of taking its own change for old news and paging nobody.
"""

from __future__ import annotations

from datetime import UTC

from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine, seconds_between
from autopilot.domain.measures import DEPLOYMENT_DURATION
from autopilot.domain.notifications import service_label, track_notification
from autopilot.domain.reconcile import complete, serving
from autopilot.domain.service_deployments import (
    ROLLBACK_FAILED,
    ROLLED_BACK,
    VIA_ALREADY,
    VIA_STOP,
)
from autopilot.domain.state import Deployment, DeploymentState, ServiceState, digests_of
from autopilot.models.actions import TrackRequest
from autopilot.observability import logger, measure
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.registry import Registration


def track(ctx: ExecutorContext, request: TrackRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, deployment_id=request.deployment_id)
    previous = ctx.previous(request)
    done = ctx.replayed(previous)
    if done is not None:
        return done
    entry = previous or ctx.entry(request, "track", deployment_id=request.deployment_id)
    state = ctx.ledger.state(request.service_arn)
    latest = state.latest
    if _ends_native_rollback(latest, previous):
        assert latest is not None
        return _native_rollback_end(ctx, request, entry, state, latest, first=not previous)
    if latest is None or latest.deployment_id != request.deployment_id:
        # Someone else's deployment (a person, a pipeline, ECS's own rollback), or old news.
        ours = (
            f"its own is {latest.deployment_id}" if latest is not None else "it has deployed none"
        )
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason=f"deployment {request.deployment_id} ({request.result}) was not started by "
            f"the automation ({ours}): nothing to record",
            code="not-ours",
        )
    entry = replace(entry, to_task_definition=latest.task_definition)
    if latest.state is not DeploymentState.IN_PROGRESS:
        if previous is None:
            return ctx.finish(
                entry,
                Outcome.SKIPPED,
                reason=f"already recorded as {latest.state.value}",
                code="already-recorded",
            )
        return _finished(ctx, request, entry, state, latest)  # this action's own change

    ctx.ledger.write(entry, first=previous is None)
    now = ctx.clock()
    if latest.via == "codedeploy-stop":
        # Stopped by the automation with rollback: its end is the rollback completing; only a
        # deployment that completed before the stop reached it leaves the new revision live.
        if request.result == "completed":
            state = replace(state, latest=replace(latest, state=DeploymentState.FAILED))
        else:
            state = complete(state, now, with_tasks=True)
    elif request.result == "completed":
        found = ctx.service_or_finish(entry)
        if isinstance(found, LedgerEntry):
            return found
        service, _ = found
        state = complete(state, now, with_tasks=serving(service))
        # From the deployment's start to ECS's event saying it completed (event time).
        took = (request.trigger_time - latest.started_at).total_seconds() * 1000
        measure(DEPLOYMENT_DURATION, "Milliseconds", max(took, 0.0))
    else:
        # Failed or stopped: never a success, even when ECS has rolled it back by itself.
        for digest in _bad_digests(state, latest):
            ctx.ledger.quarantine(
                Quarantine(digest, request.service_arn, f"deployment {request.result}", now)
            )
        failed = replace(latest, state=DeploymentState.FAILED, finished_at=now)
        state = replace(state, latest=failed).forget_digests(set(_bad_digests(state, latest)))
    state = ctx.ledger.save_state(state)
    assert state.latest is not None
    return _finished(ctx, request, entry, state, state.latest)


_NATIVE = frozenset({VIA_STOP, VIA_ALREADY})


def _ends_native_rollback(latest: Deployment | None, previous: LedgerEntry | None) -> bool:
    """The latest is the automation's stop of a service deployment, rolling back; or this is a
    retry of an attempt that took this path (its entry says so, not the state alone)."""
    if latest is None or latest.via not in _NATIVE:
        return False
    if previous is not None and previous.via:
        return previous.via in _NATIVE
    return latest.state is DeploymentState.IN_PROGRESS


def _native_rollback_end(
    ctx: ExecutorContext,
    request: TrackRequest,
    entry: LedgerEntry,
    state: ServiceState,
    latest: Deployment,
    *,
    first: bool,
) -> LedgerEntry:
    """An end event while the automation's stop of a service deployment rolls back: ECS says,
    in the stopped deployment, whether traffic is back on blue and since when, or that the
    rollback failed (on-call must look now)."""
    label = task_definition_label(latest.task_definition)
    entry = replace(entry, to_task_definition=latest.task_definition, via=latest.via)
    if latest.state is DeploymentState.IN_PROGRESS:
        shown = ctx.ecs.service_deployment(latest.deployment_id)
        if shown is None or shown.status not in {ROLLED_BACK, ROLLBACK_FAILED}:
            return ctx.finish(
                entry,
                Outcome.SKIPPED,
                reason=f"deployment {request.deployment_id} ({request.result}); the rollback "
                f"to {label} is not over yet ({shown.status if shown else 'not shown'})",
                code="rollback-under-way",
            )
        ctx.ledger.write(entry, first=first)
        if shown.status == ROLLED_BACK:
            state = complete(state, shown.finished_at or request.trigger_time, with_tasks=True)
        else:
            failed = replace(latest, state=DeploymentState.FAILED, finished_at=ctx.clock())
            state = replace(state, latest=failed)
        state = ctx.ledger.save_state(state)
        assert state.latest is not None
        latest = state.latest
    if latest.state is DeploymentState.FAILED:
        return ctx.finish(
            entry,
            Outcome.FAILED,
            reason=f"ECS could not roll back to {label}: service deployment "
            f"{latest.deployment_id.rsplit('/', 1)[-1]} is {ROLLBACK_FAILED}; look at the "
            "service now",
            code="rollback-failed",
        )
    back_at = latest.finished_at or request.trigger_time
    took = seconds_between(latest.triggered_at or latest.started_at, back_at)
    return ctx.finish(
        replace(entry, seconds_to_traffic_back=took),
        Outcome.COMPLETED,
        reason=f"rolled back: traffic is back on {label} since "
        f"{back_at.astimezone(UTC):%H:%M:%S} UTC, {took} s after what triggered it",
        code="rollback-completed",
    )


def _bad_digests(state: ServiceState, latest: Deployment) -> list[str]:
    """A failed deploy's new digests: those not in the previous known-good revision."""
    if latest.kind != "deploy":
        return []
    good = next(
        (k.digests for k in state.known_good if k.task_definition != latest.task_definition),
        frozenset(),
    )
    return sorted(digests_of(latest.images) - good)


def _finished(
    ctx: ExecutorContext,
    request: TrackRequest,
    entry: LedgerEntry,
    state: ServiceState,
    latest: Deployment,
) -> LedgerEntry:
    """Finish the entry with what the state now shows about the deployment."""
    if latest.via == "codedeploy-stop":
        if latest.state is DeploymentState.COMPLETED:
            original = task_definition_label(latest.task_definition)
            return ctx.finish(
                entry,
                Outcome.COMPLETED,
                reason="blue/green deployment stopped with rollback: traffic is back on "
                f"{original}",
                code="rollback-completed",
            )
        return ctx.finish(
            entry,
            Outcome.FAILED,
            reason="the deployment completed before it could be stopped: the new revision is "
            f"live; roll back with autopilot rollback {service_label(entry.service_arn)}",
            code="rollback-too-late",
        )
    if latest.state is DeploymentState.COMPLETED:
        reason = request.reason or "completed"
        if latest.unproven:
            reason += (
                "; the service ran no task (parked): it becomes known good once its tasks "
                "have run for the bake time"
            )
        return ctx.finish(entry, Outcome.COMPLETED, reason=reason)
    bad = _bad_digests(state, latest)
    notes = "\n".join(f"Quarantined {short_digest(d)}: autopilot release {d}" for d in bad)
    return ctx.finish(
        entry,
        Outcome.FAILED,
        reason=request.reason or f"deployment {request.result}",
        code=f"deployment-{request.result}",
        extra_text=notes,
    )


ACTION = Registration(
    model=TrackRequest, execute=track, notify=track_notification, metrics={"track": "Track"}
)

"""Park, unpark, scale and restore one service, saving and restoring its capacity exactly."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from autopilot.domain.capacity import (
    Capacity,
    Parked,
    Scaled,
    SetCapacity,
    decide_park,
    decide_unpark,
    peak_capacity,
    savings,
)
from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import Service
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.state import ServiceState
from autopilot.models.actions import CapacityRequest
from autopilot.observability import logger
from autopilot.workflows.context import ExecutorContext


def change_capacity(ctx: ExecutorContext, request: CapacityRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, kind=request.kind)
    done = ctx.already_done(request)
    if done is not None:
        return done
    entry = ctx.entry(request, request.kind)
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found
    state = ctx.ledger.state(service.arn)
    current = _current(ctx, service)
    now = ctx.clock()

    if request.kind == "park":
        local_now = now.astimezone(ZoneInfo(request.timezone))
        decision = decide_park(
            scheduling_strategy=service.scheduling_strategy,
            tags=service.tags,
            parked=state.parked,
            current=current,
            now=local_now,
            skip_dates=frozenset(request.skip_dates),
        )
        new_state = replace(state, parked=Parked(current, now))
    elif request.kind == "unpark":
        decision = decide_unpark(state.parked)
        new_state = replace(state, parked=None)
    elif request.kind == "scale":
        decision, new_state = _scale(ctx, request, service, state, current)
    else:
        decision, new_state = _restore(request, state, current)

    if isinstance(decision, Skip):
        return ctx.finish(entry, Outcome.SKIPPED, reason=decision.reason, code=decision.code)
    if ctx.dry_run:
        return ctx.finish(
            entry, Outcome.DRY_RUN, reason=f"dry run: would set {_show(decision.capacity)}"
        )
    return _apply(ctx, entry, service, state, new_state, current, decision, now)


def _apply(  # noqa: PLR0917 - one call site; these are the action's facts
    ctx: ExecutorContext,
    entry: LedgerEntry,
    service: Service,
    state: ServiceState,
    new_state: ServiceState,
    current: Capacity,
    decision: SetCapacity,
    now: datetime,
) -> LedgerEntry:
    target = decision.capacity
    # Scaling limits first, so that Application Auto Scaling does not undo the new count.
    if target.has_scaling and target.min is not None and target.max is not None:
        ctx.autoscaling.set_target(service, target.min, target.max, dict(target.suspended or {}))
    if target.desired != current.desired:
        ctx.ecs.set_desired_count(service, target.desired)
    ctx.ledger.save_state(new_state)
    reason = f"{decision.reason}: {_show(current)} -> {_show(target)}"
    hours = saved = ""
    if entry.kind == "unpark" and state.parked is not None:
        saving = savings(state.parked, now, service.task_size, ctx.prices)
        hours, saved = f"{saving.hours:.2f}", f"{saving.usd:.2f}"
        reason += (
            f"; parked {saving.hours:.1f} h, {saving.task_hours:.1f} task-hours, saved ${saved}"
        )
    return ctx.finish(
        replace(entry, hours_parked=hours, saved_usd=saved), Outcome.APPLIED, reason=reason
    )


def _scale(
    ctx: ExecutorContext,
    request: CapacityRequest,
    service: Service,
    state: ServiceState,
    current: Capacity,
) -> tuple[SetCapacity | Skip, ServiceState]:
    if state.parked is not None:
        return Skip("parked: peak capacity is not applied to a parked service", "parked"), state
    if request.minimum is None or request.maximum is None:
        return Skip("scale needs min and max", "invalid-request"), state
    target = peak_capacity(current, request.minimum, request.maximum, request.desired)
    # A second peak before the first ended keeps the capacity from before the first.
    previous = state.scaled.previous if state.scaled is not None else current
    scaled = Scaled(previous=previous, scale_id=request.action_id, until=request.until)
    if request.until is not None:
        ctx.scheduler().once(
            f"autopilot-restore-{request.action_id}",
            request.until,
            {
                "action": "restore",
                "service_arn": service.arn,
                "scale_id": request.action_id,
                "execution_id": "<aws.scheduler.execution-id>",
                "scheduled_time": "<aws.scheduler.scheduled-time>",
            },
        )
    return SetCapacity(target, "scaled for a peak"), replace(state, scaled=scaled)


def _restore(
    request: CapacityRequest, state: ServiceState, current: Capacity
) -> tuple[SetCapacity | Skip, ServiceState]:
    scaled = state.scaled
    if scaled is None or scaled.scale_id != request.scale_id:
        return Skip("that peak was already ended or replaced", "superseded"), state
    if state.parked is not None:
        # Parked meanwhile: stay parked; unpark comes back to the capacity from before the peak.
        parked = replace(state.parked, capacity=scaled.previous)
        return SetCapacity(current, "peak over while parked: kept for unpark"), replace(
            state, parked=parked, scaled=None
        )
    return SetCapacity(scaled.previous, "peak over: capacity restored"), replace(state, scaled=None)


def _current(ctx: ExecutorContext, service: Service) -> Capacity:
    target = ctx.autoscaling.target(service)
    if target is None:
        return Capacity(desired=service.desired_count)
    minimum, maximum, suspended = target
    return Capacity(desired=service.desired_count, min=minimum, max=maximum, suspended=suspended)


def _show(capacity: Capacity) -> str:
    tasks = f"{capacity.desired} task{'' if capacity.desired == 1 else 's'}"
    if not capacity.has_scaling:
        return tasks
    suspended = (
        " (scaling suspended)" if capacity.suspended and all(capacity.suspended.values()) else ""
    )
    return f"{tasks}, min {capacity.min}, max {capacity.max}{suspended}"

"""Park, unpark, scale and restore one service, saving and restoring its capacity exactly.

Intent first: before anything changes, a STARTED ledger entry is written and, for park and
scale, the state with the snapshot to come back to. A retry of the same action finds them and
finishes what they say, instead of re-deciding from a half-changed service: it never saves a
half-changed capacity as the snapshot, never creates a second restore schedule, and ends with a
ledger entry. Every AWS call here may be repeated: each one is made only if it still changes
something, and a restore schedule that already exists is the one an earlier attempt made.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from autopilot.domain.capacity import (
    Capacity,
    Parked,
    Scaled,
    SetCapacity,
    decide_park,
    decide_unpark,
    parked_capacity,
    peak_capacity,
    savings,
)
from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import Service
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import capacity_notification
from autopilot.domain.reconcile import started_serving
from autopilot.domain.state import ServiceState
from autopilot.models.actions import CapacityRequest
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.registry import Registration

# A peak must outlast the time it takes to set it up, or its end could not be scheduled.
_SETUP = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class _Plan:
    """The capacity to set, and the state to record with it."""

    change: SetCapacity
    # None: the state already says it (an earlier attempt recorded it).
    state: ServiceState | None
    # True: the state holds the snapshot to come back to, so it is written before anything
    # changes. False: it is cleared only once the capacity is back (unpark, restore).
    record_first: bool
    # A peak with an end: when, and what the one-off schedule delivers then.
    restore: tuple[datetime, dict[str, Any]] | None = None
    outcome: Outcome = Outcome.APPLIED
    code: str = ""
    note: str = ""  # appended to the ledger reason


@dataclass(frozen=True, slots=True)
class _Done:
    """An earlier attempt made the change and recorded it, but not how the action ended."""

    reason: str


def change_capacity(ctx: ExecutorContext, request: CapacityRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, kind=request.kind)
    previous = ctx.previous(request)
    done = ctx.replayed(previous)
    if done is not None:
        return done
    found = ctx.service_or_finish(ctx.entry(request, request.kind))
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found
    state = ctx.ledger.state(service.arn)
    current = _current(ctx, service)
    now = ctx.clock()

    plan = _plan(request, service, state, current, now, previous)
    if isinstance(plan, Skip):
        return ctx.finish(entry, Outcome.SKIPPED, reason=plan.reason, code=plan.code)
    if isinstance(plan, _Done):
        return ctx.finish(previous or entry, Outcome.APPLIED, reason=plan.reason)
    if request.kind == "unpark" and state.parked is not None:
        entry, plan = _with_savings(ctx, entry, plan, state.parked, service, now)
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason=f"dry run: would {_describe(plan)}")

    # Side effects from here on, and only here: intent first.
    if previous is None:
        ctx.ledger.write(entry, first=True)
    if plan.record_first and plan.state is not None:
        ctx.ledger.save_state(plan.state)
    if plan.restore is not None:
        at, document = plan.restore
        ctx.scheduler().once(f"autopilot-restore-{request.action_id}", at, document)
    _set_capacity(ctx, service, current, plan.change.capacity)
    if not plan.record_first and plan.state is not None:
        ctx.ledger.save_state(plan.state)
    target = plan.change.capacity
    reason = f"{plan.change.reason}: {_show(current)} -> {_show(target)}{plan.note}"
    return ctx.finish(entry, plan.outcome, reason=reason, code=plan.code)


def _plan(  # noqa: PLR0917 - one call site; these are the action's facts
    request: CapacityRequest,
    service: Service,
    state: ServiceState,
    current: Capacity,
    now: datetime,
    previous: LedgerEntry | None,
) -> _Plan | Skip | _Done:
    """`previous` is this action's STARTED entry: an earlier attempt stopped after writing it."""
    if request.kind == "park":
        return _park(request, service, state, current, now, previous)
    if request.kind == "unpark":
        if state.parked is None and previous is not None:
            # The snapshot is cleared only after the capacity is back: it came back.
            return _Done("unparked: capacity restored (confirmed on retry)")
        decision = decide_unpark(state.parked)
        if isinstance(decision, Skip):
            return decision
        # A revision that completed while parked starts its bake time now (domain/reconcile).
        unparked = started_serving(replace(state, parked=None), now)
        return _Plan(decision, unparked, record_first=False)
    if request.kind == "scale":
        return _scale(request, service, state, current, now, previous)
    return _restore(request, state, current, previous)


def _park(  # noqa: PLR0917 - one call site; these are the action's facts
    request: CapacityRequest,
    service: Service,
    state: ServiceState,
    current: Capacity,
    now: datetime,
    previous: LedgerEntry | None,
) -> _Plan | Skip:
    parked = state.parked
    if previous is not None and parked is not None and parked.parked_at >= previous.trigger_time:
        # This action saved the snapshot, then stopped: park to it, whatever runs now. (Its
        # entry's trigger time, not when the entry was written: giving up rewrites that.)
        return _Plan(
            SetCapacity(parked_capacity(parked.capacity), "parked"), None, record_first=True
        )
    decision = decide_park(
        scheduling_strategy=service.scheduling_strategy,
        tags=service.tags,
        parked=parked,
        current=current,
        now=now.astimezone(ZoneInfo(request.timezone)),
        skip_dates=frozenset(request.skip_dates),
    )
    if isinstance(decision, Skip):
        return decision
    return _Plan(decision, replace(state, parked=Parked(current, now)), record_first=True)


def _scale(  # noqa: PLR0917 - one call site; these are the action's facts
    request: CapacityRequest,
    service: Service,
    state: ServiceState,
    current: Capacity,
    now: datetime,
    previous: LedgerEntry | None,
) -> _Plan | Skip:
    if request.minimum is None or request.maximum is None:
        return Skip("scale needs min and max", "invalid-request")
    scaled = state.scaled
    ours = previous is not None and scaled is not None and scaled.scale_id == request.action_id
    if ours and scaled is not None:
        # This action recorded the peak, then stopped.
        if _passed(scaled.until, now):
            return _Plan(
                SetCapacity(scaled.previous, "the peak was over before it was fully applied"),
                replace(state, scaled=None),
                record_first=False,
                outcome=Outcome.SKIPPED,
                code="until-passed",
                note="; capacity from before restored",
            )
        # The peak target of a half-changed service is the target itself (limits and
        # suspension come from the request and the service's own, desired is clamped again).
        target = peak_capacity(current, request.minimum, request.maximum, request.desired)
        return _Plan(
            SetCapacity(target, "scaled for a peak"),
            None,
            record_first=True,
            restore=_restore_document(request, service),
        )
    if state.parked is not None:
        return Skip("parked: peak capacity is not applied to a parked service", "parked")
    until = request.until
    if until is not None and _passed(until, now):
        return Skip(
            f"the peak was to end at {until.isoformat()}, before it could start", "until-passed"
        )
    target = peak_capacity(current, request.minimum, request.maximum, request.desired)
    # A second peak before the first ended keeps the capacity from before the first.
    before = scaled.previous if scaled is not None else current
    return _Plan(
        SetCapacity(target, "scaled for a peak"),
        replace(state, scaled=Scaled(before, request.action_id, request.until)),
        record_first=True,
        restore=_restore_document(request, service),
    )


def _restore_document(
    request: CapacityRequest, service: Service
) -> tuple[datetime, dict[str, Any]] | None:
    if request.until is None:
        return None
    # Scheduler fills in the context attributes; the schedule's ARN and time identify the
    # delivery, so a retried delivery is the same trigger.
    return request.until, {
        "action": "restore",
        "service_arn": service.arn,
        "scale_id": request.action_id,
        "schedule_arn": "<aws.scheduler.schedule-arn>",
        "scheduled_time": "<aws.scheduler.scheduled-time>",
        "execution_id": "<aws.scheduler.execution-id>",
    }


def _restore(
    request: CapacityRequest,
    state: ServiceState,
    current: Capacity,
    previous: LedgerEntry | None,
) -> _Plan | Skip | _Done:
    scaled = state.scaled
    if scaled is None or scaled.scale_id != request.scale_id:
        if previous is not None:
            # The peak is cleared from the state only after its capacity was restored.
            return _Done("peak over: capacity restored (confirmed on retry)")
        return Skip("that peak was already ended or replaced", "superseded")
    if state.parked is not None:
        # Parked meanwhile: stay parked; unpark comes back to the capacity from before the peak.
        parked = replace(state.parked, capacity=scaled.previous)
        return _Plan(
            SetCapacity(current, "peak over while parked: kept for unpark"),
            replace(state, parked=parked, scaled=None),
            record_first=False,
        )
    return _Plan(
        SetCapacity(scaled.previous, "peak over: capacity restored"),
        replace(state, scaled=None),
        record_first=False,
    )


def _passed(until: datetime | None, now: datetime) -> bool:
    return until is not None and until <= now + _SETUP


def _with_savings(  # noqa: PLR0917 - one call site; these are the action's facts
    ctx: ExecutorContext,
    entry: LedgerEntry,
    plan: _Plan,
    parked: Parked,
    service: Service,
    now: datetime,
) -> tuple[LedgerEntry, _Plan]:
    """Unpark: the hours parked and the money saved, in the entry from the start (a retry that
    only confirms the change finishes that entry)."""
    saving = savings(parked, now, service.task_size, ctx.prices)
    hours, saved = f"{saving.hours:.2f}", f"{saving.usd:.2f}"
    note = f"; parked {saving.hours:.1f} h, {saving.task_hours:.1f} task-hours, saved ${saved}"
    return replace(entry, hours_parked=hours, saved_usd=saved), replace(plan, note=note)


def _set_capacity(
    ctx: ExecutorContext, service: Service, current: Capacity, target: Capacity
) -> None:
    """Each call only if it still changes something, so a retry completes a change, never
    repeats it. Scaling limits first, so that Application Auto Scaling does not undo the count."""
    if target.has_scaling and target.min is not None and target.max is not None:
        same_limits = (current.min, current.max, dict(current.suspended or {})) == (
            target.min,
            target.max,
            dict(target.suspended or {}),
        )
        if not same_limits:
            ctx.autoscaling.set_target(
                service, target.min, target.max, dict(target.suspended or {})
            )
    if target.desired != current.desired:
        ctx.ecs.set_desired_count(service, target.desired)


def _current(ctx: ExecutorContext, service: Service) -> Capacity:
    target = ctx.autoscaling.target(service)
    if target is None:
        return Capacity(desired=service.desired_count)
    minimum, maximum, suspended = target
    return Capacity(desired=service.desired_count, min=minimum, max=maximum, suspended=suspended)


def _describe(plan: _Plan) -> str:
    text = f"set {_show(plan.change.capacity)}"
    if plan.restore is not None:
        text += f", and restore it at {plan.restore[0].isoformat()}"
    return text


def _show(capacity: Capacity) -> str:
    tasks = f"{capacity.desired} task{'' if capacity.desired == 1 else 's'}"
    if not capacity.has_scaling:
        return tasks
    suspended = (
        " (scaling suspended)" if capacity.suspended and all(capacity.suspended.values()) else ""
    )
    return f"{tasks}, min {capacity.min}, max {capacity.max}{suspended}"


ACTION = Registration(
    model=CapacityRequest,
    execute=change_capacity,
    notify=capacity_notification,
    metrics={"park": "Park", "unpark": "Unpark", "scale": "Scale", "restore": "Restore"},
)

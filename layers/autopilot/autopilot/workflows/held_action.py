"""An alarm tied to the service is back to OK: deploy the push it held back, if nothing else
still holds it and it has not waited too long."""

from __future__ import annotations

from datetime import timedelta

from autopilot.domain.decisions import Skip
from autopilot.domain.holds import ALARM_FIRING, HOLD_CODES, Expire, decide_resume, live_hold
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import resume_notification
from autopilot.domain.state import HeldPush
from autopilot.models.actions import DeployRequest, ResumeHeldRequest
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.deploy_action import deploy
from autopilot.workflows.registry import Registration


def resume_held(ctx: ExecutorContext, request: ResumeHeldRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, alarm=request.alarm)
    previous = ctx.previous(request)
    done = ctx.replayed(previous)
    if done is not None:
        return done
    entry = ctx.entry(request, "resume-held", reason=f"alarm {request.alarm} is back to OK")
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found

    state = ctx.ledger.state(service.arn)
    started = state.held
    if (
        previous is not None
        and previous.kind == "deploy"
        and started is not None
        and started.push.digest == previous.digest
    ):
        # An earlier attempt released the push and its deploy started (the deploy's entry is
        # this action's). That deploy may already be out, which ends the hold: re-deciding
        # now would find nothing held. Finish it instead; the deploy finds what it did.
        logger.info("finishing the deploy an earlier attempt released")
        return _deploy(ctx, request, service.arn, started)
    held = live_hold(state)
    # Only an alarm's hold asks CloudWatch again; a push that waits for its scan does not.
    waits_for_alarms = held is not None and held.code == ALARM_FIRING
    firing = ctx.cloudwatch.firing_for(service) if waits_for_alarms else ()
    decision = decide_resume(state, firing, ctx.clock(), timedelta(hours=ctx.held_max_hours))
    if held is not None:
        push = held.push
        entry = replace(entry, repository=push.repository, digest=push.digest, tag=push.tag)
    if isinstance(decision, Skip):
        return ctx.finish(entry, Outcome.SKIPPED, reason=decision.reason, code=decision.code)
    if isinstance(decision, Expire):
        if not ctx.dry_run:
            ctx.ledger.save_state(replace(state, held=None))
        return ctx.finish(entry, Outcome.NOTIFIED, reason=decision.reason, code="hold-expired")

    return _deploy(ctx, request, service.arn, decision.held)


def _deploy(
    ctx: ExecutorContext, request: ResumeHeldRequest, service_arn: str, held: HeldPush
) -> LedgerEntry:
    # The same action id: this action's ledger entry is the deploy's, and a retry finds it.
    result = deploy(
        ctx,
        DeployRequest(
            action_id=request.action_id,
            service_arn=service_arn,
            trigger="alarm-ok",
            trigger_id=request.trigger_id,
            trigger_time=request.trigger_time,
            push=held.push,
        ),
    )
    if not ctx.dry_run and not (result.outcome is Outcome.SKIPPED and result.code in HOLD_CODES):
        # Held again (another alarm fired meanwhile): the deploy remembered it; keep that.
        _forget(ctx, service_arn, held)
    return result


def _forget(ctx: ExecutorContext, service_arn: str, held: HeldPush) -> None:
    """Clear the hold once the deploy was decided (a crash before leaves the push held for the
    next OK, and the deploy's own ledger entry makes that retry a replay); a hold that changed
    meanwhile is not this action's to clear."""
    state = ctx.ledger.state(service_arn)
    if state.held == held:
        ctx.ledger.save_state(replace(state, held=None))


ACTION = Registration(
    model=ResumeHeldRequest,
    execute=resume_held,
    notify=resume_notification,
    metrics={"resume-held": "Resume-Held"},
)

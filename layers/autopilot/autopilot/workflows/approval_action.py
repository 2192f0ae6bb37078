"""An operator's `autopilot approve` or `autopilot reject`: answer the deployment paused at the
service's PAUSE hook with ContinueServiceDeployment (CONTINUE or ROLLBACK).

Which deployment and which hook is read from ECS when the action runs, never taken from the
message: the newest deployment in progress with a PAUSE hook AWAITING_ACTION. Intent first: the
entry names the deployment and the hook before the call, so a retry (the call went through and
its answer, or the ledger write after it, was lost) asks ECS how that hook stands and records
what happened instead of answering again; only a hook still awaiting action is answered. Who
decided is SQS's authenticated SenderId (`requested_by`). A reject quarantines the digests the
rejected revision brought, as an alarm's rollback does.
"""

from __future__ import annotations

from autopilot.domain.approvals import (
    ACTIONS,
    HOOK_ENDED,
    NOTHING_WAITING,
    after_answer,
    waiting,
)
from autopilot.domain.config import TRACK
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import approval_notification, service_label
from autopilot.domain.service_deployments import ONGOING
from autopilot.domain.state import digests_of
from autopilot.models.actions import ApprovalRequest
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.ecs_rollback import ecs_rolls_back, pinned
from autopilot.workflows.quarantine import quarantine
from autopilot.workflows.registry import Registration


def answer(ctx: ExecutorContext, request: ApprovalRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn)
    earlier = ctx.previous(request)
    done = ctx.replayed(earlier)
    if done is not None:
        return done
    if earlier is not None and earlier.hook_id:
        return _retry(ctx, request, earlier)
    entry = ctx.entry(request, request.kind)
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found
    if TRACK not in service.tags:
        # IAM cannot bound ContinueServiceDeployment by the service's tags (a service
        # deployment is not known to carry them): only opted-in services are answered.
        return ctx.finish(
            entry,
            Outcome.REFUSED,
            reason=f"{service.label} does not carry autopilot:track: not managed",
            code="not-opted-in",
        )
    paused = (
        waiting(ctx.ecs.service_deployments(service, ONGOING)) if service.shifts_traffic else None
    )
    if paused is None:
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason=f"nothing is waiting for approval on {service.label}: no deployment is "
            "paused at a PAUSE hook",
            code=NOTHING_WAITING,
        )
    deployment = paused.deployment
    source = deployment.sources[0] if deployment.sources else service.task_definition_arn
    new = sorted(digests_of(pinned(ctx, deployment.target)) - digests_of(pinned(ctx, source)))
    entry = replace(
        entry,
        from_task_definition=deployment.target,
        to_task_definition=deployment.target if request.kind == "approve" else source,
        deployment_id=deployment.arn,
        hook_id=paused.hook.hook_id,
        digest=new[0] if len(new) == 1 else "",
        quarantine=tuple(new) if request.kind == "reject" else (),
        via="continue-service-deployment",
        strategy=service.rollout,
        reason=f"at {paused.stage}",
    )
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason=f"dry run: would {request.kind}")
    ctx.ledger.write(entry, first=earlier is None)
    return _call(ctx, request, service.arn, entry)


def _call(
    ctx: ExecutorContext, request: ApprovalRequest, service_arn: str, entry: LedgerEntry
) -> LedgerEntry:
    try:
        ctx.ecs.continue_service_deployment(
            entry.deployment_id, entry.hook_id, ACTIONS[request.kind]
        )
    except PermanentFailureError as exc:
        # The hook may have moved on meanwhile (timed out, answered by someone else): ECS knows.
        shown = after_answer(
            request.kind, ctx.ecs.service_deployment(entry.deployment_id), entry.hook_id
        )
        if shown is not None and shown.done:
            # What was asked happened anyway (a reject whose pause timed out into a rollback):
            # recorded as done, a reject's digests quarantined, as on a retry.
            return _answered(ctx, request, service_arn, entry, f"; {exc}; {shown.note}")
        note = shown.note if shown is not None else str(exc)
        return ctx.finish(entry, Outcome.REFUSED, reason=f"{exc}; {note}", code=exc.code)
    return _answered(ctx, request, service_arn, entry, "")


def _retry(ctx: ExecutorContext, request: ApprovalRequest, entry: LedgerEntry) -> LedgerEntry:
    """An earlier attempt named the hook: answer it only if it still awaits action."""
    shown = after_answer(
        request.kind, ctx.ecs.service_deployment(entry.deployment_id), entry.hook_id
    )
    if shown is None:
        logger.info("the hook still awaits action: answering it")
        return _call(ctx, request, entry.service_arn, entry)
    if shown.done:
        logger.info("an earlier attempt already answered the hook: recording it")
        return _answered(
            ctx, request, entry.service_arn, entry, f"; confirmed on retry: {shown.note}"
        )
    return ctx.finish(
        entry,
        Outcome.SKIPPED,
        reason=f"the pause ended before the {request.kind} was sent: {shown.note}",
        code=HOOK_ENDED,
    )


def _answered(
    ctx: ExecutorContext,
    request: ApprovalRequest,
    service_arn: str,
    entry: LedgerEntry,
    note: str,
) -> LedgerEntry:
    who = request.requested_by or request.trigger_id
    # The intent names the stage ("at STAGE"); an entry resumed after giving up says why it failed.
    stage = entry.reason if entry.reason.startswith("at ") else "at its PAUSE hook"
    revision = task_definition_label(entry.from_task_definition)
    if request.kind == "approve":
        return ctx.finish(
            entry,
            Outcome.APPLIED,
            reason=f"approved by {who}: {revision} continues from {stage.removeprefix('at ')}"
            + note,
        )
    why = f"rejected by {who}"
    quarantine(ctx, service_arn, entry.quarantine, f"{why} at its approval gate", ctx.clock())
    # As after a rollback: the source revision is the latest, the rejected digests are no
    # longer good, and the rollback's end is tracked.
    ecs_rolls_back(
        ctx,
        service_arn=service_arn,
        action_id=request.action_id,
        deployment_arn=entry.deployment_id,
        to_task_definition=entry.to_task_definition,
        triggered_at=request.trigger_time,
        forget=entry.quarantine,
    )
    label = service_label(service_arn)
    return ctx.finish(
        entry,
        Outcome.ROLLED_BACK,
        reason=f"{why} {stage}: ECS rolls {label} back to "
        f"{task_definition_label(entry.to_task_definition)}" + note,
        extra_text="\n".join(
            f"Quarantined {short_digest(d)}: autopilot release {d}" for d in entry.quarantine
        ),
    )


ACTION = Registration(
    model=ApprovalRequest,
    execute=answer,
    notify=approval_notification,
    metrics={"approve": "Approve", "reject": "Reject"},
)

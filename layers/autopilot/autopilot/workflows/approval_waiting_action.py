"""A deployment waits for approval: tell people what waits, where, until when, and how to
answer it.

Queued for each `ECS Hook State Change` event of an opted-in service. AWS does not document
that event's detail fields, so nothing in it decides anything: the service comes from the
envelope's `resources`, and the deployment, the hook, its stage, expiry and timeout action are
read from DescribeServiceDeployments. An event of a hook that is not a PAUSE hook awaiting
action (a Lambda hook, a hook answered meanwhile) tells nobody. Each hook is told once, however
many events name it: the hook's id is claimed in the ledger before anyone is told.
"""

from __future__ import annotations

from datetime import timedelta

from autopilot.domain.approvals import NOTHING_WAITING, waiting, waiting_reason
from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import approval_notification
from autopilot.domain.service_deployments import ONGOING
from autopilot.domain.state import digests_of
from autopilot.models.actions import ApprovalWaitingRequest
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.ecs_rollback import pinned
from autopilot.workflows.registry import Registration

# Longer than a PAUSE hook can wait (14 days), so a hook is told once for all its life.
_TOLD_FOR = timedelta(days=15)


def tell_waiting(ctx: ExecutorContext, request: ApprovalWaitingRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn)
    done = ctx.already_done(request)
    if done is not None:
        return done
    entry = ctx.entry(request, request.kind)
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found
    try:
        gated = read_config(service.tags).approve
    except InvalidConfigError:
        gated = False
    paused = waiting(ctx.ecs.service_deployments(service, ONGOING)) if gated else None
    if paused is None:
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason=f"nothing is waiting for approval on {service.label}",
            code=NOTHING_WAITING,
        )
    deployment = paused.deployment
    source = deployment.sources[0] if deployment.sources else ""
    entry = replace(
        entry,
        from_task_definition=source,
        to_task_definition=deployment.target,
        deployment_id=deployment.arn,
        hook_id=paused.hook.hook_id,
        quarantine=(),
        strategy=service.rollout,
    )
    now = ctx.clock()
    if not ctx.ledger.first_within(
        service.arn, f"approval-waiting#{paused.hook.hook_id}", _TOLD_FOR, now, request.action_id
    ):
        # Told already: the revisions' images are not read again for every event of the hook.
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason=f"already told that hook {paused.hook.hook_id} waits",
            code="already-told",
        )
    before = digests_of(pinned(ctx, source)) if source else frozenset()
    new = sorted(digests_of(pinned(ctx, deployment.target)) - before)
    entry = replace(entry, digest=new[0] if len(new) == 1 else "")
    digests = ", ".join(new) or "no new digest"
    return ctx.finish(
        entry,
        Outcome.NOTIFIED,
        reason=waiting_reason(paused, now),
        extra_text=f"Images it brings: {digests}.",
    )


ACTION = Registration(
    model=ApprovalWaitingRequest,
    execute=tell_waiting,
    notify=approval_notification,
    metrics={"approval-waiting": "ApprovalWaiting"},
)

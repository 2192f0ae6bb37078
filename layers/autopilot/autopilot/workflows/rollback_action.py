"""Roll a service back to a known-good revision, quarantine what was bad, freeze on a storm."""

from __future__ import annotations

from dataclasses import replace

from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import Service, short_digest, task_definition_label
from autopilot.domain.images import ecr_location, parse_image
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.notifications import service_label
from autopilot.domain.rollback import (
    FREEZE_WINDOW,
    NotifyOnly,
    RollBack,
    decide_automatic_rollback,
    decide_operator_rollback,
    should_freeze,
)
from autopilot.domain.state import (
    Deployment,
    DeploymentState,
    KnownGood,
    ServiceState,
    digests_of,
    pinned_images,
)
from autopilot.models.actions import RollbackRequest
from autopilot.observability import logger
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.rollout import roll_out


def rollback(ctx: ExecutorContext, request: RollbackRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, alarm=request.alarm)
    done = ctx.already_done(request)
    if done is not None:
        return done
    why = f"alarm {request.alarm}" if request.alarm else f"requested by {request.trigger_id}"
    entry = ctx.entry(request, "rollback", reason=why)
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found

    state = ctx.ledger.state(service.arn)
    quarantined = set(ctx.ledger.quarantined())
    if request.automatic:
        decision = decide_automatic_rollback(service, state, ctx.clock(), quarantined)
    else:
        requested = _revision(ctx, service, request.to_revision) if request.to_revision else None
        current = digests_of([c.image for c in service.containers])
        decision = decide_operator_rollback(service, state, quarantined, current, requested)

    if isinstance(decision, Skip):
        return ctx.finish(entry, Outcome.SKIPPED, reason=decision.reason, code=decision.code)
    if isinstance(decision, NotifyOnly):
        return ctx.finish(entry, Outcome.NOTIFIED, reason=decision.reason, code=decision.code)
    missing = _missing_images(ctx, decision.target)
    if missing:
        return ctx.finish(
            entry,
            Outcome.NOTIFIED,
            reason=f"the known-good image is gone from ECR: {', '.join(missing)}",
            code="image-gone",
        )
    entry = replace(entry, to_task_definition=decision.target.task_definition)
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason=f"dry run: would roll back ({why})")
    return _roll_back(ctx, request, service, state, decision, entry, why)


def _roll_back(  # noqa: PLR0917 - one call site, all of it is the action's context
    ctx: ExecutorContext,
    request: RollbackRequest,
    service: Service,
    state: ServiceState,
    decision: RollBack,
    entry: LedgerEntry,
    why: str,
) -> LedgerEntry:
    now = ctx.clock()
    ctx.ledger.write(entry, first=True)
    latest = state.latest
    if (
        service.deployment_controller == "CODE_DEPLOY"
        and latest is not None
        and latest.state is DeploymentState.IN_PROGRESS
        and latest.deployment_id
    ):
        # Blue/green: stopping with rollback shifts traffic back to the original task set.
        ctx.codedeploy.stop_deployment(latest.deployment_id)
        deployment_id = latest.deployment_id
    else:
        deployment_id = roll_out(ctx, service, decision.target.task_definition, f"rollback: {why}")

    for digest in decision.bad_digests:
        ctx.ledger.quarantine(Quarantine(digest, service.arn, f"rolled back after {why}", now))
    state = state.forget_digests(set(decision.bad_digests))
    rollbacks = (*state.rollbacks, now) if request.automatic else state.rollbacks
    state = replace(
        state,
        rollbacks=rollbacks,
        latest=Deployment(
            action_id=request.action_id,
            kind="rollback",
            deployment_id=deployment_id,
            task_definition=decision.target.task_definition,
            images=decision.target.images,
            started_at=now,
        ),
    )
    notes = [f"Quarantined {short_digest(d)}: autopilot release {d}" for d in decision.bad_digests]
    if request.automatic and should_freeze(state, now, ctx.freeze_after):
        reason = f"{len(state.rollbacks_since(now - FREEZE_WINDOW))} rollbacks within an hour"
        state = replace(state, frozen=True, frozen_reason=reason)
        notes.append(
            f"{service_label(service.arn)} is now FROZEN ({reason}): no automatic deploys "
            f"until autopilot resume {service_label(service.arn)}."
        )
    ctx.ledger.save_state(state)
    return ctx.finish(
        entry,
        Outcome.ROLLED_BACK,
        reason=f"after {why}",
        deployment_id=deployment_id,
        extra_text="\n".join(notes),
    )


def _revision(ctx: ExecutorContext, service: Service, revision: str) -> KnownGood:
    """An operator's `--to`: `family:revision`, a revision number of the service's family, or
    an ARN."""
    name = revision
    if revision.isdigit():
        family = task_definition_label(service.task_definition_arn).split(":")[0]
        name = f"{family}:{revision}"
    definition, _ = ctx.ecs.task_definition(name)
    images = [c.get("image", "") for c in definition["containerDefinitions"]]
    return KnownGood(
        task_definition=definition["taskDefinitionArn"],
        images=pinned_images(images),
        recorded_at=ctx.clock(),
        source="operator",
    )


def _missing_images(ctx: ExecutorContext, target: KnownGood) -> list[str]:
    """Pinned ECR images of the target revision that ECR no longer has."""
    missing = []
    for image in target.images:
        reference = parse_image(image)
        location = ecr_location(reference)
        if location is None or reference.digest is None:
            continue
        if ctx.ecr.image(location[0], reference.repository, reference.digest) is None:
            missing.append(f"{reference.repository}@{short_digest(reference.digest)}")
    return missing

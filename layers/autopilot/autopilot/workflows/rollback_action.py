"""Roll a service back to a known-good revision, quarantine what was bad, freeze on a storm.

Intent first, as for deploys: the entry names the target revision and the digests to
quarantine before anything changes. A retry carries out that intent (it never re-decides,
which would step one revision further back), checking with ECS or CodeDeploy whether the
change already happened, and counts the rollback toward the freeze exactly once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from autopilot.domain.decisions import Skip
from autopilot.domain.errors import NotFoundError, PermanentFailureError
from autopilot.domain.fleet import Service, short_digest, task_definition_label
from autopilot.domain.images import ecr_location, parse_image
from autopilot.domain.ledger import LedgerEntry, Outcome, seconds_between
from autopilot.domain.notifications import rollback_notification, service_label
from autopilot.domain.rollback import (
    FREEZE_WINDOW,
    NotifyOnly,
    RollBack,
    decide_automatic_rollback,
    decide_operator_rollback,
    should_freeze,
)
from autopilot.domain.service_deployments import (
    VIA_ALREADY,
    VIA_STOP,
    NativeRollback,
    StopWithRollback,
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
from autopilot.records import replace
from autopilot.workflows import native_rollback
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.ecs_rollback import pinned
from autopilot.workflows.quarantine import quarantine
from autopilot.workflows.registry import Registration
from autopilot.workflows.rollout import already_rolled_out, roll_out, via


class TaskDefinitions(Protocol):
    def revision(self, arn: str) -> dict[str, Any]: ...


def rollback(ctx: ExecutorContext, request: RollbackRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, alarm=request.alarm)
    earlier = ctx.previous(request)
    done = ctx.replayed(earlier)
    if done is not None:
        return done
    # An intent only if this workflow wrote it (it names the target); not a bare give-up entry.
    previous = earlier if earlier is not None and earlier.to_task_definition else None
    why = f"alarm {request.alarm}" if request.alarm else f"requested by {request.trigger_id}"
    entry = previous or ctx.entry(request, "rollback", reason=why)
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, fresh = found
    if previous is None:
        entry = fresh
    state = ctx.reconciled_state(service)
    if previous is not None:
        logger.info("carrying out the rollback an earlier attempt decided")
        return _carry_out(ctx, request, service, state, previous, why, retry=True)

    try:
        decision = _decide(ctx, request, service, state)
    except PermanentFailureError as exc:
        return ctx.finish(entry, Outcome.REFUSED, reason=str(exc), code=exc.code)
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
    to_stop = _deployment_to_stop(service, state)
    entry = replace(
        entry,
        to_task_definition=decision.target.task_definition,
        quarantine=decision.bad_digests,
        deployment_id=to_stop,
        via="codedeploy-stop" if to_stop else via(service),
        strategy=service.rollout,
    )
    native = native_rollback.in_flight(ctx, service, decision.target.task_definition)
    if native is not None:
        entry = _stopping(ctx, entry, native)
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason=f"dry run: would roll back ({why})")
    ctx.ledger.write(entry, first=earlier is None)
    return _carry_out(ctx, request, service, state, entry, why, retry=False)


def _decide(
    ctx: ExecutorContext, request: RollbackRequest, service: Service, state: ServiceState
) -> RollBack | NotifyOnly | Skip:
    quarantined = set(ctx.ledger.quarantined())
    if request.automatic:
        return decide_automatic_rollback(service, state, ctx.clock(), quarantined)
    requested = (
        resolve_revision(ctx.ecs, service, request.to_revision, ctx.clock())
        if request.to_revision
        else None
    )
    current = digests_of([c.image for c in service.containers])
    return decide_operator_rollback(
        service, state, quarantined, current, requested, quarantine_forward=request.quarantine
    )


def _stopping(ctx: ExecutorContext, entry: LedgerEntry, native: NativeRollback) -> LedgerEntry:
    """The intent to stop ECS's own deployment of the bad revision (or to let the rollback
    ECS already runs finish): the service ends on that deployment's source revision."""
    quarantine = entry.quarantine
    if native.to != entry.to_task_definition:
        # ECS goes back where it came from: what that revision runs is not bad.
        kept = digests_of(pinned(ctx, native.to))
        quarantine = tuple(d for d in quarantine if d not in kept)
    return replace(
        entry,
        to_task_definition=native.to,
        quarantine=quarantine,
        deployment_id=native.deployment.arn,
        via=VIA_STOP if isinstance(native, StopWithRollback) else VIA_ALREADY,
    )


def _deployment_to_stop(service: Service, state: ServiceState) -> str:
    """A blue/green deployment in flight is stopped with rollback (traffic goes back to the
    original task set) rather than followed by another deployment."""
    latest = state.latest
    if (
        service.deployment_controller == "CODE_DEPLOY"
        and latest is not None
        and latest.kind == "deploy"
        and latest.state is DeploymentState.IN_PROGRESS
        and latest.deployment_id
    ):
        return latest.deployment_id
    return ""


def _carry_out(  # noqa: PLR0917 - one call site per path, all of it is the action's context
    ctx: ExecutorContext,
    request: RollbackRequest,
    service: Service,
    state: ServiceState,
    entry: LedgerEntry,
    why: str,
    *,
    retry: bool,
) -> LedgerEntry:
    target = entry.to_task_definition
    entry = replace(entry, strategy=entry.strategy or service.rollout)
    accepted: datetime | None = None
    code = ""
    stopped = (
        native_rollback.stop(ctx, entry, retry=retry)
        if entry.via in {VIA_STOP, VIA_ALREADY}
        else None
    )
    if stopped is not None:
        accepted, code = stopped.accepted_at, stopped.code
        if stopped.note:
            why += f"; {stopped.note}"
        deployment_id, how = entry.deployment_id, entry.via
    elif entry.via == "codedeploy-stop":
        # Stopping an already stopped deployment is a no-op (the adapter says so).
        ctx.codedeploy.stop_deployment(entry.deployment_id)
        accepted = ctx.clock()
        deployment_id, how = entry.deployment_id, "codedeploy-stop"
    else:
        if entry.via in {VIA_STOP, VIA_ALREADY}:
            # The deployment ended without rolling back: the bad revision is live.
            logger.info("the service deployment completed before it could be stopped")
            why += "; its deployment had completed: rolled back with UpdateService"
            entry = replace(entry, via=via(service), deployment_id="")
            ctx.ledger.write(entry)
        # Only a retry can find its own change; its intent was recorded at `recorded_at`.
        shown = already_rolled_out(ctx, service, target, entry.recorded_at) if retry else None
        deployment_id = (
            shown if shown is not None else roll_out(ctx, service, target, f"rollback: {why}")
        )
        if shown is not None:
            logger.info("an earlier attempt already rolled back: recording it")
            why += "; confirmed on retry: ECS already showed the change"
        else:
            accepted = ctx.clock()
        how = via(service)
        entry = replace(entry, deployment_id=deployment_id)
        ctx.ledger.write(entry)
    if accepted is not None:
        entry = replace(entry, seconds_to_rollback=seconds_between(request.trigger_time, accepted))

    now = ctx.clock()
    quarantine(ctx, service.arn, entry.quarantine, f"rolled back after {why}", now)
    if state.latest is None or state.latest.action_id != request.action_id:
        state = _rolled_back(ctx, request, state, entry, how, now)
        state = ctx.ledger.save_state(state)
    notes = [f"Quarantined {short_digest(d)}: autopilot release {d}" for d in entry.quarantine]
    if request.automatic and state.frozen:
        label = service_label(service.arn)
        notes.append(
            f"{label} is now FROZEN ({state.frozen_reason}): no automatic deploys "
            f"until autopilot resume {label}."
        )
    return ctx.finish(
        entry,
        Outcome.ROLLED_BACK,
        reason=f"after {why}",
        code=code,
        deployment_id=deployment_id,
        extra_text="\n".join(notes),
    )


def _rolled_back(  # noqa: PLR0917 - the facts of one rollback
    ctx: ExecutorContext,
    request: RollbackRequest,
    state: ServiceState,
    entry: LedgerEntry,
    how: str,
    now: datetime,
) -> ServiceState:
    """The state after this rollback: its target is the latest deployment, the bad digests are
    no longer good, and an automatic rollback counts toward the freeze."""
    target_images = pinned(ctx, entry.to_task_definition)
    state = state.forget_digests(set(entry.quarantine))
    rollbacks = (*state.rollbacks, now) if request.automatic else state.rollbacks
    state = replace(
        state,
        rollbacks=rollbacks,
        latest=Deployment(
            action_id=request.action_id,
            kind="rollback",
            deployment_id=entry.deployment_id,
            task_definition=entry.to_task_definition,
            images=target_images,
            started_at=now,
            via=how,
            triggered_at=request.trigger_time,
        ),
    )
    if request.automatic and should_freeze(state, now, ctx.freeze_after):
        reason = f"{len(state.rollbacks_since(now - FREEZE_WINDOW))} rollbacks within an hour"
        state = replace(state, frozen=True, frozen_reason=reason)
    return state


def resolve_revision(
    ecs: TaskDefinitions, service: Service, revision: str, now: datetime
) -> KnownGood:
    """An operator's `--to`: `family:revision`, a revision number of the service's family, or
    an ARN. It must be a revision of the service's own family: another family runs other code
    with another task role. The CLI calls this too, to refuse before queueing."""
    family = task_definition_label(service.task_definition_arn).rsplit(":", 1)[0]
    name = f"{family}:{revision}" if revision.isdigit() else revision
    try:
        definition = ecs.revision(name)
    except NotFoundError as exc:
        raise PermanentFailureError(
            f"no task definition {name}: name a revision of {family}", "unknown-revision"
        ) from exc
    if definition.get("family") != family:
        raise PermanentFailureError(
            f"{task_definition_label(definition['taskDefinitionArn'])} is not a revision of "
            f"{family}, the family {service_label(service.arn)} runs",
            "other-family",
        )
    images = [c.get("image", "") for c in definition["containerDefinitions"]]
    return KnownGood(
        task_definition=definition["taskDefinitionArn"],
        images=pinned_images(images),
        recorded_at=now,
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


ACTION = Registration(
    model=RollbackRequest,
    execute=rollback,
    notify=rollback_notification,
    metrics={"rollback": "Rollback"},
)

"""A deployment ended. If the automation started it, record how: a completed one becomes the
last known good (once it has served traffic); a failed one is recorded as failed and its new
digests are quarantined; the end of a blue/green deployment the automation itself stopped is
the rollback completing."""

from __future__ import annotations

from dataclasses import replace

from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.notifications import service_label
from autopilot.domain.reconcile import complete, serving
from autopilot.domain.state import Deployment, DeploymentState, ServiceState, digests_of
from autopilot.models.actions import TrackRequest
from autopilot.observability import logger
from autopilot.workflows.context import ExecutorContext


def track(ctx: ExecutorContext, request: TrackRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, deployment_id=request.deployment_id)
    done = ctx.already_done(request)
    if done is not None:
        return done
    entry = ctx.entry(request, "track", deployment_id=request.deployment_id)
    state = ctx.ledger.state(request.service_arn)
    latest = state.latest
    if latest is None or latest.deployment_id != request.deployment_id:
        # Someone else's deployment (a person, a pipeline, ECS's own rollback), or old news.
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason="not a deployment the automation has in progress",
            code="not-ours",
        )
    if latest.state is not DeploymentState.IN_PROGRESS:
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason=f"already recorded as {latest.state.value}",
            code="already-recorded",
        )
    entry = replace(entry, to_task_definition=latest.task_definition)
    if latest.via == "codedeploy-stop":
        return _stopped_by_us(ctx, request, entry, state, latest)
    if request.result == "completed":
        found = ctx.service_or_finish(entry)
        if isinstance(found, LedgerEntry):
            return found
        service, _ = found
        with_tasks = serving(service)
        ctx.ledger.save_state(complete(state, ctx.clock(), with_tasks=with_tasks))
        reason = request.reason or "completed"
        if not with_tasks:
            reason += (
                "; the service ran no task (parked): it becomes known good once its tasks "
                "have run for the bake time"
            )
        return ctx.finish(entry, Outcome.COMPLETED, reason=reason)

    # Failed or stopped: never a success, even when ECS has rolled it back by itself.
    now = ctx.clock()
    previous_good = state.known_good[0].digests if state.known_good else frozenset()
    bad = sorted(digests_of(latest.images) - previous_good) if latest.kind == "deploy" else []
    for digest in bad:
        ctx.ledger.quarantine(
            Quarantine(digest, request.service_arn, f"deployment {request.result}", now)
        )
    failed = replace(latest, state=DeploymentState.FAILED, finished_at=now)
    ctx.ledger.save_state(replace(state, latest=failed).forget_digests(set(bad)))
    notes = "\n".join(f"Quarantined {short_digest(d)}: autopilot release {d}" for d in bad)
    return ctx.finish(
        entry,
        Outcome.FAILED,
        reason=request.reason or f"deployment {request.result}",
        code=f"deployment-{request.result}",
        extra_text=notes,
    )


def _stopped_by_us(
    ctx: ExecutorContext,
    request: TrackRequest,
    entry: LedgerEntry,
    state: ServiceState,
    latest: Deployment,
) -> LedgerEntry:
    """The automation stopped this blue/green deployment with rollback: its end (stopped or
    failed) is the rollback completing, not a failure to page about."""
    original = task_definition_label(entry.to_task_definition)
    if request.result == "completed":
        # It finished shifting traffic before the stop reached it: the new revision is live.
        failed = replace(latest, state=DeploymentState.FAILED, finished_at=ctx.clock())
        ctx.ledger.save_state(replace(state, latest=failed))
        return ctx.finish(
            entry,
            Outcome.FAILED,
            reason="the deployment completed before it could be stopped: the new revision is "
            f"live; roll back with autopilot rollback {service_label(entry.service_arn)}",
            code="rollback-too-late",
        )
    ctx.ledger.save_state(complete(state, ctx.clock(), with_tasks=True))
    return ctx.finish(
        entry,
        Outcome.COMPLETED,
        reason=f"blue/green deployment stopped with rollback: traffic is back on {original}",
        code="rollback-completed",
    )

"""A deployment ended. If the automation started it, record how: a completed one becomes the
last known good; a failed one is recorded as failed and its new digests are quarantined."""

from __future__ import annotations

from dataclasses import replace

from autopilot.domain.fleet import short_digest
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.state import DeploymentState, KnownGood, digests_of
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
    if (
        latest is None
        or latest.deployment_id != request.deployment_id
        or latest.state is not DeploymentState.IN_PROGRESS
    ):
        # Someone else's deployment (a person, a pipeline, ECS's own rollback), or old news.
        return ctx.finish(
            entry,
            Outcome.SKIPPED,
            reason="not a deployment the automation has in progress",
            code="not-ours",
        )
    now = ctx.clock()
    entry = replace(entry, to_task_definition=latest.task_definition)
    if request.result == "completed":
        finished = replace(latest, state=DeploymentState.COMPLETED, finished_at=now)
        state = replace(state, latest=finished).remember_good(
            KnownGood(latest.task_definition, latest.images, now, "deployment-completed")
        )
        ctx.ledger.save_state(state)
        return ctx.finish(entry, Outcome.COMPLETED, reason=request.reason or "completed")

    # Failed or stopped: never a success, even when ECS has rolled it back by itself.
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

"""Deploy a pushed image to one service: re-decide against fresh state, then act and record."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from autopilot.domain.config import read_config
from autopilot.domain.decisions import Skip
from autopilot.domain.deploy import (
    Rollout,
    containers_from_repository,
    decide_deploy,
    deploy_hold,
)
from autopilot.domain.fleet import Service
from autopilot.domain.images import parse_image
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.scan import scan_verdict
from autopilot.domain.state import Deployment, KnownGood, ServiceState, pinned_images
from autopilot.domain.taskdef import (
    UnsupportedTaskDefinitionError,
    clone_task_definition,
    writable_tags,
)
from autopilot.models.actions import DeployRequest
from autopilot.observability import logger
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.holds import finish_skip
from autopilot.workflows.rollout import PermanentFailureError, roll_out


def deploy(ctx: ExecutorContext, request: DeployRequest) -> LedgerEntry:
    push = request.push
    logger.append_keys(ecs_service=request.service_arn, digest=push.digest)
    previous = ctx.previous(request)
    done = ctx.replayed(previous)
    if done is not None:
        return done
    entry = ctx.entry(
        request, "deploy", repository=push.repository, digest=push.digest, tag=push.tag
    )

    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, entry = found

    state = ctx.ledger.state(service.arn)
    decision = _decide(ctx, request, service, state)
    if isinstance(decision, Skip):
        if previous is not None and decision.code == "already-running":
            # An earlier attempt changed the service and stopped before recording it.
            return ctx.finish(previous, Outcome.DEPLOYED, reason="confirmed on retry")
        return finish_skip(ctx, request, state, entry, decision)

    entry = replace(entry, containers=tuple(sorted(decision.images)))
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason="dry run: nothing changed")

    ctx.ledger.write(entry, first=True)
    try:
        source, tags = ctx.ecs.task_definition(service.task_definition_arn)
        clone = clone_task_definition(
            source, decision.images, ctx.ecs.writable_task_definition_fields()
        )
        new_arn = ctx.ecs.register_task_definition(clone, writable_tags(tags))
        deployment_id = roll_out(ctx, service, new_arn, f"ECS Autopilot: {push.tag}")
    except (UnsupportedTaskDefinitionError, PermanentFailureError) as exc:
        return ctx.finish(entry, Outcome.FAILED, reason=str(exc), code="invalid-revision")

    ctx.ledger.save_state(
        _started(
            state=state,
            service=service,
            decision=decision,
            request=request,
            new_arn=new_arn,
            deployment_id=deployment_id,
            now=ctx.clock(),
        )
    )
    return ctx.finish(
        entry, Outcome.DEPLOYED, to_task_definition=new_arn, deployment_id=deployment_id
    )


def _decide(
    ctx: ExecutorContext, request: DeployRequest, service: Service, state: ServiceState
) -> Rollout | Skip:
    push = request.push
    pushed = ctx.ecr.image(push.account, push.repository, push.digest)
    if pushed is None:
        return Skip("digest is no longer in ECR", "image-gone")
    running_digests = {
        digest
        for image in containers_from_repository(service, push).values()
        if (digest := parse_image(image).digest)
    }
    running = ctx.ecr.images(push.account, push.repository, running_digests)
    decision = decide_deploy(push, service, pushed, running)
    if isinstance(decision, Skip):
        return decision

    quarantined = bool(ctx.ledger.quarantined({push.digest}))
    firing = ctx.cloudwatch.firing_for(service)
    hold = deploy_hold(state, quarantined, firing)
    if hold is not None:
        return hold
    threshold = read_config(service.tags).scan_threshold
    if threshold is not None:
        scan = request.scan or ctx.ecr.scan_result(push.account, push.repository, push.digest)
        verdict = scan_verdict(threshold, scan)
        if verdict is not None:
            return verdict
    return decision


def _started(
    *,
    state: ServiceState,
    service: Service,
    decision: Rollout,
    request: DeployRequest,
    new_arn: str,
    deployment_id: str,
    now: datetime,
) -> ServiceState:
    running = {c.name: c.image for c in service.containers}
    if not state.known_good:
        # Before the first automated deploy, what ran is the only known-good revision there is,
        # provided the images being replaced are pinned by digest (a tag may have moved since).
        replaced = [running[name] for name in decision.images]
        if all(pinned_images([image]) for image in replaced):
            state = state.remember_good(
                KnownGood(
                    task_definition=service.task_definition_arn,
                    images=pinned_images(list(running.values())),
                    recorded_at=now,
                    source="baseline",
                )
            )
    new_images = {**running, **decision.images}
    return replace(
        state,
        latest=Deployment(
            action_id=request.action_id,
            kind="deploy",
            deployment_id=deployment_id,
            task_definition=new_arn,
            images=pinned_images(list(new_images.values())),
            started_at=now,
        ),
    )

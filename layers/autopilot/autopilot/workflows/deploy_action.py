"""Deploy a pushed image to one service: re-decide against fresh state, then act and record.

Intent first: the ledger entry is written STARTED before anything changes, the new revision's
ARN is added to it as soon as it exists, and the deployment id after the rollout. A retry (a
STARTED entry for this action) reconciles with what ECS shows: it finds the revision an
earlier attempt registered and the deployment it started instead of repeating either.
"""

from __future__ import annotations

from autopilot.domain.approvals import approval_gate
from autopilot.domain.config import read_config
from autopilot.domain.decisions import Skip
from autopilot.domain.deploy import (
    Rollout,
    containers_from_repository,
    decide_deploy,
    deploy_hold,
)
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.fleet import Service, short_digest, task_definition_label
from autopilot.domain.images import parse_image
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import deploy_notification
from autopilot.domain.scan import scan_verdict
from autopilot.domain.state import Deployment, KnownGood, ServiceState, pinned_images
from autopilot.domain.taskdef import (
    UnsupportedTaskDefinitionError,
    clone_task_definition,
    revision_tags,
)
from autopilot.models.actions import DeployRequest
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.holds import finish_skip
from autopilot.workflows.registry import Registration
from autopilot.workflows.rollout import already_rolled_out, roll_out, via

_CONFIRMED = "confirmed on retry: ECS already showed the change an earlier attempt made"


def deploy(ctx: ExecutorContext, request: DeployRequest) -> LedgerEntry:
    push = request.push
    logger.append_keys(ecs_service=request.service_arn, digest=push.digest)
    earlier = ctx.previous(request)
    done = ctx.replayed(earlier)
    if done is not None:
        return done
    # An earlier attempt's entry is an intent only if this workflow wrote it (it names the
    # revision the service ran); one written by giving up before that carries nothing.
    previous = earlier if earlier is not None and earlier.from_task_definition else None
    entry = previous or ctx.entry(
        request, "deploy", repository=push.repository, digest=push.digest, tag=push.tag
    )
    found = ctx.service_or_finish(entry)
    if isinstance(found, LedgerEntry):
        return found
    service, fresh = found
    if previous is None:
        entry = fresh  # the revision it runs now; a retry keeps the one from before the change
    state = ctx.reconciled_state(service)

    if previous is not None:
        revision = previous.to_task_definition or ctx.ecs.find_revision(
            _family(entry.from_task_definition), request.action_id
        )
        deployment_id = (
            already_rolled_out(ctx, service, revision, previous.recorded_at) if revision else None
        )
        if revision and deployment_id is not None:
            logger.info("an earlier attempt already deployed: recording it")
            entry = replace(entry, to_task_definition=revision)
            entry = replace(entry, reason=_CONFIRMED)
            return _record(ctx, request, service, entry, state, deployment_id)
        if revision:
            entry = replace(entry, to_task_definition=revision)

    decision = _decide(ctx, request, service, state)
    if isinstance(decision, Skip):
        return finish_skip(ctx, request, state, entry, decision)
    entry = replace(entry, containers=tuple(sorted(decision.images)))
    if ctx.dry_run:
        return ctx.finish(entry, Outcome.DRY_RUN, reason="dry run: nothing changed")

    ctx.ledger.write(entry, first=earlier is None)
    try:
        if not entry.to_task_definition:
            entry = replace(entry, to_task_definition=_register(ctx, request, service, decision))
            ctx.ledger.write(entry)
        deployment_id = roll_out(
            ctx, service, entry.to_task_definition, f"ECS Autopilot: {push.tag}"
        )
    except (UnsupportedTaskDefinitionError, PermanentFailureError) as exc:
        code = exc.code if isinstance(exc, PermanentFailureError) else "invalid-revision"
        return ctx.finish(entry, Outcome.FAILED, reason=str(exc), code=code)
    entry = replace(entry, deployment_id=deployment_id)
    ctx.ledger.write(entry)
    return _record(ctx, request, service, entry, state, deployment_id)


def _register(
    ctx: ExecutorContext, request: DeployRequest, service: Service, decision: Rollout
) -> str:
    """A new revision of the service's task definition with the containers pinned; tagged with
    the action, so that a retry finds it instead of registering another."""
    source, tags = ctx.ecs.task_definition(service.task_definition_arn)
    clone = clone_task_definition(
        source, decision.images, ctx.ecs.writable_task_definition_fields()
    )
    return ctx.ecs.register_task_definition(clone, revision_tags(tags, request.action_id))


def _record(  # noqa: PLR0917 - one action's facts
    ctx: ExecutorContext,
    request: DeployRequest,
    service: Service,
    entry: LedgerEntry,
    state: ServiceState,
    deployment_id: str,
) -> LedgerEntry:
    """The deployment is out: track it in the state (once), then finish the entry."""
    if state.latest is None or state.latest.action_id != request.action_id:
        ctx.ledger.save_state(
            _started(
                ctx,
                state=state,
                request=request,
                service=service,
                entry=entry,
                deployment_id=deployment_id,
            )
        )
    return ctx.finish(
        entry,
        Outcome.DEPLOYED,
        to_task_definition=entry.to_task_definition,
        deployment_id=deployment_id,
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
    if push.tag not in pushed.tags:
        # The message says the digest was pushed as this tag; ECR is the source of truth. The
        # tag moved on to a newer image, or it never pointed here (a forged request).
        now = ", ".join(pushed.tags) or "no tag"
        return Skip(
            f"ECR does not have {short_digest(push.digest)} tagged {push.tag} "
            f"(its tags now: {now}): superseded",
            "superseded",
        )

    quarantined = bool(ctx.ledger.quarantined({push.digest}))
    firing = ctx.cloudwatch.firing_for(service)
    hold = deploy_hold(state, quarantined, firing)
    if hold is not None:
        return hold
    config = read_config(service.tags)
    gate = approval_gate(service, config.approve)
    if gate is not None:
        return gate
    threshold = config.scan_threshold
    if threshold is not None:
        # From ECR (basic or enhanced scanning), never from the message: a request is a claim.
        scan = ctx.ecr.scan_result(push.account, push.repository, push.digest)
        verdict = scan_verdict(threshold, scan)
        if verdict is not None:
            return verdict
    return decision


def _started(
    ctx: ExecutorContext,
    *,
    state: ServiceState,
    request: DeployRequest,
    service: Service,
    entry: LedgerEntry,
    deployment_id: str,
) -> ServiceState:
    """The state with this deployment as the latest. The revisions are read by ARN (they never
    change), so a retry after the service moved computes the same state as the first attempt."""
    now = ctx.clock()
    before = _images(ctx, entry.from_task_definition)
    after = _images(ctx, entry.to_task_definition)
    if not state.known_good:
        # Before the first automated deploy, what ran is the only known-good revision there is,
        # provided the images being replaced are pinned by digest (a tag may have moved since).
        replaced = [before[name] for name in entry.containers if name in before]
        if replaced and all(pinned_images([image]) for image in replaced):
            state = state.remember_good(
                KnownGood(
                    task_definition=entry.from_task_definition,
                    images=pinned_images(list(before.values())),
                    recorded_at=now,
                    source="baseline",
                )
            )
    return replace(
        state,
        latest=Deployment(
            action_id=request.action_id,
            kind="deploy",
            deployment_id=deployment_id,
            task_definition=entry.to_task_definition,
            images=pinned_images(list(after.values())),
            started_at=now,
            via=via(service),
        ),
    )


def _images(ctx: ExecutorContext, task_definition_arn: str) -> dict[str, str]:
    definition = ctx.ecs.revision(task_definition_arn)
    return {c["name"]: c.get("image", "") for c in definition["containerDefinitions"]}


def _family(task_definition_arn: str) -> str:
    return task_definition_label(task_definition_arn).rsplit(":", 1)[0]


ACTION = Registration(
    model=DeployRequest, execute=deploy, notify=deploy_notification, metrics={"deploy": "Deploy"}
)

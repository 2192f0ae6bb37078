"""A canary verdict, recorded and told: the lifecycle hook (workflows/canary_hook.py) answered
ECS and queued its final verdict; the executor writes it to the ledger with its figures,
notifies, and when the new image was shown worse than the old one, quarantines its digest the
way a rollback does, so the next push of it is refused until `autopilot release`.

Only a regression quarantines: a canary that could not be judged (too little traffic) or not
analysed at all (no alternate target group, a bad tag, ...) proves nothing about the image.
The digests are re-read from ECS (the judged service revision), never taken from the message,
and only those of containers the deployment changed count: an unchanged sidecar is never
quarantined. One hook execution is one action (its id comes from the execution's id), so a
verdict queued twice is one ledger entry.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from autopilot.domain.canary import REGRESSIONS, Side
from autopilot.domain.canary_hook import ServiceRevision, Window, describe_side, new_digests
from autopilot.domain.errors import NotFoundError
from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import Notification
from autopilot.models.actions import ActionBase
from autopilot.models.base import Model
from autopilot.observability import logger
from autopilot.records import replace
from autopilot.workflows.quarantine import quarantine as quarantine_digests
from autopilot.workflows.registry import Registration

if TYPE_CHECKING:  # the hook, which imports this module for the request, never builds one
    from autopilot.workflows.context import ExecutorContext

KIND = "canary"
TRIGGER = "ecs-lifecycle-hook"
NOT_ANALYSED = "not-analysed"
HookStatus = Literal["SUCCEEDED", "FAILED"]


class SideFigures(Model, frozen=True, kw_only=True):
    """One target group over the window, as judged."""

    requests: int
    errors: int
    p99_seconds: float | None = None
    p95_seconds: float | None = None

    @classmethod
    def of(cls, side: Side) -> SideFigures:
        return cls(
            requests=side.requests,
            errors=side.errors,
            p99_seconds=side.p99_seconds,
            p95_seconds=side.p95_seconds,
        )

    def side(self) -> Side:
        return Side(self.requests, self.errors, self.p99_seconds, self.p95_seconds)


class CanaryVerdictRequest(ActionBase, frozen=True, kw_only=True):
    """A lifecycle hook's final verdict on a service revision (trigger_id: the hook execution)."""

    kind: Literal["canary"] = "canary"
    verdict: HookStatus
    answered: HookStatus  # what ECS was told: the verdict, or SUCCEEDED in a dry run
    code: str  # domain.canary codes, or not-analysed
    reason: str
    stage: str  # the lifecycle stage judged
    deployment: str  # the service deployment's ARN (the invocation's resourceArn)
    target_revision: str  # the service revision judged (green)
    decided_at: datetime | None = None  # the hook's clock when it answered ECS
    window_start: datetime | None = None
    window_end: datetime | None = None
    blue: SideFigures | None = None
    green: SideFigures | None = None
    blue_target_group: str = ""
    green_target_group: str = ""


def record_canary(ctx: ExecutorContext, request: CanaryVerdictRequest) -> LedgerEntry:
    logger.append_keys(ecs_service=request.service_arn, hook_execution=request.trigger_id)
    done = ctx.already_done(request)
    if done is not None:
        return done
    entry = _figures(
        ctx.entry(request, KIND, reason=request.reason, deployment_id=request.deployment),
        request,
    )
    revision = _judged_revision(ctx, request)
    if revision is not None:
        entry = replace(entry, to_task_definition=revision.task_definition)
    if request.answered != request.verdict:
        return ctx.finish(
            entry,
            Outcome.DRY_RUN,
            reason=f"dry run: ECS was told SUCCEEDED; the verdict was {request.verdict} "
            f"({request.reason})",
            code=request.code,
        )
    if request.verdict == "SUCCEEDED":
        return ctx.finish(entry, Outcome.COMPLETED, code=request.code)
    _track_the_rollback(ctx, request, revision)
    if request.code not in REGRESSIONS:
        return ctx.finish(entry, Outcome.FAILED, code=request.code)
    if revision is None:
        return ctx.finish(
            entry,
            Outcome.FAILED,
            code=request.code,
            extra_text="The judged revision's images could not be read from ECS: nothing was "
            "quarantined.",
        )
    others = _other_revisions(ctx, request.service_arn, revision)
    if not others:
        # With nothing to compare to, every image would look new, an unchanged sidecar too.
        return ctx.finish(
            entry,
            Outcome.FAILED,
            code=request.code,
            extra_text="The service's other revisions could not be read from ECS: nothing was "
            "quarantined.",
        )
    bad = new_digests(revision, others)
    notes = quarantine(ctx, request.service_arn, bad, f"canary failed: {request.reason}")
    return ctx.finish(
        replace(entry, quarantine=bad, digest=bad[0] if len(bad) == 1 else ""),
        Outcome.FAILED,
        code=request.code,
        extra_text="\n".join(notes),
    )


def _track_the_rollback(
    ctx: ExecutorContext, request: CanaryVerdictRequest, revision: ServiceRevision | None
) -> None:
    """ECS rolls a deployment back when its hook says FAILED. When it was the automation's
    deploy of the judged revision, that rollback becomes the service's latest deployment, so
    its end says when traffic was back on blue, and how long after the verdict."""
    # Imported here: the hook imports this module for the request, and needs none of it.
    from autopilot.domain.state import DeploymentState  # noqa: PLC0415
    from autopilot.workflows.ecs_rollback import ecs_rolls_back  # noqa: PLC0415

    latest = ctx.ledger.state(request.service_arn).latest
    if (
        revision is None
        or latest is None
        or (latest.kind, latest.state) != ("deploy", DeploymentState.IN_PROGRESS)
        or latest.task_definition != revision.task_definition
    ):
        return
    shown = ctx.ecs.service_deployment(request.deployment)
    if shown is None or not shown.sources or shown.target != revision.task_definition:
        return
    ecs_rolls_back(
        ctx,
        service_arn=request.service_arn,
        action_id=request.action_id,
        deployment_arn=request.deployment,
        to_task_definition=shown.sources[0],
        triggered_at=request.decided_at or request.trigger_time,
    )


def _figures(entry: LedgerEntry, request: CanaryVerdictRequest) -> LedgerEntry:
    if request.window_start is None or request.window_end is None:
        return entry
    return replace(
        entry,
        window=Window(request.window_start, request.window_end).describe(),
        blue=describe_side(request.blue.side()) if request.blue else "",
        green=describe_side(request.green.side()) if request.green else "",
    )


def _judged_revision(ctx: ExecutorContext, request: CanaryVerdictRequest) -> ServiceRevision | None:
    """The judged revision as ECS shows it now, if it is this service's (a message is a claim)."""
    if ctx.service_revisions is None or not request.target_revision:
        return None
    revision = ctx.service_revisions.revision(request.target_revision)
    if revision is None or revision.service_arn != request.service_arn:
        logger.warning(
            "the judged revision is not this service's, or ECS does not know it",
            extra={"revision": request.target_revision},
        )
        return None
    return revision


def _other_revisions(
    ctx: ExecutorContext, service_arn: str, green: ServiceRevision
) -> list[dict[str, str]]:
    """Container name -> image of every other task definition the service runs or ran in its
    deployments in flight (blue's among them); none when the service is gone."""
    try:
        service = ctx.ecs.describe_service(service_arn)
    except NotFoundError:
        return []
    arns = {service.task_definition_arn, *(d.task_definition for d in service.deployments)}
    arns.discard(green.task_definition)
    return [
        {c["name"]: c.get("image", "") for c in ctx.ecs.revision(arn)["containerDefinitions"]}
        for arn in sorted(a for a in arns if a)
    ]


def quarantine(
    ctx: ExecutorContext, service_arn: str, digests: tuple[str, ...], reason: str
) -> list[str]:
    """Quarantine digests shown bad, as a rollback does: each in the ledger's quarantine (a push
    of it is refused until an operator releases it), and no revision holding one stays a known
    good to return to. Returns the lines that tell people how to release each."""
    if not digests:
        return []
    quarantine_digests(ctx, service_arn, digests, reason, ctx.clock())
    state = ctx.ledger.state(service_arn)
    kept = state.forget_digests(set(digests))
    if kept != state:
        ctx.ledger.save_state(kept)
    return [f"Quarantined {short_digest(d)}: autopilot release {d}" for d in digests]


_WHAT_ECS_DOES = {
    "SUCCEEDED": "ECS goes on with the deployment",
    "FAILED": "ECS rolls the deployment back to the previous revision",
}


def canary_notification(entry: LedgerEntry, label: str) -> Notification | None:
    revision = task_definition_label(entry.to_task_definition) if entry.to_task_definition else ""
    judged = f" ({revision})" if revision else ""
    figures = _figures_text(entry)
    if entry.outcome is Outcome.COMPLETED:
        return Notification(
            f"[autopilot] canary passed on {label}{judged}",
            f"The new revision of {label}{judged} is no worse than the running one: "
            f"{entry.reason}. {_WHAT_ECS_DOES['SUCCEEDED']}.{figures}",
            "info",
        )
    if entry.outcome is Outcome.DRY_RUN:
        return Notification(
            f"[autopilot] dry run: canary on {label}{judged}",
            f"{entry.reason}. Nothing was held back or rolled back.{figures}",
            "info",
        )
    if entry.outcome is not Outcome.FAILED:
        return None
    if entry.code == NOT_ANALYSED:
        return Notification(
            f"[autopilot] canary analysis could not run on {label}: deployment rolled back",
            f"The service asks for canary analysis (autopilot:canary) and it could not run: "
            f"{entry.reason}.\n{_WHAT_ECS_DOES['FAILED']}: a deployment that asked to be judged "
            "is never let through unjudged. Fix the cause and deploy again, or set "
            f"autopilot:canary=off on {label} to deploy without analysis.",
            "critical",
        )
    if entry.code in REGRESSIONS:
        return Notification(
            f"[autopilot] canary FAILED on {label}{judged}: deployment rolled back",
            f"The new revision of {label}{judged} is worse than the running one: "
            f"{entry.reason}.\n{_WHAT_ECS_DOES['FAILED']}.{figures}",
            "critical",
        )
    return Notification(
        f"[autopilot] canary on {label}{judged} could not be judged: deployment rolled back",
        f"{entry.reason}.\n{_WHAT_ECS_DOES['FAILED']}. Send the new revision test traffic "
        f"(its test listener) or lower min-requests in autopilot:canary.{figures}",
        "warning",
    )


def _figures_text(entry: LedgerEntry) -> str:
    if not entry.window:
        return ""
    return (
        f"\nWindow {entry.window}.\nBlue (running): {entry.blue}.\nGreen (new): {entry.green}."
        f"\nTrigger: {entry.trigger} {entry.trigger_id}."
    )


ACTION = Registration(
    model=CanaryVerdictRequest,
    execute=record_canary,
    notify=canary_notification,
    metrics={KIND: "Canary"},
)

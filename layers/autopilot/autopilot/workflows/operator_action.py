"""An operator's pause, resume or release, taken through the same queue and ledger."""

from __future__ import annotations

from autopilot.domain.fleet import short_digest
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import operator_notification, service_label
from autopilot.models.actions import OperatorRequest
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.registry import Registration


def operate(ctx: ExecutorContext, request: OperatorRequest) -> LedgerEntry:
    done = ctx.already_done(request)
    if done is not None:
        return done
    entry = ctx.entry(request, request.kind, digest=request.digest or "")
    if request.kind == "release":
        if request.digest is None or not ctx.ledger.release(request.digest):
            return ctx.finish(
                entry, Outcome.SKIPPED, reason="digest was not quarantined", code="not-quarantined"
            )
        return ctx.finish(
            entry,
            Outcome.APPLIED,
            reason=f"released {short_digest(request.digest)}: pushes of it may deploy again",
        )
    state = ctx.ledger.state(request.service_arn)
    label = service_label(request.service_arn)
    if request.kind == "pause":
        if state.paused:
            return ctx.finish(
                entry,
                Outcome.SKIPPED,
                reason=f"already paused: autopilot resume {label} lifts it",
                code="already-paused",
            )
        ctx.ledger.save_state(replace(state, paused=True))
        return ctx.finish(
            entry,
            Outcome.APPLIED,
            reason=f"no automatic deploys or rollbacks until autopilot resume {label}",
        )
    if not state.paused and not state.frozen:
        return ctx.finish(
            entry, Outcome.SKIPPED, reason="was neither paused nor frozen", code="not-held"
        )
    # resume: lifts a pause and a freeze, and forgets the rollbacks that caused the freeze.
    ctx.ledger.save_state(
        replace(state, paused=False, frozen=False, frozen_reason="", rollbacks=())
    )
    return ctx.finish(entry, Outcome.APPLIED, reason="automatic deploys and rollbacks resume")


ACTION = Registration(
    model=OperatorRequest,
    execute=operate,
    notify=operator_notification,
    metrics={"pause": "Pause", "resume": "Resume", "release": "Release"},
)

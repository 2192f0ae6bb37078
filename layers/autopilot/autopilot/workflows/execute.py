"""The executor: the one place that changes services, one action at a time per service.

Which function runs a request is registered with its action kind (`workflows.registry`)."""

from __future__ import annotations

from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.ledger import GAVE_UP, LedgerEntry, Outcome
from autopilot.domain.notifications import service_label
from autopilot.domain.scope import in_scope
from autopilot.models.actions import ActionRequest
from autopilot.observability import logger
from autopilot.workflows.context import ExecutorContext, unfinished
from autopilot.workflows.registry import dispatch


def execute(ctx: ExecutorContext, request: ActionRequest) -> LedgerEntry:
    """Run the action. An invalid request ends here, recorded and never retried; any other
    error is the caller's to retry."""
    if not in_scope(request.service_arn, ctx.managed_clusters):
        # Never read, never changed: a message naming such a service is refused unread.
        return ctx.finish(
            ctx.entry(request, request.kind),
            Outcome.REFUSED,
            reason="the service is outside the clusters this installation manages",
            code="outside-managed-clusters",
        )
    try:
        return dispatch(ctx, request)
    except PermanentFailureError as exc:
        logger.warning("action cannot succeed as asked", extra={"reason": str(exc)})
        return ctx.finish(_entry(ctx, request), Outcome.FAILED, reason=str(exc), code=exc.code)


def _entry(ctx: ExecutorContext, request: ActionRequest) -> LedgerEntry:
    """The entry an earlier attempt started (it names what was intended), or a new one."""
    previous = ctx.previous(request)
    if previous is not None and unfinished(previous):
        return previous
    return ctx.entry(request, request.kind)


class ActionRunner:
    """The executor as the batch sees it: run, count a failure, give up after the last."""

    def __init__(self, ctx: ExecutorContext) -> None:
        self._ctx = ctx

    def run(self, request: ActionRequest) -> LedgerEntry:
        return execute(self._ctx, request)

    def note_failure(self, request: ActionRequest) -> int:
        return self._ctx.ledger.note_failure(request.service_arn, request.action_id)

    def give_up(self, request: ActionRequest, error: BaseException, attempts: int) -> None:
        self._ctx.finish(
            _entry(self._ctx, request),
            Outcome.FAILED,
            reason=f"failed {attempts} attempts, last with {type(error).__name__}: {error}. "
            "The message is kept in the actions dead-letter queue: once the cause is fixed, "
            f"autopilot redrive {service_label(request.service_arn)} resumes it where it stopped",
            code=GAVE_UP,
        )
        # A redrive from the dead-letter queue gets its attempts again.
        self._ctx.ledger.forget_failures(request.service_arn, request.action_id)

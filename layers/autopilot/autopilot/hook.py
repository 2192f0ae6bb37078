"""A lifecycle hook function's handler, from its invocation model and its hook function.

    handler = lifecycle_hook(LifecycleHookInvocation.parse, on_lifecycle_hook, source="canary_hook")

ECS invokes a lifecycle hook synchronously and reads its answer: the handler's result is that
answer, unwrapped. An invocation that does not parse is answered FAILED: failing closed, since
nothing in it can be judged and ECS then rolls the deployment back, as it does for any hook
error. It is logged with the reason, counted (MalformedHookInvocation) and kept in the events
dead-letter queue, whose alarm tells on-call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from autopilot import wiring
from autopilot.domain.canary_hook import answer
from autopilot.models.base import Invalid, reason
from autopilot.observability import count, logger, metrics

if TYPE_CHECKING:  # built by `wiring` on first use
    from autopilot.adapters.alb_metrics import AlbMetrics
    from autopilot.adapters.queues import ActionQueue
    from autopilot.adapters.service_revisions import ServiceRevisions
    from autopilot.adapters.tagging import TaggingGateway
    from autopilot.adapters.target_groups import TargetGroups
    from autopilot.workflows.canary_hook import HookGateways

Invocation = TypeVar("Invocation")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class WiredHookGateways:
    """The gateways a lifecycle hook uses, as `autopilot.wiring` builds them."""

    @property
    def tagging(self) -> TaggingGateway:
        return wiring.tagging()

    @property
    def services(self) -> ServiceRevisions:
        return wiring.service_revisions()

    @property
    def target_groups(self) -> TargetGroups:
        return wiring.target_groups()

    @property
    def metrics(self) -> AlbMetrics:
        return wiring.alb_metrics()

    @property
    def queue(self) -> ActionQueue:
        return wiring.action_queue()

    @property
    def dry_run(self) -> bool:
        return wiring.settings().dry_run

    def now(self) -> datetime:
        return wiring.utc_now()


def on_invocation(
    invocation: object,
    parse: Callable[[object], Invocation],
    work: Callable[[Invocation], dict[str, Any]],
    dead_letter: Callable[[object, str], None],
) -> dict[str, Any]:
    """`work`'s answer for a well-formed invocation; FAILED for any other."""
    fields: Mapping[str, Any] = invocation if isinstance(invocation, Mapping) else {}
    try:
        parsed = parse(invocation)
    except Invalid as exc:
        why = reason(exc)
        logger.error(
            "malformed lifecycle hook invocation answered FAILED (fail closed) and kept in "
            "the dead-letter queue",
            extra={
                "reason": why,
                "hook_execution": fields.get("executionId"),
                "lifecycle_stage": fields.get("lifecycleStage"),
            },
        )
        count("MalformedHookInvocation")
        dead_letter(invocation, why)
        return answer("FAILED")
    logger.debug("lifecycle hook invoked", extra={"invocation": invocation})
    return work(parsed)


def lifecycle_hook(
    parse: Callable[[object], Invocation],
    hook: Callable[[Invocation, HookGateways], dict[str, Any]],
    *,
    source: str,
) -> Handler:
    """`parse`: the invocation model's parser; `hook`: what answers it; `source`: the
    function's name, in dead letters."""
    gateways = WiredHookGateways()

    def dead_letter(bad: object, why: str) -> None:
        wiring.dead_letters().send(bad, why, source=source)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return on_invocation(event, parse, lambda parsed: hook(parsed, gateways), dead_letter)

    return handler

"""ECS rolling a service deployment back by itself, because of the automation's answer to a
lifecycle hook (a reject at an approval gate, a failed canary verdict): the service's latest
deployment becomes that rollback, so that its end is tracked like a rollback the automation
asked for with StopServiceDeployment (track_action: once ECS shows it ROLLBACK_SUCCESSFUL, since
when traffic is back on blue, and how long after the answer)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from autopilot.domain.service_deployments import VIA_ALREADY
from autopilot.domain.state import Deployment, pinned_images
from autopilot.records import replace

if TYPE_CHECKING:
    from autopilot.workflows.context import ExecutorContext


def pinned(ctx: ExecutorContext, task_definition_arn: str) -> tuple[str, ...]:
    """The digest-pinned images of a revision."""
    definition = ctx.ecs.revision(task_definition_arn)
    return pinned_images([c.get("image", "") for c in definition["containerDefinitions"]])


def ecs_rolls_back(
    ctx: ExecutorContext,
    *,
    service_arn: str,
    action_id: str,
    deployment_arn: str,
    to_task_definition: str,
    triggered_at: datetime,
    forget: Collection[str] = (),
) -> None:
    """The service deployment `deployment_arn` rolls back to `to_task_definition`, as the
    action `action_id` answered at `triggered_at`; digests in `forget` are no longer good. A
    retry that finds it recorded leaves it."""
    state = ctx.ledger.state(service_arn)
    if state.latest is not None and state.latest.action_id == action_id:
        return
    ctx.ledger.save_state(
        replace(
            state.forget_digests(set(forget)),
            latest=Deployment(
                action_id=action_id,
                kind="rollback",
                deployment_id=deployment_arn,
                task_definition=to_task_definition,
                images=pinned(ctx, to_task_definition),
                started_at=ctx.clock(),
                via=VIA_ALREADY,
                triggered_at=triggered_at,
            ),
        )
    )

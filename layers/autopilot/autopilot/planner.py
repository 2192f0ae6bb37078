"""A planner function's handler, from its event model, its planning function and its name.

    handler = planner(EcrImageActionEvent.parse, on_push, source="ecr_push")

The handler logs with the Lambda context, flushes metrics, rejects a malformed event to the
dead-letter queue, reports an ignored one, and hands the parsed event to the planning function
with the gateways it may use (built on first use, once per cold start).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.observability import logger, metrics

if TYPE_CHECKING:  # built by `wiring` on first use, when the planning function asks for one
    from autopilot.adapters.cloudwatch import CloudWatchGateway
    from autopilot.adapters.codedeploy import CodeDeployGateway
    from autopilot.adapters.ecs import EcsGateway
    from autopilot.adapters.fleet_index import FleetIndex
    from autopilot.adapters.queues import ActionQueue
    from autopilot.adapters.tagging import TaggingGateway
    from autopilot.workflows.planning import PlannerGateways

Event = TypeVar("Event")
Handler = Callable[[dict[str, Any], Any], dict[str, Any]]


class WiredGateways:
    """The application's gateways, as `autopilot.wiring` builds them."""

    @property
    def ecs(self) -> EcsGateway:
        return wiring.ecs()

    @property
    def tagging(self) -> TaggingGateway:
        return wiring.tagging()

    @property
    def cloudwatch(self) -> CloudWatchGateway:
        return wiring.cloudwatch()

    @property
    def codedeploy(self) -> CodeDeployGateway:
        return wiring.codedeploy()

    @property
    def queue(self) -> ActionQueue:
        return wiring.action_queue()

    @property
    def index(self) -> FleetIndex:
        return wiring.fleet_index()

    @property
    def clusters(self) -> frozenset[str] | None:
        return wiring.settings().managed_clusters

    def now(self) -> datetime:
        return wiring.utc_now()


def planner(
    parse: Callable[[object], Event],
    plan: Callable[[Event, PlannerGateways], dict[str, Any]],
    *,
    source: str,
) -> Handler:
    """`parse`: the event model's parser; `plan`: what to do with the parsed event (its
    result is the handler's answer); `source`: the function's name, in dead letters."""
    gateways = WiredGateways()

    def work(event: Event) -> dict[str, Any]:
        return plan(event, gateways)

    @logger.inject_lambda_context(clear_state=True)
    @metrics.log_metrics
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        return handle_event(event, parse, work, source=source)

    return handler

"""ECS or CodeDeploy deployment ended -> record it against the deployment the automation started."""

from __future__ import annotations

from typing import Annotated, Any

from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import Field, TypeAdapter

from autopilot import wiring
from autopilot.entry import handle_event
from autopilot.models.events import CodeDeployStateChangeEvent, EcsDeploymentStateChangeEvent
from autopilot.observability import logger, metrics
from autopilot.workflows.plan_deployment import plan_deployment

DeploymentEvent = Annotated[
    EcsDeploymentStateChangeEvent | CodeDeployStateChangeEvent,
    Field(discriminator="detail_type"),
]
_PARSER: TypeAdapter[DeploymentEvent] = TypeAdapter(DeploymentEvent)


def _plan(event: DeploymentEvent) -> dict[str, Any]:
    services = plan_deployment(event, wiring.codedeploy(), wiring.action_queue())
    return {"tracked": services}


@logger.inject_lambda_context(clear_state=True)
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_event(event, _PARSER.validate_python, _plan, source="deployment_events")

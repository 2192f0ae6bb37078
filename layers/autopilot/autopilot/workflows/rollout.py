"""Pointing a service at a revision: UpdateService, or a CodeDeploy deployment for blue/green.

Neither call is idempotent, so every caller first asks `already_rolled_out`: after a lost
response the change may have happened, and a retry must find it instead of repeating it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot.adapters.codedeploy import appspec
from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.fleet import Service

if TYPE_CHECKING:
    from autopilot.workflows.context import ExecutorContext


def codedeploy_target(service: Service) -> tuple[str, str]:
    """Application and deployment group: the tag, else the names the ECS console gives them."""
    try:
        target = read_config(service.tags).codedeploy
    except InvalidConfigError as exc:
        raise PermanentFailureError(str(exc), "invalid-config") from exc
    if target is not None:
        return target.application, target.deployment_group
    return (
        f"AppECS-{service.cluster_name}-{service.name}",
        f"DgpECS-{service.cluster_name}-{service.name}",
    )


def via(service: Service) -> str:
    return "codedeploy" if service.deployment_controller == "CODE_DEPLOY" else "update-service"


def already_rolled_out(
    ctx: ExecutorContext, service: Service, task_definition_arn: str
) -> str | None:
    """The id of the deployment that already points the service at the revision, if any."""
    if service.deployment_controller == "CODE_DEPLOY":
        application, group = codedeploy_target(service)
        return ctx.codedeploy.deployment_for(application, group, task_definition_arn)
    if service.task_definition_arn != task_definition_arn:
        return None
    shown = next(
        (d for d in service.deployments if d.task_definition == task_definition_arn),
        service.primary,
    )
    return shown.id if shown is not None else ""


def roll_out(ctx: ExecutorContext, service: Service, task_definition_arn: str, why: str) -> str:
    """Start the deployment of `task_definition_arn`; returns the deployment's id."""
    if service.deployment_controller != "CODE_DEPLOY":
        return ctx.ecs.update_service(service, task_definition_arn)
    application, group = codedeploy_target(service)
    if not service.load_balancers:
        raise PermanentFailureError(
            "CODE_DEPLOY service has no load balancer to shift traffic on", "invalid-service"
        )
    container, port = service.load_balancers[0]
    return ctx.codedeploy.create_deployment(
        application, group, appspec(task_definition_arn, container, port), description=why
    )

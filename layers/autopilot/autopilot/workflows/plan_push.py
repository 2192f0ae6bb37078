"""On an ECR push: find the opted-in services that follow it and queue one deploy each."""

from __future__ import annotations

from dataclasses import dataclass

from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.config import TRACK
from autopilot.domain.deploy import Rollout, decide_deploy
from autopilot.domain.fleet import ImagePush
from autopilot.domain.ledger import action_id
from autopilot.models.actions import DeployRequest
from autopilot.observability import count, logger


@dataclass(frozen=True, slots=True)
class PlanLine:
    service: str
    decision: str  # queued | skipped
    reason: str = ""
    code: str = ""


def plan_push(
    push: ImagePush, ecs: EcsGateway, tagging: TaggingGateway, queue: ActionQueue
) -> list[PlanLine]:
    lines: list[PlanLine] = []
    for service in ecs.describe_services(tagging.services_tagged(TRACK)):
        decision = decide_deploy(push, service)
        if isinstance(decision, Rollout):
            queue.send(
                DeployRequest(
                    action_id=action_id(push.event_id, service.arn, "deploy"),
                    service_arn=service.arn,
                    trigger="ecr-push",
                    trigger_id=push.event_id,
                    trigger_time=push.time,
                    push=push,
                )
            )
            logger.info(
                "deploy queued", extra={"ecs_service": service.label, "digest": push.digest}
            )
            count("DeployQueued")
            lines.append(PlanLine(service.label, "queued"))
        else:
            logger.info(
                "service skipped",
                extra={
                    "ecs_service": service.label,
                    "reason": decision.reason,
                    "code": decision.code,
                },
            )
            count("DeploySkipped")
            lines.append(PlanLine(service.label, "skipped", decision.reason, decision.code))
    return lines

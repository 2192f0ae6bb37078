"""On an ECR push: find the opted-in services that follow it and queue one deploy each."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.deploy import Rollout, decide_deploy
from autopilot.domain.fleet import ImagePush, Service
from autopilot.domain.fleet_index import repository_key
from autopilot.domain.ledger import action_id
from autopilot.domain.scan import ScanResult
from autopilot.models.actions import DeployRequest
from autopilot.models.events import (
    EcrImageActionEvent,
    IgnoredEvent,
    ImageScanEvent,
    image_push,
    scanned_images,
)
from autopilot.observability import count, logger
from autopilot.ports import ActionQueue, EcsGateway
from autopilot.records import asdict
from autopilot.workflows.fleet_index import IndexGateways, following
from autopilot.workflows.plan_line import PlanLine
from autopilot.workflows.planning import PlannerGateways


def on_push(event: EcrImageActionEvent, aws: PlannerGateways) -> dict[str, Any]:
    lines = plan_push(image_push(event), aws, aws.queue)
    return {"decisions": [asdict(line) for line in lines]}


def on_scan(event: ImageScanEvent, aws: PlannerGateways) -> dict[str, Any]:
    pushes, scan = scanned_images(event)
    lines = plan_scan(pushes, scan, aws, aws.queue)
    return {"decisions": [asdict(line) for line in lines]}


def plan_push(push: ImagePush, aws: IndexGateways, queue: ActionQueue) -> list[PlanLine]:
    """Queue a deploy for every opted-in service whose policy accepts the pushed tag.

    Only the services the fleet index lists under the pushed repository are read (fresh, with
    their tags); every fact that decides is read from them, not from the index."""
    return _plan(following(_repository(push), aws), [push], None, queue, aws.ecs)


def plan_scan(
    pushes: list[ImagePush], scan: ScanResult, aws: IndexGateways, queue: ActionQueue
) -> list[PlanLine]:
    """A scan finished: services with a scan gate get the deploy their push was held for.

    `pushes` holds the image once per tag it carries (one repository); each service takes the
    first its policy accepts. Services without a gate deployed on push and are left alone."""
    services = following(_repository(pushes[0]), aws) if pushes else []
    gated = [s for s in services if _scan_gated(s.tags)]
    if not gated:
        raise IgnoredEvent(
            f"no opted-in service following {pushes[0].repository if pushes else 'it'} has a "
            "scan gate (autopilot:scan): each deployed on push"
        )
    return _plan(gated, pushes, scan, queue, aws.ecs)


def _repository(push: ImagePush) -> str:
    return repository_key(push.account, push.region, push.repository)


def _scan_gated(tags: Mapping[str, str]) -> bool:
    try:
        return read_config(tags).scan_threshold is not None
    except InvalidConfigError:
        return False


def _plan(
    services: list[Service],
    pushes: list[ImagePush],
    scan: ScanResult | None,
    queue: ActionQueue,
    ecs: EcsGateway,
) -> list[PlanLine]:
    lines: list[PlanLine] = []
    for service in services:
        decisions = [(push, decide_deploy(push, service)) for push in pushes]
        push, decision = next(
            ((p, d) for p, d in decisions if isinstance(d, Rollout)), decisions[0]
        )
        if isinstance(decision, Rollout):
            # The executor clones the running revision with its tags as ECS shows them now
            # (tags change; its content never does): read them here, where the plan already
            # costs ECS calls, so that the executor's deploy is DescribeServices,
            # RegisterTaskDefinition and UpdateService only (adapters/revisions.py).
            ecs.task_definition(service.task_definition_arn)
            queue.send(
                DeployRequest(
                    action_id=action_id(push.event_id, service.arn, "deploy"),
                    service_arn=service.arn,
                    trigger="ecr-scan" if scan else "ecr-push",
                    trigger_id=push.event_id,
                    trigger_time=push.time,
                    push=push,
                    scan=scan,
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

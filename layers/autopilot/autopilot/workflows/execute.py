"""The executor: the one place that changes services, one action at a time per service.

Every action is re-decided against fresh state before it acts, because the queue may hold
work planned before a newer push, a rollback or an operator's change.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime

from autopilot.adapters.codedeploy import CodeDeployGateway, appspec
from autopilot.adapters.ecr import EcrGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.notifier import Notifier
from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.deploy import Skip, containers_from_repository, decide_deploy
from autopilot.domain.errors import NotFoundError
from autopilot.domain.fleet import Service
from autopilot.domain.images import parse_image
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import deploy_notification
from autopilot.domain.taskdef import (
    UnsupportedTaskDefinitionError,
    clone_task_definition,
    writable_tags,
)
from autopilot.models.actions import ActionRequest, DeployRequest
from autopilot.observability import count, logger


class PermanentFailure(Exception):  # noqa: N818 - a reason, not a bug: recorded, not retried
    """The action cannot succeed as asked; retrying would fail the same way."""


@dataclass
class Executor:
    ecs: EcsGateway
    ecr: EcrGateway
    codedeploy: CodeDeployGateway
    ledger: Ledger
    notifier: Notifier
    dry_run: bool
    clock: Callable[[], datetime]

    def run(self, request: ActionRequest) -> LedgerEntry:
        return self.deploy(request)

    def deploy(self, request: DeployRequest) -> LedgerEntry:
        push = request.push
        entry = LedgerEntry(
            service_arn=request.service_arn,
            action_id=request.action_id,
            kind="deploy",
            trigger=request.trigger,
            trigger_id=request.trigger_id,
            trigger_time=request.trigger_time,
            recorded_at=self.clock(),
            outcome=Outcome.STARTED,
            repository=push.repository,
            digest=push.digest,
            tag=push.tag,
        )
        logger.append_keys(
            ecs_service=request.service_arn, digest=push.digest, action_id=request.action_id
        )

        previous = self.ledger.find(request.service_arn, request.trigger_time, request.action_id)
        if previous is not None and previous.outcome is not Outcome.STARTED:
            logger.info("action already done: replay ignored", extra={"outcome": previous.outcome})
            count("DuplicateAction")
            return previous

        try:
            service = self.ecs.describe_service(request.service_arn)
        except NotFoundError as exc:
            return self._finish(entry, Outcome.SKIPPED, reason=str(exc), code="service-gone")
        entry = replace(entry, from_task_definition=service.task_definition_arn)

        pushed = self.ecr.image(push.account, push.repository, push.digest)
        if pushed is None:
            return self._finish(
                entry, Outcome.SKIPPED, reason="digest is no longer in ECR", code="image-gone"
            )
        running_digests = {
            digest
            for image in containers_from_repository(service, push).values()
            if (digest := parse_image(image).digest)
        }
        running = self.ecr.images(push.account, push.repository, running_digests)
        decision = decide_deploy(push, service, pushed, running)

        if isinstance(decision, Skip):
            if previous is not None and decision.code == "already-running":
                # An earlier attempt changed the service and stopped before recording it.
                return self._finish(previous, Outcome.DEPLOYED, reason="confirmed on retry")
            return self._finish(entry, Outcome.SKIPPED, reason=decision.reason, code=decision.code)

        entry = replace(entry, containers=tuple(sorted(decision.images)))
        if self.dry_run:
            return self._finish(entry, Outcome.DRY_RUN, reason="dry run: nothing changed")

        self.ledger.write(entry, first=True)
        try:
            source, tags = self.ecs.task_definition(service.task_definition_arn)
            clone = clone_task_definition(
                source, decision.images, self.ecs.writable_task_definition_fields()
            )
            new_arn = self.ecs.register_task_definition(clone, writable_tags(tags))
            deployment_id = self._roll_out(service, new_arn, push.tag)
        except (UnsupportedTaskDefinitionError, PermanentFailure) as exc:
            return self._finish(entry, Outcome.FAILED, reason=str(exc), code="invalid-revision")
        return self._finish(
            entry, Outcome.DEPLOYED, to_task_definition=new_arn, deployment_id=deployment_id
        )

    def _roll_out(self, service: Service, task_definition_arn: str, tag: str) -> str:
        if service.deployment_controller != "CODE_DEPLOY":
            return self.ecs.update_service(service, task_definition_arn)
        try:
            target = read_config(service.tags).codedeploy
        except InvalidConfigError as exc:
            raise PermanentFailure(str(exc)) from exc
        application = (
            target.application if target else f"AppECS-{service.cluster_name}-{service.name}"
        )
        group = (
            target.deployment_group if target else f"DgpECS-{service.cluster_name}-{service.name}"
        )
        if not service.load_balancers:
            raise PermanentFailure("CODE_DEPLOY service has no load balancer to shift traffic on")
        container, port = service.load_balancers[0]
        return self.codedeploy.create_deployment(
            application,
            group,
            appspec(task_definition_arn, container, port),
            description=f"ECS Autopilot: {tag}",
        )

    def _finish(
        self,
        entry: LedgerEntry,
        outcome: Outcome,
        *,
        reason: str = "",
        code: str = "",
        to_task_definition: str = "",
        deployment_id: str = "",
    ) -> LedgerEntry:
        done = replace(
            entry,
            outcome=outcome,
            recorded_at=self.clock(),
            reason=reason or entry.reason,
            code=code or entry.code,
            to_task_definition=to_task_definition or entry.to_task_definition,
            deployment_id=deployment_id or entry.deployment_id,
        )
        self.ledger.write(done)
        logger.info(
            "action finished",
            extra={"outcome": outcome.value, "reason": done.reason, "kind": done.kind},
        )
        count(f"Action{outcome.value.title().replace('-', '')}")
        service_label = "/".join(entry.service_arn.rsplit("/", 2)[-2:])
        notification = deploy_notification(done, service_label)
        if notification is not None:
            self.notifier.send(notification)
        return done

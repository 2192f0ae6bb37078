"""What every executor action needs: the gateways, the clock, and one way to record an outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime

from autopilot.domain.capacity import FargatePrices
from autopilot.domain.errors import NotFoundError
from autopilot.domain.fleet import Service
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import notification_for
from autopilot.models.actions import ActionBase
from autopilot.observability import count, logger
from autopilot.ports import (
    AutoScalingGateway,
    CloudWatchGateway,
    CodeDeployGateway,
    EcrGateway,
    EcsGateway,
    Ledger,
    Notifier,
    SchedulerGateway,
)


@dataclass
class ExecutorContext:
    ecs: EcsGateway
    ecr: EcrGateway
    codedeploy: CodeDeployGateway
    cloudwatch: CloudWatchGateway
    ledger: Ledger
    notifier: Notifier
    autoscaling: AutoScalingGateway
    scheduler: Callable[[], SchedulerGateway]  # built on first use: only peaks with `until` need it
    dry_run: bool
    clock: Callable[[], datetime]
    freeze_after: int = 3
    prices: FargatePrices = field(default_factory=FargatePrices)

    def entry(
        self,
        request: ActionBase,
        kind: str,
        *,
        repository: str = "",
        digest: str = "",
        tag: str = "",
        reason: str = "",
        deployment_id: str = "",
    ) -> LedgerEntry:
        """The ledger entry this action will end with, before anything is decided."""
        return LedgerEntry(
            service_arn=request.service_arn,
            action_id=request.action_id,
            kind=kind,
            trigger=request.trigger,
            trigger_id=request.trigger_id,
            trigger_time=request.trigger_time,
            recorded_at=self.clock(),
            outcome=Outcome.STARTED,
            repository=repository,
            digest=digest,
            tag=tag,
            reason=reason,
            deployment_id=deployment_id,
        )

    def previous(self, request: ActionBase) -> LedgerEntry | None:
        """This very action's entry, if an earlier delivery wrote one (finished or started)."""
        return self.ledger.find(request.service_arn, request.trigger_time, request.action_id)

    def already_done(self, request: ActionBase) -> LedgerEntry | None:
        """The finished entry of this very action, if a replay brought it here again."""
        return self.replayed(self.previous(request))

    def replayed(self, previous: LedgerEntry | None) -> LedgerEntry | None:
        if previous is not None and previous.outcome is not Outcome.STARTED:
            logger.info("action already done: replay ignored", extra={"outcome": previous.outcome})
            count("DuplicateAction")
            return previous
        return None

    def service_or_finish(self, entry: LedgerEntry) -> tuple[Service, LedgerEntry] | LedgerEntry:
        """The service the action is about, with its revision in the entry; or, if it is gone,
        the entry finished as skipped."""
        try:
            service = self.ecs.describe_service(entry.service_arn)
        except NotFoundError as exc:
            return self.finish(entry, Outcome.SKIPPED, reason=str(exc), code="service-gone")
        return service, replace(entry, from_task_definition=service.task_definition_arn)

    def finish(
        self,
        entry: LedgerEntry,
        outcome: Outcome,
        *,
        reason: str = "",
        code: str = "",
        to_task_definition: str = "",
        deployment_id: str = "",
        extra_text: str = "",
    ) -> LedgerEntry:
        """Record how the action ended, log it, count it, and tell people who need to know."""
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
            extra={
                "kind": done.kind,
                "outcome": outcome.value,
                "reason": done.reason,
                "code": done.code,
            },
        )
        count(f"{done.kind.title()}{outcome.value.title().replace('-', '')}")
        notification = notification_for(done, extra_text)
        if notification is not None:
            self.notifier.send(notification)
        return done

"""What every executor action needs: the gateways, the clock, and one way to record an outcome."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from botocore.exceptions import BotoCoreError, ClientError

from autopilot.domain import reconcile
from autopilot.domain.capacity import FargatePrices
from autopilot.domain.config import InvalidConfigError, read_config
from autopilot.domain.errors import NotFoundError
from autopilot.domain.fleet import Service
from autopilot.domain.fleet_index import IndexChange, IndexEntry, IndexWriteError, repositories_used
from autopilot.domain.ledger import GAVE_UP, LedgerEntry, Outcome
from autopilot.domain.measures import measures
from autopilot.domain.state import DeploymentState, ServiceState
from autopilot.models.actions import ActionBase
from autopilot.observability import count, logger, measure
from autopilot.ports import (
    AutoScalingGateway,
    CloudWatchGateway,
    CodeDeployGateway,
    EcrGateway,
    EcsGateway,
    FleetIndex,
    Ledger,
    Notifier,
    SchedulerGateway,
    ServiceRevisionReader,
)
from autopilot.records import replace
from autopilot.workflows import registry


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
    managed_clusters: frozenset[str] | None = None  # None: every cluster
    held_max_hours: int = 24  # a push held by an alarm deploys on OK only if held no longer
    prices: FargatePrices = field(default_factory=FargatePrices)
    index: FleetIndex | None = None  # the fleet index, told of every revision rolled out
    # Canary verdicts re-read the judged revision (its images) before quarantining anything.
    service_revisions: ServiceRevisionReader | None = None

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
            requested_by=request.requested_by,
        )

    def previous(self, request: ActionBase) -> LedgerEntry | None:
        """This very action's entry, if an earlier delivery wrote one (finished or started)."""
        return self.ledger.find(request.service_arn, request.trigger_time, request.action_id)

    def already_done(self, request: ActionBase) -> LedgerEntry | None:
        """The finished entry of this very action, if a replay brought it here again."""
        return self.replayed(self.previous(request))

    def replayed(self, previous: LedgerEntry | None) -> LedgerEntry | None:
        """The finished entry of this action; an action that gave up is taken up again (a
        redrive from the dead-letter queue resumes it)."""
        if previous is not None and not unfinished(previous):
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

    def reconciled_state(self, service: Service) -> ServiceState:
        """The service's state, after folding in what ECS (or CodeDeploy) shows about the
        automation's latest deployment; saved when that changed anything."""
        state = self.ledger.state(service.arn)
        now = self.clock()
        latest = state.latest
        found = reconcile.with_ecs(state, service, now)
        if (
            found is None
            and service.deployment_controller == "CODE_DEPLOY"
            and latest is not None
            and latest.state is DeploymentState.IN_PROGRESS
            and latest.deployment_id
        ):
            status = self.codedeploy.deployment_status(latest.deployment_id)
            found = reconcile.with_codedeploy(state, status, now)
        updated = found.state if found is not None else state
        bake = _bake_minutes(service)
        if bake is not None:
            updated = reconcile.prove(updated, service, now, bake)
        if updated == state:
            return state
        logger.info(
            "state reconciled with what AWS shows",
            extra={"note": found.note if found else "revision proven after parking"},
        )
        return self.ledger.save_state(updated)

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
        notify: bool = True,
    ) -> LedgerEntry:
        """Record how the action ended, log it, count it, and tell people who need to know
        (`notify=False`: they were told already).

        People are told before the entry is written: if the write's answer is lost, the retry
        finds the finished entry and stops, so telling after it could mean never telling; this
        way a lost write means telling twice at worst."""
        # An action resumed after it gave up ends with its own reason, not the old failure's.
        earlier_reason, earlier_code = (
            ("", "") if entry.code == GAVE_UP else (entry.reason, entry.code)
        )
        done = replace(
            entry,
            outcome=outcome,
            recorded_at=self.clock(),
            reason=reason or earlier_reason,
            code=code or earlier_code,
            to_task_definition=to_task_definition or entry.to_task_definition,
            deployment_id=deployment_id or entry.deployment_id,
        )
        notification = registry.notification_for(done, extra_text) if notify else None
        if notification is not None:
            self.notifier.send(notification)
        self.ledger.write(done)
        if outcome in _ROLLED_OUT and done.to_task_definition:
            self._follow(done.service_arn, done.to_task_definition)
        logger.info(
            "action finished",
            extra={
                "kind": done.kind,
                "outcome": outcome.value,
                "reason": done.reason,
                "code": done.code,
            },
        )
        count(f"{registry.metric_name(done.kind)}{outcome.value.title().replace('-', '')}")
        for found in measures(done):
            measure(found.name, found.unit, found.value)
        return done

    def _follow(self, service_arn: str, task_definition_arn: str) -> None:
        """Tell the fleet index which revision the service now runs, so the next push finds it
        at once. Best effort: the change is made and recorded; a write that fails is logged and
        counted, and the deployment's own ECS event or the next reindex brings the index up to
        date (adapters/fleet_index.py)."""
        if self.index is None:
            return
        try:
            definition, _ = self.ecs.task_definition(task_definition_arn)
            entry = IndexEntry(service_arn, task_definition_arn, repositories_used(definition))
            previous = self.index.entry(service_arn)
            if previous != entry:
                self.index.apply([IndexChange(previous, entry)])
        except (ClientError, BotoCoreError, NotFoundError, IndexWriteError) as exc:
            logger.warning("fleet index not updated", extra={"error": repr(exc)})
            count("FleetIndexWriteFailed")


_ROLLED_OUT = frozenset({Outcome.DEPLOYED, Outcome.ROLLED_BACK})


def _bake_minutes(service: Service) -> int | None:
    try:
        return read_config(service.tags).bake_minutes
    except InvalidConfigError:
        return None  # an unreadable configuration is reported by the action that needs it


def unfinished(entry: LedgerEntry) -> bool:
    """Started and not ended, or given up after every attempt: the next attempt goes on."""
    return entry.outcome is Outcome.STARTED or entry.code == GAVE_UP

"""Dependencies, built lazily once per cold start (never at import), replaceable in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache

from autopilot.adapters import clients
from autopilot.adapters.autoscaling import AutoScalingGateway
from autopilot.adapters.cloudwatch import CloudWatchGateway
from autopilot.adapters.codedeploy import CodeDeployGateway
from autopilot.adapters.costexplorer import CostExplorerGateway
from autopilot.adapters.ecr import EcrGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.fleet_index import FleetIndex
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.mailer import Mailer
from autopilot.adapters.notifier import Notifier
from autopilot.adapters.queues import ActionQueue, ActionsInbox, DeadLetters
from autopilot.adapters.revisions import RevisionCache
from autopilot.adapters.scheduler import SchedulerGateway
from autopilot.adapters.tagging import TaggingGateway
from autopilot.settings import IndexSettings, ReportSettings, ScheduleSettings, Settings
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.cost_report import ReportSources


def utc_now() -> datetime:
    return datetime.now(UTC)


# Set by the local runner only: its chat webhook may be a plain-http server on loopback.
allow_loopback_webhook = False


@cache
def settings() -> Settings:
    return Settings.from_env()


@cache
def ecs() -> EcsGateway:
    # Revisions the planner read are in the ledger table when the executor clones them.
    return EcsGateway(revisions=RevisionCache(settings().ledger_table), clock=utc_now)


@cache
def tagging() -> TaggingGateway:
    return TaggingGateway(clusters=settings().managed_clusters)


@cache
def cloudwatch() -> CloudWatchGateway:
    return CloudWatchGateway()


@cache
def codedeploy() -> CodeDeployGateway:
    return CodeDeployGateway()


@cache
def fleet_index() -> FleetIndex:
    return FleetIndex(IndexSettings.from_env().table)


@cache
def action_queue() -> ActionQueue:
    return ActionQueue(settings().actions_queue_url)


@cache
def dead_letters() -> DeadLetters:
    return DeadLetters(settings().dead_letter_queue_url)


@cache
def actions_inbox() -> ActionsInbox:
    return ActionsInbox(settings().actions_queue_url, settings().actions_dead_letter_queue_url)


@cache
def ledger() -> Ledger:
    return Ledger(settings().ledger_table, settings().ledger_retention_days)


@cache
def scheduler() -> SchedulerGateway:
    schedules = ScheduleSettings.from_env()
    return SchedulerGateway(
        schedules.group, schedules.function_arn, schedules.role_arn, schedules.dead_letter_arn
    )


@cache
def report_sources() -> ReportSources:
    return ReportSources(
        costs=CostExplorerGateway(),
        cloudwatch=cloudwatch(),
        ecs=ecs(),
        ledger=ledger(),
        account=clients.sts().get_caller_identity()["Account"],
        region=clients.region(),
    )


@cache
def mailer() -> Mailer:
    config = ReportSettings.from_env()
    return Mailer(config.sender, list(config.recipients), config.bucket)


@cache
def executor() -> ExecutorContext:
    config = settings()
    return ExecutorContext(
        ecs=ecs(),
        ecr=EcrGateway(),
        codedeploy=codedeploy(),
        cloudwatch=cloudwatch(),
        ledger=ledger(),
        notifier=Notifier(
            config.notify_topic_arn,
            config.chat_webhook_secret_arn,
            allow_loopback_webhook=allow_loopback_webhook,
        ),
        autoscaling=AutoScalingGateway(),
        scheduler=scheduler,
        dry_run=config.dry_run,
        clock=utc_now,
        freeze_after=config.freeze_after_rollbacks,
        held_max_hours=config.held_push_max_hours,
        managed_clusters=config.managed_clusters,
        index=fleet_index(),
    )


_FACTORIES = (
    settings,
    ecs,
    tagging,
    cloudwatch,
    codedeploy,
    fleet_index,
    action_queue,
    dead_letters,
    actions_inbox,
    ledger,
    scheduler,
    report_sources,
    mailer,
    executor,
)


def reset() -> None:
    """Forget the wiring (settings, gateways); clients are kept, see `clients.reset`."""
    for factory in _FACTORIES:
        factory.cache_clear()

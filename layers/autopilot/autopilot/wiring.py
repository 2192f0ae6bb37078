"""Dependencies, built lazily once per cold start (never at import), replaceable in tests."""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING

from autopilot.settings import IndexSettings, ReportSettings, ScheduleSettings, Settings

# Each factory imports its adapter: a handler loads only the adapters it uses (the cost report's
# Jinja2 and Cost Explorer stay out of the planners' and the executor's cold start).
if TYPE_CHECKING:
    from autopilot.adapters.alb_metrics import AlbMetrics
    from autopilot.adapters.cloudwatch import CloudWatchGateway
    from autopilot.adapters.codedeploy import CodeDeployGateway
    from autopilot.adapters.ecs import EcsGateway
    from autopilot.adapters.fleet_index import FleetIndex
    from autopilot.adapters.ledger import Ledger
    from autopilot.adapters.mailer import Mailer
    from autopilot.adapters.queues import ActionQueue, ActionsInbox, DeadLetters
    from autopilot.adapters.scheduler import SchedulerGateway
    from autopilot.adapters.service_revisions import ServiceRevisions
    from autopilot.adapters.tagging import TaggingGateway
    from autopilot.adapters.target_groups import TargetGroups
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
    from autopilot.adapters.ecs import EcsGateway  # noqa: PLC0415 - see the imports above
    from autopilot.adapters.revisions import RevisionCache  # noqa: PLC0415

    # Revisions the planner read are in the ledger table when the executor clones them.
    return EcsGateway(revisions=RevisionCache(settings().ledger_table), clock=utc_now)


@cache
def tagging() -> TaggingGateway:
    from autopilot.adapters.tagging import TaggingGateway  # noqa: PLC0415

    return TaggingGateway(clusters=settings().managed_clusters)


@cache
def cloudwatch() -> CloudWatchGateway:
    from autopilot.adapters.cloudwatch import CloudWatchGateway  # noqa: PLC0415

    return CloudWatchGateway()


@cache
def codedeploy() -> CodeDeployGateway:
    from autopilot.adapters.codedeploy import CodeDeployGateway  # noqa: PLC0415

    return CodeDeployGateway()


@cache
def fleet_index() -> FleetIndex:
    from autopilot.adapters.fleet_index import FleetIndex  # noqa: PLC0415

    return FleetIndex(IndexSettings.from_env().table)


@cache
def action_queue() -> ActionQueue:
    from autopilot.adapters.queues import ActionQueue  # noqa: PLC0415

    return ActionQueue(settings().actions_queue_url)


@cache
def dead_letters() -> DeadLetters:
    from autopilot.adapters.queues import DeadLetters  # noqa: PLC0415

    return DeadLetters(settings().dead_letter_queue_url)


@cache
def actions_inbox() -> ActionsInbox:
    from autopilot.adapters.queues import ActionsInbox  # noqa: PLC0415

    return ActionsInbox(settings().actions_queue_url, settings().actions_dead_letter_queue_url)


@cache
def ledger() -> Ledger:
    from autopilot.adapters.ledger import Ledger  # noqa: PLC0415

    return Ledger(settings().ledger_table, settings().ledger_retention_days)


@cache
def scheduler() -> SchedulerGateway:
    from autopilot.adapters.scheduler import SchedulerGateway  # noqa: PLC0415

    schedules = ScheduleSettings.from_env()
    return SchedulerGateway(
        schedules.group, schedules.function_arn, schedules.role_arn, schedules.dead_letter_arn
    )


@cache
def report_sources() -> ReportSources:
    from autopilot.adapters import clients  # noqa: PLC0415
    from autopilot.adapters.costexplorer import CostExplorerGateway  # noqa: PLC0415
    from autopilot.workflows.cost_report import ReportSources  # noqa: PLC0415

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
    from autopilot.adapters.mailer import Mailer  # noqa: PLC0415

    config = ReportSettings.from_env()
    return Mailer(config.sender, list(config.recipients), config.bucket)


@cache
def executor() -> ExecutorContext:
    from autopilot.adapters.autoscaling import AutoScalingGateway  # noqa: PLC0415
    from autopilot.adapters.ecr import EcrGateway  # noqa: PLC0415
    from autopilot.adapters.notifier import Notifier  # noqa: PLC0415
    from autopilot.workflows.context import ExecutorContext  # noqa: PLC0415

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
        service_revisions=service_revisions(),
    )


# -- canary analysis (the lifecycle hook, and the executor's canary verdicts) ----------------


@cache
def service_revisions() -> ServiceRevisions:
    from autopilot.adapters.service_revisions import ServiceRevisions  # noqa: PLC0415

    return ServiceRevisions()


@cache
def target_groups() -> TargetGroups:
    from autopilot.adapters.target_groups import TargetGroups  # noqa: PLC0415

    return TargetGroups()


@cache
def alb_metrics() -> AlbMetrics:
    from autopilot.adapters.alb_metrics import AlbMetrics  # noqa: PLC0415

    return AlbMetrics()


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
    service_revisions,
    target_groups,
    alb_metrics,
)


def reset() -> None:
    """Forget the wiring (settings, gateways); clients are kept, see `clients.reset`."""
    for factory in _FACTORIES:
        factory.cache_clear()

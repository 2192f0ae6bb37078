"""The IAM actions each function needs, composed from what its adapters declare they call.

A test checks that template.yaml grants each function exactly these, no more, no fewer.
"""

from __future__ import annotations

from autopilot.adapters import (
    autoscaling,
    cloudwatch,
    codedeploy,
    costexplorer,
    ecr,
    ecs,
    ledger,
    mailer,
    notifier,
    queues,
    report_deliveries,
    scheduler,
    tagging,
)

_IMAGE_PLANNER = frozenset(
    (*tagging.IAM_ACTIONS, *ecs.IAM_ACTIONS["read"], *queues.IAM_ACTIONS["actions"])
)

FUNCTION_ACTIONS: dict[str, frozenset[str]] = {
    "EcrPushFunction": _IMAGE_PLANNER,
    "ScheduleFunction": _IMAGE_PLANNER,
    "ScanEventsFunction": _IMAGE_PLANNER,
    "DeploymentEventsFunction": frozenset(
        (*codedeploy.IAM_ACTIONS["read"], *queues.IAM_ACTIONS["actions"])
    ),
    "AlarmsFunction": frozenset(
        (
            *cloudwatch.IAM_ACTIONS["describe"],
            *tagging.IAM_ACTIONS,
            *ecs.IAM_ACTIONS["deployment-alarms"],
            *queues.IAM_ACTIONS["actions"],
        )
    ),
    "CostReportFunction": frozenset(
        (
            *costexplorer.IAM_ACTIONS,
            *cloudwatch.IAM_ACTIONS["utilization"],
            *ecs.IAM_ACTIONS["read"],
            *ledger.READ_HISTORY,
            *report_deliveries.IAM_ACTIONS,
            *mailer.IAM_ACTIONS,
            *notifier.IAM_ACTIONS,
            *queues.IAM_ACTIONS["dead-letters"],
        )
    ),
    "ExecutorFunction": frozenset(
        (
            *ecs.IAM_ACTIONS["deploy"],
            *ecr.IAM_ACTIONS,
            *codedeploy.IAM_ACTIONS["deploy"],
            *cloudwatch.IAM_ACTIONS["firing"],
            *ledger.IAM_ACTIONS,
            *notifier.IAM_ACTIONS,
            *autoscaling.IAM_ACTIONS,
            *scheduler.IAM_ACTIONS,
            *queues.IAM_ACTIONS["executor"],
        )
    ),
}

"""The IAM actions each function needs, composed from what its adapters declare they call,
and what the operators' command line needs.

A test checks that template.yaml grants each function, and the operators' managed policy,
exactly these, no more, no fewer.
"""

from __future__ import annotations

from autopilot.adapters import (
    alb_metrics,
    autoscaling,
    cloudwatch,
    codedeploy,
    costexplorer,
    ecr,
    ecs,
    fleet_index,
    ledger,
    mailer,
    notifier,
    queues,
    report_deliveries,
    revisions,
    scheduler,
    service_revisions,
    tagging,
    target_groups,
)

_IMAGE_PLANNER = frozenset(
    (
        *tagging.IAM_ACTIONS,
        *ecs.IAM_ACTIONS["read"],
        *revisions.IAM_ACTIONS,
        *queues.IAM_ACTIONS["actions"],
    )
)

# A push or a scan plans from the fleet index, and builds it when it never was.
_INDEXED_PLANNER = _IMAGE_PLANNER | frozenset(
    (*fleet_index.IAM_ACTIONS["lookup"], *fleet_index.IAM_ACTIONS["maintain"])
)

FUNCTION_ACTIONS: dict[str, frozenset[str]] = {
    "EcrPushFunction": _INDEXED_PLANNER,
    "ScheduleFunction": _IMAGE_PLANNER,
    "ScanEventsFunction": _INDEXED_PLANNER,
    "FleetIndexFunction": frozenset(
        (
            *tagging.IAM_ACTIONS,
            *ecs.IAM_ACTIONS["read"],
            *fleet_index.IAM_ACTIONS["maintain"],
            *queues.IAM_ACTIONS["dead-letters"],
        )
    ),
    "PlacementFailuresFunction": frozenset((*tagging.IAM_ACTIONS, *queues.IAM_ACTIONS["actions"])),
    "DeploymentEventsFunction": frozenset(
        (*codedeploy.IAM_ACTIONS["read"], *tagging.IAM_ACTIONS, *queues.IAM_ACTIONS["actions"])
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
            *revisions.IAM_ACTIONS,
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
            *ecs.IAM_ACTIONS["native-rollback"],
            *revisions.IAM_ACTIONS,
            *ecr.IAM_ACTIONS,
            *codedeploy.IAM_ACTIONS["deploy"],
            *cloudwatch.IAM_ACTIONS["firing"],
            *ledger.IAM_ACTIONS,
            *fleet_index.IAM_ACTIONS["follow"],
            *notifier.IAM_ACTIONS,
            *autoscaling.IAM_ACTIONS,
            *scheduler.IAM_ACTIONS,
            *queues.IAM_ACTIONS["executor"],
            # a canary verdict re-reads the judged revision's images before quarantining
            *service_revisions.IAM_ACTIONS["revision"],
            # Approval gates: approve or reject a deployment paused at a PAUSE hook.
            *ecs.IAM_ACTIONS["approval"],
        )
    ),
    # An ECS lifecycle hook: tags first, then the service, its target revision, its target
    # groups' load balancer and metrics; the verdict goes to the actions queue, a malformed
    # invocation to the events dead-letter queue.
    "CanaryHookFunction": frozenset(
        (
            *tagging.IAM_ACTIONS,
            *service_revisions.IAM_ACTIONS["service"],
            *service_revisions.IAM_ACTIONS["revision"],
            *target_groups.IAM_ACTIONS,
            *alb_metrics.IAM_ACTIONS,
            *queues.IAM_ACTIONS["actions"],
            *queues.IAM_ACTIONS["dead-letters"],
        )
    ),
}

# The command line reads the stack itself (cli/operator.py, cli/main.py): its outputs, and for
# `report --resend` its parameters and the reports bucket. sts:GetCallerIdentity, which names
# the operator in the ledger, needs no permission.
_STACK_READS = ("cloudformation:DescribeStackResource", "cloudformation:DescribeStacks")
# status, history, rollback, release and the report read the ledger; only the executor writes it.
LEDGER_READS = ("dynamodb:GetItem", "dynamodb:Query")

OPERATOR_ACTIONS: frozenset[str] = frozenset(
    (
        *_STACK_READS,
        # status, history, rollback, pause, resume, release
        *tagging.IAM_ACTIONS,
        *ecs.IAM_ACTIONS["read"],
        *LEDGER_READS,
        *queues.IAM_ACTIONS["actions"],
        # redrive: out of the actions dead-letter queue, back into the actions queue
        *queues.IAM_ACTIONS["redrive"],
        # report, and report --resend (sent as the report function sends it)
        *costexplorer.IAM_ACTIONS,
        *cloudwatch.IAM_ACTIONS["utilization"],
        *report_deliveries.IAM_ACTIONS,
        *mailer.IAM_ACTIONS,
        *notifier.IAM_ACTIONS,
    )
)
"""What template.yaml's OperatorPolicy grants: the `autopilot` commands an operator runs."""

"""The stack's CloudWatch dashboard, defined once: every widget from the metric names the code
emits (domain/measures.py, the registrations' outcome counts, the batch's failed records).

`python -m autopilot_tools.dashboard` prints the template's `Dashboard` resource; template.yaml
holds exactly that text between its `BEGIN generated dashboard` / `END generated dashboard`
lines, and tests/unit/test_dashboard.py keeps the two the same and checks that every metric a
widget draws is emitted by some code path. A generator for the template, never in the layer.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from typing import Any

from autopilot.domain.measures import (
    ALARM_TO_ROLLBACK,
    COST_EXPLORER_REQUESTS,
    DEPLOY_HELD,
    DEPLOYMENT_DURATION,
    PARKED_HOURS,
    PARKED_SAVINGS,
    PUSH_TO_DEPLOY,
)

NAMESPACE = "ECSAutopilot"  # POWERTOOLS_METRICS_NAMESPACE in the template's Globals
DIMENSION = ("service", "ecs-autopilot")  # Powertools' default dimension (the service name)
DAY, HOUR, WEEK = 86400, 3600, 604800

# Outcome counts: the registrations' metric prefix with the outcome appended (context.finish).
DEPLOYED = "DeployDeployed"
ROLLED_BACK = "RollbackRolledBack"
BATCH_FAILURES = "ActionBatchItemFailures"  # workflows/batch.py


@dataclass(frozen=True, slots=True)
class Series:
    metric: str
    stat: str
    label: str


@dataclass(frozen=True, slots=True)
class Chart:
    title: str
    series: tuple[Series, ...]
    period: int
    view: str = "timeSeries"  # timeSeries | singleValue | bar
    unit: str = ""  # how the local demo prints the figure: "ms" for latencies


def latency(title: str, metric: str) -> Chart:
    """A duration in milliseconds, its median and 95th percentile by the hour."""
    return Chart(
        title, (Series(metric, "p50", "p50"), Series(metric, "p95", "p95")), HOUR, unit="ms"
    )


CHARTS = (
    Chart(
        "Deploys, rollbacks and holds per day",
        (
            Series(DEPLOYED, "Sum", "deploys"),
            Series(ROLLED_BACK, "Sum", "rollbacks"),
            Series(DEPLOY_HELD, "Sum", "pushes held"),
        ),
        DAY,
        "bar",
    ),
    latency("Push -> deploy started (ECR event time to UpdateService)", PUSH_TO_DEPLOY),
    latency("Alarm -> rollback started (alarm event time to the rollback call)", ALARM_TO_ROLLBACK),
    latency("Deployment start -> ECS reports it completed", DEPLOYMENT_DURATION),
    Chart(
        "Parked hours and dollars saved this week",
        (Series(PARKED_HOURS, "Sum", "hours parked"), Series(PARKED_SAVINGS, "Sum", "USD saved")),
        WEEK,
        "singleValue",
    ),
    Chart(
        "Cost Explorer requests per report ($0.01 each)",
        (Series(COST_EXPLORER_REQUESTS, "Maximum", "requests"),),
        WEEK,
        "singleValue",
    ),
)

EMITTED = (*dict.fromkeys(s.metric for c in CHARTS for s in c.series), BATCH_FAILURES)


def _metric_widget(chart: Chart, x: int, y: int) -> dict[str, Any]:
    metrics = [
        [NAMESPACE, s.metric, *DIMENSION, {"stat": s.stat, "label": s.label}] for s in chart.series
    ]
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": chart.title,
            "view": chart.view,
            "region": "${AWS::Region}",
            "period": chart.period,
            "metrics": metrics,
        },
    }


def _aws_widget(title: str, metrics: list[list[Any]], x: int, y: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": x,
        "y": y,
        "width": 12,
        "height": 6,
        "properties": {
            "title": title,
            "view": "timeSeries",
            "region": "${AWS::Region}",
            "period": 300,
            "metrics": metrics,
        },
    }


def body() -> dict[str, Any]:
    """The dashboard, with `${...}` references for CloudFormation's Fn::Sub."""
    widgets = [
        {
            "type": "text",
            "x": 0,
            "y": 0,
            "width": 24,
            "height": 2,
            "properties": {
                "markdown": "## ECS Autopilot: ${AWS::StackName}\n"
                "[Ledger (DynamoDB item explorer)](https://${AWS::Region}.console.aws.amazon.com"
                "/dynamodbv2/home?region=${AWS::Region}#item-explorer?table=${LedgerTable}) · "
                "[Runbook](${RunbookUrl}) · "
                "per-service history: `autopilot history CLUSTER/SERVICE`"
            },
        }
    ]
    for index, chart in enumerate(CHARTS):
        widgets.append(_metric_widget(chart, 12 * (index % 2), 2 + 6 * (index // 2)))
    y = 2 + 6 * ((len(CHARTS) + 1) // 2)
    widgets.append(
        _aws_widget(
            "Dead-letter queues (messages waiting for a person)",
            [
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    "${ActionsDeadLetterQueue.QueueName}",
                    {"stat": "Maximum", "label": "actions DLQ"},
                ],
                [
                    "AWS/SQS",
                    "ApproximateNumberOfMessagesVisible",
                    "QueueName",
                    "${EventsDeadLetterQueue.QueueName}",
                    {"stat": "Maximum", "label": "events DLQ"},
                ],
            ],
            0,
            y,
        )
    )
    widgets.append(
        _aws_widget(
            "Executor errors and failed records",
            [
                [
                    "AWS/Lambda",
                    "Errors",
                    "FunctionName",
                    "${ExecutorFunction}",
                    {"stat": "Sum", "label": "executor errors"},
                ],
                [NAMESPACE, BATCH_FAILURES, *DIMENSION, {"stat": "Sum", "label": "failed records"}],
            ],
            12,
            y,
        )
    )
    widgets.append(
        {
            "type": "log",
            "x": 0,
            "y": y + 6,
            "width": 24,
            "height": 6,
            "properties": {
                "title": "Actions by service, outcome and reason (skipped, held, failed: why)",
                "region": "${AWS::Region}",
                "view": "table",
                "query": "SOURCE '/aws/lambda/${ExecutorFunction}' | "
                'filter message = "action finished" | '
                "stats count(*) as actions by ecs_service, kind, outcome, code | sort actions desc",
            },
        }
    )
    return {"widgets": widgets}


def resource() -> str:
    """The template text of the dashboard resource (what lies between the markers)."""
    text = json.dumps(body(), indent=2)
    indented = "\n".join(f"        {line}" for line in text.splitlines())
    return (
        "  Dashboard:\n"
        "    Type: AWS::CloudWatch::Dashboard\n"
        "    Properties:\n"
        "      DashboardName: !Ref AWS::StackName\n"
        "      DashboardBody: !Sub |\n"
        f"{indented}\n"
    )


if __name__ == "__main__":
    sys.stdout.write(resource())

"""Application Load Balancer metrics of target groups over the same minutes: one GetMetricData
call for all of them.

What is asked, per target group (AWS/ApplicationELB, dimensions `TargetGroup` and
`LoadBalancer`, period 60 s): `RequestCount` Sum, `HTTPCode_Target_5XX_Count` Sum, and
`TargetResponseTime` p99 and p95 (seconds). Elastic Load Balancing sends its metrics in 60-second
intervals and reports none for a minute with no request, nor a 5XX count of zero
(https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html):
a minute without `RequestCount` served nothing, one without `HTTPCode_Target_5XX_Count` failed
nothing. GetMetricData answers each query's values with their timestamps, and `NextToken` when
a page cannot hold them all (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html);
a canary's window (at most `max-minutes` of minutes, 8 queries) fits one page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from autopilot.adapters import clients
from autopilot.domain.canary_hook import Minute, Window, target_group_dimension
from autopilot.records import replace

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import (
        DimensionTypeDef,
        MetricDataQueryTypeDef,
        MetricStatTypeDef,
    )

IAM_ACTIONS = ("cloudwatch:GetMetricData",)
NAMESPACE = "AWS/ApplicationELB"
PERIOD = 60
# Query id prefix -> (metric, statistic, the Minute field it fills)
QUERIES = (
    ("requests", "RequestCount", "Sum"),
    ("errors", "HTTPCode_Target_5XX_Count", "Sum"),
    ("p99", "TargetResponseTime", "p99"),
    ("p95", "TargetResponseTime", "p95"),
)
_FIELDS = {"requests": "requests", "errors": "errors", "p99": "p99_seconds", "p95": "p95_seconds"}


def metric_queries(
    load_balancer: str, target_groups: Sequence[str]
) -> list[MetricDataQueryTypeDef]:
    """The queries for each target group (by its ARN), ids `<what>_<index>`."""
    queries: list[MetricDataQueryTypeDef] = []
    for index, target_group in enumerate(target_groups):
        dimensions: list[DimensionTypeDef] = [
            {"Name": "TargetGroup", "Value": target_group_dimension(target_group)},
            {"Name": "LoadBalancer", "Value": load_balancer},
        ]
        for what, metric, stat in QUERIES:
            metric_stat: MetricStatTypeDef = {
                "Metric": {"Namespace": NAMESPACE, "MetricName": metric, "Dimensions": dimensions},
                "Period": PERIOD,
                "Stat": stat,
            }
            queries.append({"Id": f"{what}_{index}", "MetricStat": metric_stat, "ReturnData": True})
    return queries


class AlbMetrics:
    def __init__(self, client: CloudWatchClient | None = None) -> None:
        self._cloudwatch = client or clients.cloudwatch()

    def minutes(
        self, load_balancer: str, target_groups: Sequence[str], window: Window
    ) -> dict[str, list[Minute]]:
        """Target group ARN -> its minutes in the window that served requests, oldest first.
        `load_balancer` is the `LoadBalancer` dimension (`app/NAME/ID`)."""
        values: dict[str, dict[datetime, float]] = defaultdict(dict)
        arguments: dict[str, Any] = {
            "MetricDataQueries": metric_queries(load_balancer, target_groups),
            "StartTime": window.start,
            "EndTime": window.end,
            "ScanBy": "TimestampAscending",
        }
        while True:
            response = self._cloudwatch.get_metric_data(**arguments)
            for result in response.get("MetricDataResults", []):
                series = values[result["Id"]]
                series.update(
                    zip(result.get("Timestamps", []), result.get("Values", []), strict=False)
                )
            if not response.get("NextToken"):
                break
            arguments["NextToken"] = response["NextToken"]
        return {
            target_group: _minutes(values, index)
            for index, target_group in enumerate(target_groups)
        }


def _minutes(values: dict[str, dict[datetime, float]], index: int) -> list[Minute]:
    by_time: dict[datetime, Minute] = {}
    for stamp in sorted(values.get(f"requests_{index}", {})):
        by_time[stamp] = Minute()
    for what, field in _FIELDS.items():
        for stamp, value in values.get(f"{what}_{index}", {}).items():
            if stamp in by_time:  # a percentile or a 5XX count needs requests in that minute
                by_time[stamp] = replace(by_time[stamp], **{field: value})
    return [by_time[stamp] for stamp in sorted(by_time)]

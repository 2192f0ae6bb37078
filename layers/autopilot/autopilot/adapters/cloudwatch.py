"""CloudWatch: alarms (their tags, which ones tied to a service are firing) and Container
Insights utilization for the cost report."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.alarms import InvalidAlarmTagError, alarm_services
from autopilot.domain.report import Utilization

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef

_METRIC_QUERIES_PER_CALL = 500  # GetMetricData's limit; four queries per service

IAM_ACTIONS = {
    "utilization": ("cloudwatch:GetMetricData",),
    "tags": ("cloudwatch:ListTagsForResource",),
    "firing": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
}


class CloudWatchGateway:
    def __init__(self, client: CloudWatchClient | None = None) -> None:
        self._cloudwatch = client or clients.cloudwatch()

    def alarm_tags(self, alarm_arn: str) -> dict[str, str]:
        try:
            response = self._cloudwatch.list_tags_for_resource(ResourceARN=alarm_arn)
        except ClientError as exc:
            if is_code(exc, "ResourceNotFoundException", "ResourceNotFound"):
                return {}
            raise
        return {t["Key"]: t["Value"] for t in response.get("Tags", [])}

    def firing_for(self, service_arn: str, account: str, region: str) -> tuple[str, ...]:
        """Names of the alarms in ALARM now that are tied to the service."""
        firing: list[str] = []
        paginator = self._cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(
            StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        ):
            for alarm in page.get("MetricAlarms", []):
                dimensions = [{d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}]
                dimensions += [
                    {d["Name"]: d["Value"] for d in q["MetricStat"]["Metric"].get("Dimensions", [])}
                    for q in alarm.get("Metrics", [])
                    if "MetricStat" in q
                ]
                if self._ties(alarm["AlarmArn"], dimensions, service_arn, account, region):
                    firing.append(alarm["AlarmName"])
            for composite in page.get("CompositeAlarms", []):
                if self._ties(composite["AlarmArn"], [], service_arn, account, region):
                    firing.append(composite["AlarmName"])
        return tuple(sorted(firing))

    def _ties(
        self,
        alarm_arn: str,
        dimensions: list[dict[str, str]],
        service_arn: str,
        account: str,
        region: str,
    ) -> bool:
        tags = self.alarm_tags(alarm_arn)
        try:
            return service_arn in alarm_services(tags, dimensions, account, region)
        except InvalidAlarmTagError:
            return False

    def utilization(
        self, services: list[tuple[str, str]], start: datetime, end: datetime
    ) -> dict[tuple[str, str], Utilization]:
        """Container Insights CPU and memory, used against reserved, per (cluster, service)."""
        queries: list[MetricDataQueryTypeDef] = []
        for index, (cluster, service) in enumerate(services):
            for metric in ("CpuUtilized", "CpuReserved", "MemoryUtilized", "MemoryReserved"):
                queries.append(
                    {
                        "Id": f"{metric.lower()}_{index}",
                        "MetricStat": {
                            "Metric": {
                                "Namespace": "ECS/ContainerInsights",
                                "MetricName": metric,
                                "Dimensions": [
                                    {"Name": "ClusterName", "Value": cluster},
                                    {"Name": "ServiceName", "Value": service},
                                ],
                            },
                            "Period": 3600,
                            "Stat": "Average",
                        },
                    }
                )
        values: dict[str, list[float]] = {}
        for start_index in range(0, len(queries), _METRIC_QUERIES_PER_CALL):
            paginator = self._cloudwatch.get_paginator("get_metric_data")
            for page in paginator.paginate(
                MetricDataQueries=queries[start_index : start_index + _METRIC_QUERIES_PER_CALL],
                StartTime=start,
                EndTime=end,
            ):
                for result in page.get("MetricDataResults", []):
                    values.setdefault(result["Id"], []).extend(result.get("Values", []))
        found = {}
        for index, key in enumerate(services):
            cpu = _ratios(values.get(f"cpuutilized_{index}"), values.get(f"cpureserved_{index}"))
            memory = _ratios(
                values.get(f"memoryutilized_{index}"), values.get(f"memoryreserved_{index}")
            )
            if cpu and memory:
                found[key] = Utilization(
                    cpu_average=sum(cpu) / len(cpu),
                    cpu_peak=max(cpu),
                    memory_average=sum(memory) / len(memory),
                    memory_peak=max(memory),
                )
        return found


def _ratios(used: list[float] | None, reserved: list[float] | None) -> list[float]:
    if not used or not reserved:
        return []
    capacity = max(reserved)
    return [u / capacity for u in used] if capacity > 0 else []

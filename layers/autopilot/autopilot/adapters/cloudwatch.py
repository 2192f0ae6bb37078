"""CloudWatch: alarms (one alarm's actions, dimensions and tags; which ones tied to a service are
firing) and Container Insights utilization for the cost report."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.alarms import (
    InvalidAlarmTagError,
    alarm_services,
    is_scaling_alarm,
    service_location,
)
from autopilot.domain.fleet import Service
from autopilot.domain.report import Utilization

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import (
        CompositeAlarmTypeDef,
        MetricAlarmTypeDef,
        MetricDataQueryTypeDef,
    )

_METRIC_QUERIES_PER_CALL = 500  # GetMetricData's limit; four queries per service

IAM_ACTIONS = {
    "utilization": ("cloudwatch:GetMetricData",),
    "describe": ("cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"),
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

    def describe_alarm(self, name: str) -> AlarmFacts | None:
        """What CloudWatch says about one alarm now; None if it has no alarm by that name."""
        response = self._cloudwatch.describe_alarms(
            AlarmNames=[name], AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        )
        found = [
            *(_metric_facts(a) for a in response.get("MetricAlarms", [])),
            *(_composite_facts(a) for a in response.get("CompositeAlarms", [])),
        ]
        return next((facts for facts in found if facts.name == name), None)

    def firing_for(self, service: Service) -> tuple[str, ...]:
        """Names of the alarms in ALARM now that are tied to the service (its tagged alarms, its
        deployment alarms, the untagged alarms on its metrics; never Auto Scaling's)."""
        account, region = service_location(service.arn)
        firing: list[str] = []
        paginator = self._cloudwatch.get_paginator("describe_alarms")
        for page in paginator.paginate(
            StateValue="ALARM", AlarmTypes=["MetricAlarm", "CompositeAlarm"]
        ):
            alarms = [
                *(_metric_facts(a) for a in page.get("MetricAlarms", [])),
                *(_composite_facts(a) for a in page.get("CompositeAlarms", [])),
            ]
            for alarm in alarms:
                # Auto Scaling's alarms are often in ALARM (AlarmLow whenever it is quiet):
                # ruled out before their tags are read.
                if is_scaling_alarm(alarm.name, alarm.actions):
                    continue
                if self._ties(alarm, service, account, region):
                    firing.append(alarm.name)
        return tuple(sorted(firing))

    def _ties(self, alarm: AlarmFacts, service: Service, account: str, region: str) -> bool:
        try:
            tied = alarm_services(
                name=alarm.name,
                tags=self.alarm_tags(alarm.arn),
                dimensions=alarm.dimensions,
                actions=alarm.actions,
                deployment_alarms={service.arn: service.deployment_alarms},
                account=account,
                region=region,
            )
        except InvalidAlarmTagError:
            return alarm.name in service.deployment_alarms
        return service.arn in tied

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


@dataclass(frozen=True, slots=True)
class AlarmFacts:
    """An alarm as DescribeAlarms shows it: what ties it to services, tags aside."""

    name: str
    arn: str
    dimensions: tuple[dict[str, str], ...]  # of the alarm's metric and of each metric query
    actions: tuple[str, ...]  # alarm, OK and insufficient-data actions


def _actions(alarm: MetricAlarmTypeDef | CompositeAlarmTypeDef) -> tuple[str, ...]:
    return (
        *alarm.get("AlarmActions", []),
        *alarm.get("OKActions", []),
        *alarm.get("InsufficientDataActions", []),
    )


def _metric_facts(alarm: MetricAlarmTypeDef) -> AlarmFacts:
    dimensions = [{d["Name"]: d["Value"] for d in alarm.get("Dimensions", [])}]
    dimensions += [
        {d["Name"]: d["Value"] for d in query["MetricStat"]["Metric"].get("Dimensions", [])}
        for query in alarm.get("Metrics", [])
        if "MetricStat" in query
    ]
    return AlarmFacts(
        name=alarm["AlarmName"],
        arn=alarm["AlarmArn"],
        dimensions=tuple(d for d in dimensions if d),
        actions=_actions(alarm),
    )


def _composite_facts(alarm: CompositeAlarmTypeDef) -> AlarmFacts:
    return AlarmFacts(alarm["AlarmName"], alarm["AlarmArn"], (), _actions(alarm))


def _ratios(used: list[float] | None, reserved: list[float] | None) -> list[float]:
    if not used or not reserved:
        return []
    capacity = max(reserved)
    return [u / capacity for u in used] if capacity > 0 else []

"""CloudWatch alarms: their tags, and which alarms tied to a service are firing now."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.alarms import InvalidAlarmTagError, alarm_services

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient

IAM_ACTIONS = {
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

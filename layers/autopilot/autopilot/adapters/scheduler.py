"""EventBridge Scheduler: the one-off schedule that ends a peak and restores capacity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autopilot.adapters import clients

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

IAM_ACTIONS = ("iam:PassRole", "scheduler:CreateSchedule")


class SchedulerGateway:
    def __init__(
        self,
        group: str,
        target_arn: str,
        role_arn: str,
        client: EventBridgeSchedulerClient | None = None,
    ) -> None:
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._scheduler = client or clients.scheduler()

    def once(self, name: str, at: datetime, document: Mapping[str, Any]) -> str:
        """Deliver `document` to the schedule function once, at `at`; returns the schedule ARN.

        The schedule deletes itself after it ran."""
        # In UTC: the instant is exact whatever the offset the operator wrote `until` with.
        moment = at.astimezone(UTC)
        response = self._scheduler.create_schedule(
            Name=name[:64],
            GroupName=self._group,
            ScheduleExpression=f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})",
            ScheduleExpressionTimezone="UTC",
            FlexibleTimeWindow={"Mode": "OFF"},
            ActionAfterCompletion="DELETE",
            Target={
                "Arn": self._target_arn,
                "RoleArn": self._role_arn,
                "Input": json.dumps(document),
                "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
            },
        )
        return response["ScheduleArn"]

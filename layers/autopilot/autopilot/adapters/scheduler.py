"""EventBridge Scheduler: the one-off schedule that ends a peak and restores capacity."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.errors import ConflictError

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient
    from mypy_boto3_scheduler.type_defs import TargetTypeDef

IAM_ACTIONS = ("iam:PassRole", "scheduler:CreateSchedule", "scheduler:GetSchedule")


class SchedulerGateway:
    def __init__(
        self,
        group: str,
        target_arn: str,
        role_arn: str,
        dead_letter_arn: str,
        client: EventBridgeSchedulerClient | None = None,
    ) -> None:
        self._group = group
        self._target_arn = target_arn
        self._role_arn = role_arn
        self._dead_letter_arn = dead_letter_arn
        self._scheduler = client or clients.scheduler()

    def once(self, name: str, at: datetime, document: Mapping[str, Any]) -> str:
        """Deliver `document` to the schedule function once, at `at`; returns the schedule ARN.

        The schedule deletes itself after it ran. Creating it again (a retried action) is not
        an error: the schedule an earlier attempt made is returned, if it is the same one."""
        # In UTC: the instant is exact whatever the offset the operator wrote `until` with.
        moment = at.astimezone(UTC)
        expression = f"at({moment.strftime('%Y-%m-%dT%H:%M:%S')})"
        target: TargetTypeDef = {
            "Arn": self._target_arn,
            "RoleArn": self._role_arn,
            "Input": json.dumps(document),
            # If the schedule function cannot be invoked: retry for an hour, then keep the
            # document in the dead-letter queue, where an alarm sees it.
            "RetryPolicy": {"MaximumRetryAttempts": 10, "MaximumEventAgeInSeconds": 3600},
            "DeadLetterConfig": {"Arn": self._dead_letter_arn},
        }
        try:
            response = self._scheduler.create_schedule(
                Name=name[:64],
                GroupName=self._group,
                ScheduleExpression=expression,
                ScheduleExpressionTimezone="UTC",
                FlexibleTimeWindow={"Mode": "OFF"},
                ActionAfterCompletion="DELETE",
                Target=target,
            )
        except ClientError as exc:
            # CreateSchedule is not idempotent: after a lost response every retry conflicts.
            if is_code(exc, "ConflictException"):
                return self._existing(name[:64], expression, document)
            raise
        return response["ScheduleArn"]

    def _existing(self, name: str, expression: str, document: Mapping[str, Any]) -> str:
        """The schedule of that name, if it fires the same document at the same time."""
        found = self._scheduler.get_schedule(Name=name, GroupName=self._group)
        target = found["Target"]
        same = (
            found["ScheduleExpression"] == expression
            and target["Arn"] == self._target_arn
            and json.loads(target.get("Input") or "null") == json.loads(json.dumps(document))
        )
        if not same:
            raise ConflictError(f"schedule {name} exists and does something else")
        return found["Arn"]

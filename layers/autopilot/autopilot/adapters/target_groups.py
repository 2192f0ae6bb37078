"""Elastic Load Balancing: which load balancers send traffic to a target group.

DescribeTargetGroups answers each target group's `LoadBalancerArns` (the load balancers whose
listener rules forward to it); an ARN it does not know fails the call with TargetGroupNotFound
(https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetGroups.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_elbv2 import ElasticLoadBalancingv2Client

IAM_ACTIONS = ("elasticloadbalancing:DescribeTargetGroups",)


class TargetGroups:
    def __init__(self, client: ElasticLoadBalancingv2Client | None = None) -> None:
        self._elbv2 = client or clients.elbv2()

    def load_balancers(self, target_group_arns: Sequence[str]) -> dict[str, tuple[str, ...]]:
        """Target group ARN -> the ARNs of the load balancers that forward to it."""
        try:
            response = self._elbv2.describe_target_groups(TargetGroupArns=list(target_group_arns))
        except ClientError as exc:
            if is_code(exc, "TargetGroupNotFound"):
                raise NotFoundError(
                    f"target group not found: {', '.join(target_group_arns)}"
                ) from exc
            raise
        return {
            group["TargetGroupArn"]: tuple(group.get("LoadBalancerArns", []))
            for group in response.get("TargetGroups", [])
        }

"""Application Auto Scaling: a service's scalable target (min, max, suspended state)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from autopilot.adapters import clients
from autopilot.domain.fleet import Service

if TYPE_CHECKING:
    from mypy_boto3_application_autoscaling import ApplicationAutoScalingClient

IAM_ACTIONS = (
    "application-autoscaling:DescribeScalableTargets",
    "application-autoscaling:RegisterScalableTarget",
)
_NAMESPACE: Final = "ecs"
_DIMENSION: Final = "ecs:service:DesiredCount"


def _resource_id(service: Service) -> str:
    return f"service/{service.cluster_name}/{service.name}"


class AutoScalingGateway:
    def __init__(self, client: ApplicationAutoScalingClient | None = None) -> None:
        self._autoscaling = client or clients.autoscaling()

    def target(self, service: Service) -> tuple[int, int, dict[str, bool]] | None:
        """(min, max, suspended state) of the service's scalable target; None without one."""
        response = self._autoscaling.describe_scalable_targets(
            ServiceNamespace=_NAMESPACE,
            ResourceIds=[_resource_id(service)],
            ScalableDimension=_DIMENSION,
        )
        for target in response.get("ScalableTargets", []):
            suspended: Mapping[str, Any] = target.get("SuspendedState", {})
            return (
                target["MinCapacity"],
                target["MaxCapacity"],
                {
                    "DynamicScalingInSuspended": bool(suspended.get("DynamicScalingInSuspended")),
                    "DynamicScalingOutSuspended": bool(suspended.get("DynamicScalingOutSuspended")),
                    "ScheduledScalingSuspended": bool(suspended.get("ScheduledScalingSuspended")),
                },
            )
        return None

    def set_target(
        self, service: Service, minimum: int, maximum: int, suspended: Mapping[str, bool]
    ) -> None:
        self._autoscaling.register_scalable_target(
            ServiceNamespace=_NAMESPACE,
            ResourceId=_resource_id(service),
            ScalableDimension=_DIMENSION,
            MinCapacity=minimum,
            MaxCapacity=maximum,
            SuspendedState={
                "DynamicScalingInSuspended": suspended["DynamicScalingInSuspended"],
                "DynamicScalingOutSuspended": suspended["DynamicScalingOutSuspended"],
                "ScheduledScalingSuspended": suspended["ScheduledScalingSuspended"],
            },
        )

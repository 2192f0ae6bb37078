"""Amazon ECS, as canary analysis reads it: a service's tags and load balancer entries, and a
service revision's images and resolved target groups.

- DescribeServices (`include: TAGS`) answers each service's `tags` and `loadBalancers`, each
  with `targetGroupArn` and, for blue/green, linear and canary deployments,
  `advancedConfiguration.alternateTargetGroupArn`
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LoadBalancer.html,
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AdvancedConfiguration.html).
- DescribeServiceRevisions answers `serviceRevisions` (each with `serviceArn`,
  `taskDefinition`, `containerImages` of `containerName`, `image` and the `imageDigest` ECS
  resolved, and `resolvedConfiguration.loadBalancers[].targetGroupArn`, the target group the
  revision is associated with) and `failures` for ARNs it does not know
  (https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DescribeServiceRevisions.html,
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceRevision.html).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.adapters.ecs import cluster_of
from autopilot.domain.canary_hook import (
    ContainerImage,
    ServiceRevision,
    ServiceTraffic,
    TargetGroupPair,
)

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

IAM_ACTIONS = {
    "service": ("ecs:DescribeServices",),
    "revision": ("ecs:DescribeServiceRevisions",),
}


class ServiceRevisions:
    def __init__(self, client: ECSClient | None = None) -> None:
        self._ecs = client or clients.ecs()

    def service(self, service_arn: str) -> ServiceTraffic | None:
        """The service's tags and load balancer entries; None when it is gone or inactive."""
        try:
            response = self._ecs.describe_services(
                cluster=cluster_of(service_arn), services=[service_arn], include=["TAGS"]
            )
        except ClientError as exc:
            if is_code(exc, "ClusterNotFoundException"):
                return None
            raise
        found = [s for s in response.get("services", []) if s.get("status") == "ACTIVE"]
        if not found:
            return None
        raw = found[0]
        return ServiceTraffic(
            arn=raw["serviceArn"],
            tags={t["key"]: t.get("value", "") for t in raw.get("tags", []) if "key" in t},
            pairs=tuple(
                TargetGroupPair(
                    target_group=lb["targetGroupArn"],
                    alternate=lb.get("advancedConfiguration", {}).get("alternateTargetGroupArn"),
                )
                for lb in raw.get("loadBalancers", [])
                if lb.get("targetGroupArn")
            ),
        )

    def revision(self, revision_arn: str) -> ServiceRevision | None:
        """The service revision; None when ECS does not know it."""
        response = self._ecs.describe_service_revisions(serviceRevisionArns=[revision_arn])
        found = [
            r
            for r in response.get("serviceRevisions", [])
            if r.get("serviceRevisionArn") == revision_arn
        ]
        if not found:
            return None
        raw = found[0]
        resolved = raw.get("resolvedConfiguration", {}).get("loadBalancers", [])
        return ServiceRevision(
            arn=revision_arn,
            service_arn=raw.get("serviceArn", ""),
            task_definition=raw.get("taskDefinition", ""),
            images=tuple(
                ContainerImage(
                    container=image.get("containerName", ""),
                    image=image.get("image", ""),
                    digest=image.get("imageDigest", ""),
                )
                for image in raw.get("containerImages", [])
            ),
            target_groups=tuple(
                lb["targetGroupArn"] for lb in resolved if lb.get("targetGroupArn")
            ),
        )

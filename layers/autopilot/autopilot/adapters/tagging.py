"""Resource Groups Tagging API: find opted-in services across every cluster in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot.adapters import clients
from autopilot.domain.scope import within

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

IAM_ACTIONS = ("tag:GetResources",)
# GetResources takes at most 100 ARNs and no paging with them; moto pages at 50.
_ARNS_PER_REQUEST = 50


class TaggingGateway:
    def __init__(
        self,
        client: ResourceGroupsTaggingAPIClient | None = None,
        clusters: frozenset[str] | None = None,
    ) -> None:
        self._tagging = client or clients.tagging()
        self._clusters = clusters

    def services_tagged(self, key: str) -> list[str]:
        """ARNs of ECS services in this account and region that carry the tag key, in the
        managed clusters only: every planner finds its services here, so a service outside
        them is never read."""
        arns: list[str] = []
        paginator = self._tagging.get_paginator("get_resources")
        # 100 a page, the most GetResources returns (moto's default is 50; AWS does not say).
        for page in paginator.paginate(
            ResourceTypeFilters=["ecs:service"],
            TagFilters=[{"Key": key}],
            PaginationConfig={"PageSize": 100},
        ):
            arns.extend(item["ResourceARN"] for item in page.get("ResourceTagMappingList", []))
        return sorted(within(arns, self._clusters))

    def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
        """Those of `service_arns` (in the managed clusters) that carry the tag key now, read
        from their tags alone: nothing is asked of ECS about a service that did not opt in."""
        wanted = within(service_arns, self._clusters)
        found: set[str] = set()
        for start in range(0, len(wanted), _ARNS_PER_REQUEST):
            response = self._tagging.get_resources(
                ResourceARNList=wanted[start : start + _ARNS_PER_REQUEST]
            )
            found.update(
                item["ResourceARN"]
                for item in response.get("ResourceTagMappingList", [])
                if any(tag["Key"] == key for tag in item.get("Tags", []))
            )
        return [arn for arn in wanted if arn in found]

"""Resource Groups Tagging API: find opted-in services across every cluster in one place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot.adapters import clients

if TYPE_CHECKING:
    from mypy_boto3_resourcegroupstaggingapi import ResourceGroupsTaggingAPIClient

IAM_ACTIONS = ("tag:GetResources",)


class TaggingGateway:
    def __init__(self, client: ResourceGroupsTaggingAPIClient | None = None) -> None:
        self._tagging = client or clients.tagging()

    def services_tagged(self, key: str) -> list[str]:
        """ARNs of ECS services in this account and region that carry the tag key."""
        arns: list[str] = []
        paginator = self._tagging.get_paginator("get_resources")
        # 100 a page, the most GetResources returns (moto's default is 50; AWS does not say).
        for page in paginator.paginate(
            ResourceTypeFilters=["ecs:service"],
            TagFilters=[{"Key": key}],
            PaginationConfig={"PageSize": 100},
        ):
            arns.extend(item["ResourceARN"] for item in page.get("ResourceTagMappingList", []))
        return sorted(arns)

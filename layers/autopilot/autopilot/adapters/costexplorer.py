"""Cost Explorer: daily ECS cost by cluster and service. Each request costs $0.01: count them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from autopilot.adapters import clients
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, CostLine

if TYPE_CHECKING:
    from mypy_boto3_ce import CostExplorerClient

IAM_ACTIONS = ("ce:GetCostAndUsage",)
ECS_SERVICES = ["Amazon Elastic Container Service"]


class CostExplorerGateway:
    def __init__(self, client: CostExplorerClient | None = None) -> None:
        self._ce = client or clients.costexplorer()
        self.requests = 0

    def daily_cost_by_service(self, start: date, end: date) -> list[CostLine]:
        """One request (plus pages) covers both weeks: grouped by the split-cost-allocation tags."""
        return self._daily(
            start, end, [{"Type": "TAG", "Key": CLUSTER_TAG}, {"Type": "TAG", "Key": SERVICE_TAG}]
        )

    def daily_cost_by_usage_type(self, start: date, end: date) -> list[CostLine]:
        """Both weeks by cluster and usage type (vCPU-hours, GB-hours, Spot, transfer...)."""
        return self._daily(
            start,
            end,
            [{"Type": "TAG", "Key": CLUSTER_TAG}, {"Type": "DIMENSION", "Key": "USAGE_TYPE"}],
        )

    def _daily(self, start: date, end: date, group_by: list[dict[str, str]]) -> list[CostLine]:
        lines: list[CostLine] = []
        token: str | None = None
        while True:
            arguments: dict[str, Any] = {
                "TimePeriod": {"Start": start.isoformat(), "End": end.isoformat()},
                "Granularity": "DAILY",
                "Metrics": ["UnblendedCost"],
                "Filter": {"Dimensions": {"Key": "SERVICE", "Values": ECS_SERVICES}},
                "GroupBy": group_by,
            }
            if token:
                arguments["NextPageToken"] = token
            response = self._ce.get_cost_and_usage(**arguments)
            self.requests += 1
            for result in response.get("ResultsByTime", []):
                day = date.fromisoformat(result["TimePeriod"]["Start"])
                for group in result.get("Groups", []):
                    cost = group["Metrics"]["UnblendedCost"]
                    lines.append(
                        CostLine(
                            day=day,
                            keys=tuple(group["Keys"]),
                            amount=Decimal(cost["Amount"]),
                            unit=cost.get("Unit", "USD"),
                            estimated=bool(result.get("Estimated", False)),
                        )
                    )
            token = response.get("NextPageToken")
            if not token:
                return lines

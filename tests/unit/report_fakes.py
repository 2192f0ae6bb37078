"""Cost Explorer answers in the API's shape, for the report's tests. (The in-memory delivery
records are tests/fakes/report.py's.)"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week


def cost_and_usage(
    week: Week, daily: dict[tuple[str, str], str], *, usage_type: bool = False
) -> dict[str, Any]:
    """GetCostAndUsage's answer for the two weeks up to `week`: every day the same `daily`
    cost per (cluster, service), or per (cluster, usage type) with `usage_type`."""
    second = "USAGE_TYPE" if usage_type else SERVICE_TAG

    def keys(first: str, other: str) -> list[str]:
        return [f"{CLUSTER_TAG}${first}", other if usage_type else f"{SERVICE_TAG}${other}"]

    return {
        "GroupDefinitions": [
            {"Type": "TAG", "Key": CLUSTER_TAG},
            {"Type": "DIMENSION" if usage_type else "TAG", "Key": second},
        ],
        "ResultsByTime": [
            {
                "TimePeriod": {
                    "Start": (week.previous.start + timedelta(days=i)).isoformat(),
                    "End": (week.previous.start + timedelta(days=i + 1)).isoformat(),
                },
                "Total": {},
                "Groups": [
                    {
                        "Keys": keys(first, other),
                        "Metrics": {"UnblendedCost": {"Amount": amount, "Unit": "USD"}},
                    }
                    for (first, other), amount in daily.items()
                ],
                "Estimated": False,
            }
            for i in range(14)
        ],
        "DimensionValueAttributes": [],
    }


def week_of(daily: str) -> Decimal:
    return Decimal(daily) * 7


def days(start: date, count: int) -> list[date]:
    return [start + timedelta(days=i) for i in range(count)]

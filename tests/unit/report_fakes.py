"""An in-memory DeliveryRecords with the ledger adapter's conditions (the integration tier runs
the same contract against DynamoDB in moto), and Cost Explorer answers in the API's shape."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from autopilot.domain.errors import ConflictError
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week
from autopilot.domain.report_delivery import ABANDONED_AFTER, Delivery, DeliveryState


@dataclass
class InMemoryDeliveries:
    records: dict[str, Delivery] = field(default_factory=dict)
    writes: list[Delivery] = field(default_factory=list)

    def find(self, week: str) -> Delivery | None:
        return self.records.get(week)

    def claim(self, delivery: Delivery, *, takeover: bool = False) -> bool:
        held = self.records.get(delivery.week)
        free = held is None or (
            takeover
            and (
                held.state is not DeliveryState.SENDING
                or held.claimed_at < delivery.claimed_at - ABANDONED_AFTER
            )
        )
        if free:
            self._write(delivery)
        return free

    def settle(self, delivery: Delivery, *, only_from: DeliveryState | None = None) -> None:
        held = self.records.get(delivery.week)
        if held is None or held.claim != delivery.claim:
            raise ConflictError(f"{delivery.week} is not claimed by {delivery.claim}")
        if only_from is not None and held.state is not only_from:
            raise ConflictError(f"{delivery.week} is {held.state}, not {only_from}")
        self._write(delivery)

    def release(self, delivery: Delivery) -> None:
        held = self.records.get(delivery.week)
        if held and held.claim == delivery.claim and held.state is DeliveryState.SENDING:
            del self.records[delivery.week]

    def _write(self, delivery: Delivery) -> None:
        self.records[delivery.week] = delivery
        self.writes.append(delivery)


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

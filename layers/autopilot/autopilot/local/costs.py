"""Two weeks of ECS cost and a week of Container Insights metrics for the demo fleet, in the
shapes Cost Explorer and CloudWatch return them, loaded into moto (which tracks no cost)."""

from __future__ import annotations

import json
import urllib.request
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import boto3

from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week

# (cluster, service): daily cost last week, daily cost this week (USD)
DAILY_COST: dict[tuple[str, str], tuple[Decimal, Decimal]] = {
    ("prod", "web"): (Decimal("18.40"), Decimal("19.10")),
    ("prod", "api"): (Decimal("11.25"), Decimal("16.80")),  # a big mover
    ("prod", "web-legacy"): (Decimal("4.10"), Decimal("4.10")),
    ("staging", "web"): (Decimal("6.30"), Decimal("3.15")),  # parked at night
    ("staging", "worker"): (Decimal("2.05"), Decimal("2.05")),
    ("", ""): (Decimal("0.90"), Decimal("0.95")),  # cost without ECS tags
}
# (cluster, service): (CPU used / reserved, memory used / reserved) at peak
UTILIZATION = {
    ("prod", "web"): (0.71, 0.64),
    ("prod", "api"): (0.22, 0.31),  # oversized: a rightsizing candidate
    ("prod", "web-legacy"): (0.55, 0.50),
    ("staging", "web"): (0.35, 0.40),
    ("staging", "worker"): (0.60, 0.45),
}


def cost_and_usage_results(week: Week, *, estimated_days: int = 0) -> dict[str, Any]:
    """GetCostAndUsage's response for the two weeks up to `week`, grouped by the ECS tags."""
    results = []
    start = week.previous.start
    for offset in range(14):
        day = start + timedelta(days=offset)
        this_week = offset >= 7
        groups = [
            {
                "Keys": [f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}"],
                "Metrics": {
                    "UnblendedCost": {
                        "Amount": str(daily_cost(cluster, service, day, this_week=this_week)),
                        "Unit": "USD",
                    }
                },
            }
            for cluster, service in DAILY_COST
        ]
        results.append(
            {
                "TimePeriod": {
                    "Start": day.isoformat(),
                    "End": (day + timedelta(days=1)).isoformat(),
                },
                "Total": {},
                "Groups": groups,
                "Estimated": offset >= 14 - estimated_days,
            }
        )
    return {
        "GroupDefinitions": [
            {"Type": "TAG", "Key": CLUSTER_TAG},
            {"Type": "TAG", "Key": SERVICE_TAG},
        ],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    }


# Share of a service's cost per Fargate usage type (the rest is data transfer).
USAGE_SHARES = (
    ("USE1-Fargate-vCPU-Hours:perCPU", Decimal("0.72")),
    ("USE1-Fargate-GB-Hours", Decimal("0.18")),
    ("USE1-DataTransfer-Out-Bytes", Decimal("0.10")),
)


def usage_type_results(week: Week) -> dict[str, Any]:
    """GetCostAndUsage's response grouped by cluster and usage type, matching the above."""
    results = []
    start = week.previous.start
    for offset in range(14):
        day = start + timedelta(days=offset)
        per_cluster: dict[str, Decimal] = {}
        for cluster, service in DAILY_COST:
            amount = daily_cost(cluster, service, day, this_week=offset >= 7)
            per_cluster[cluster] = per_cluster.get(cluster, Decimal(0)) + amount
        groups = [
            {
                "Keys": [f"{CLUSTER_TAG}${cluster}", usage],
                "Metrics": {"UnblendedCost": {"Amount": str(total * share), "Unit": "USD"}},
            }
            for cluster, total in per_cluster.items()
            for usage, share in USAGE_SHARES
        ]
        results.append(
            {
                "TimePeriod": {
                    "Start": day.isoformat(),
                    "End": (day + timedelta(days=1)).isoformat(),
                },
                "Total": {},
                "Groups": groups,
                "Estimated": False,
            }
        )
    return {
        "GroupDefinitions": [
            {"Type": "TAG", "Key": CLUSTER_TAG},
            {"Type": "DIMENSION", "Key": "USAGE_TYPE"},
        ],
        "ResultsByTime": results,
        "DimensionValueAttributes": [],
    }


def load_costs(endpoint: str | None, week: Week, *, estimated_days: int = 0) -> None:
    """Queue both responses in moto, in the order the report asks: by service, by usage type."""
    body = json.dumps(
        {
            "results": [
                cost_and_usage_results(week, estimated_days=estimated_days),
                usage_type_results(week),
            ]
        }
    ).encode()
    base = endpoint or "http://motoapi.amazonaws.com"
    url = f"{base}/moto-api/static/ce/cost-and-usage-results"
    if endpoint is None:
        import requests  # noqa: PLC0415 - in-process moto intercepts the requests library

        requests.post(url, data=body, timeout=10).raise_for_status()
        return
    request = urllib.request.Request(  # noqa: S310 - the local moto server
        url, data=body, method="POST", headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=10):  # noqa: S310
        pass


def load_utilization(week: Week) -> None:
    """Hourly Container Insights datapoints for the week (run inside the runner's AWS env)."""
    cloudwatch = boto3.client("cloudwatch")
    start = datetime.combine(week.start, time.min, tzinfo=UTC)
    reserved_cpu, reserved_memory = 512.0, 1024.0
    for (cluster, service), (cpu_peak, memory_peak) in UTILIZATION.items():
        dimensions = [
            {"Name": "ClusterName", "Value": cluster},
            {"Name": "ServiceName", "Value": service},
        ]
        data = []
        for hour in range(0, 7 * 24, 6):
            stamp = start + timedelta(hours=hour)
            swing = 0.6 + 0.4 * ((hour // 6) % 4) / 3  # reaches the peak every day
            data += [
                _datum("CpuReserved", dimensions, stamp, reserved_cpu),
                _datum("CpuUtilized", dimensions, stamp, reserved_cpu * cpu_peak * swing),
                _datum("MemoryReserved", dimensions, stamp, reserved_memory),
                _datum("MemoryUtilized", dimensions, stamp, reserved_memory * memory_peak * swing),
            ]
        for batch in range(0, len(data), 500):
            cloudwatch.put_metric_data(
                Namespace="ECS/ContainerInsights", MetricData=data[batch : batch + 500]
            )


def _datum(name: str, dimensions: list[dict[str, str]], stamp: datetime, value: float) -> Any:
    return {"MetricName": name, "Dimensions": dimensions, "Timestamp": stamp, "Value": value}


def weekly_total(week: Week) -> Decimal:
    """This week's total of the data above, summed independently of the report code."""
    return sum(
        (
            daily_cost(cluster, service, week.start + timedelta(days=i), this_week=True)
            for cluster, service in DAILY_COST
            for i in range(7)
        ),
        Decimal(0),
    )


def daily_cost(cluster: str, service: str, day: date, *, this_week: bool) -> Decimal:
    """Staging runs less at weekends (it is parked); production does not."""
    base = DAILY_COST[(cluster, service)][1 if this_week else 0]
    weekend = day.weekday() >= 5 and cluster == "staging"
    return (base * Decimal("0.4")).quantize(Decimal("0.01")) if weekend else base

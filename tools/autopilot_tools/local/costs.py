"""Two weeks of ECS cost and a week of Container Insights metrics for the demo fleet, in the
shapes Cost Explorer and CloudWatch return them, loaded into moto (which tracks no cost).

The costs are not made up: each service's hourly cost is its running tasks times the Fargate
list price of its task size (`FargatePrices`, the model the automation uses for the savings it
reports), hour by hour. Parked hours cost nothing and a peak costs its extra tasks, so a week
with a park costs exactly what the park saved less than a week without one.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import boto3

from autopilot.domain.capacity import FargatePrices, TaskSize, groups_of
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, Week
from autopilot_tools.local import fleet

BERLIN = ZoneInfo("Europe/Berlin")
PRICES = FargatePrices()


@dataclass(frozen=True, slots=True)
class Interval:
    """From `start` to `end`, the services of schedule group `group` ran `tasks` tasks."""

    group: str
    start: datetime
    end: datetime
    tasks: int


# The demo's schedules (its story sets the clock to these moments): the nightly group parked
# over the weekend of 20 November, and prod/api's peak on the Monday after.
DEMO_WEEKEND = Interval(
    "nightly",
    datetime(2026, 11, 20, 20, 0, tzinfo=BERLIN),
    datetime(2026, 11, 23, 7, 0, tzinfo=BERLIN),
    tasks=0,
)
DEMO_PEAK = Interval(
    "peak",
    datetime(2026, 11, 23, 7, 30, tzinfo=BERLIN),
    datetime(2026, 11, 23, 11, 30, tzinfo=BERLIN),
    tasks=6,
)
DEMO_SCHEDULES = (DEMO_WEEKEND, DEMO_PEAK)
# Cost with no ECS tags: a one-off x86 task of 0.25 vCPU / 0.5 GB started with RunTask, all week.
UNTAGGED_TASK = TaskSize(0.25, 0.5)


@dataclass(frozen=True, slots=True)
class CostedService:
    cluster: str
    service: str
    size: TaskSize
    desired: int
    groups: frozenset[str]


@cache
def demo_services() -> tuple[CostedService, ...]:
    """The demo fleet as Cost Explorer sees it: task size and launch type from each task
    definition and service, the desired count the seed sets, the schedule groups it is in."""
    found = []
    for seed in fleet.SERVICES:
        definition = fleet.task_definition(seed)
        size = TaskSize(
            vcpu=int(definition["cpu"]) / 1024,
            memory_gb=int(definition["memory"]) / 1024,
            arm=definition["runtimePlatform"]["cpuArchitecture"] == "ARM64",
            spot=False,  # launch type FARGATE: on demand
        )
        found.append(
            CostedService(seed.cluster, seed.name, size, seed.desired, groups_of(dict(seed.tags)))
        )
    return tuple(found)


def tasks_at(service: CostedService, hour: datetime, schedules: tuple[Interval, ...]) -> int:
    """How many tasks the service ran in the hour starting at `hour`."""
    for interval in schedules:
        if interval.group in service.groups and interval.start <= hour < interval.end:
            return interval.tasks
    return service.desired


def hourly_cost(size: TaskSize, tasks: int) -> tuple[Decimal, Decimal]:
    """(vCPU cost, memory cost) of `tasks` tasks of `size` for one hour, at list price."""
    vcpu_price, gb_price = (
        (PRICES.vcpu_arm, PRICES.gb_arm) if size.arm else (PRICES.vcpu_x86, PRICES.gb_x86)
    )
    return (
        Decimal(str(vcpu_price)) * Decimal(str(size.vcpu)) * tasks,
        Decimal(str(gb_price)) * Decimal(str(size.memory_gb)) * tasks,
    )


def daily_split(
    service: CostedService | None, day: date, schedules: tuple[Interval, ...]
) -> tuple[Decimal, Decimal]:
    """(vCPU, memory) cost of one UTC day; `service` None: the untagged one-off task."""
    vcpu, memory = Decimal(0), Decimal(0)
    start = datetime.combine(day, time.min, tzinfo=UTC)
    for offset in range(24):
        hour = start + timedelta(hours=offset)
        if service is None:
            cpu_part, memory_part = hourly_cost(UNTAGGED_TASK, 1)
        else:
            cpu_part, memory_part = hourly_cost(service.size, tasks_at(service, hour, schedules))
        vcpu, memory = vcpu + cpu_part, memory + memory_part
    return vcpu, memory


def daily_cost(
    service: CostedService | None, day: date, schedules: tuple[Interval, ...] = ()
) -> Decimal:
    vcpu, memory = daily_split(service, day, schedules)
    return (vcpu + memory).quantize(Decimal("0.0000000001"))


# (cluster, service): (CPU used / reserved, memory used / reserved) at peak
UTILIZATION = {
    ("prod", "web"): (0.71, 0.64),
    ("prod", "api"): (0.22, 0.31),  # oversized: a rightsizing candidate
    ("prod", "web-legacy"): (0.55, 0.50),
    ("staging", "web"): (0.35, 0.40),
    ("staging", "worker"): (0.60, 0.45),
}


def _days(week: Week) -> list[date]:
    return [week.previous.start + timedelta(days=offset) for offset in range(14)]


def _labelled() -> list[tuple[str, str, CostedService | None]]:
    return [(s.cluster, s.service, s) for s in demo_services()] + [("", "", None)]


def cost_and_usage_results(
    week: Week, *, schedules: tuple[Interval, ...] = (), estimated_days: int = 0
) -> dict[str, Any]:
    """GetCostAndUsage's response for the two weeks up to `week`, grouped by the ECS tags."""
    results = []
    for offset, day in enumerate(_days(week)):
        groups = [
            {
                "Keys": [f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${service}"],
                "Metrics": {
                    "UnblendedCost": {
                        "Amount": str(daily_cost(costed, day, schedules)),
                        "Unit": "USD",
                    }
                },
            }
            for cluster, service, costed in _labelled()
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


def _usage_types(size: TaskSize) -> tuple[str, str]:
    kind = "Fargate-ARM" if size.arm else "Fargate"
    return f"USE1-{kind}-vCPU-Hours:perCPU", f"USE1-{kind}-GB-Hours"


def usage_type_results(week: Week, *, schedules: tuple[Interval, ...] = ()) -> dict[str, Any]:
    """GetCostAndUsage's response grouped by cluster and usage type, matching the above."""
    results = []
    for day in _days(week):
        per_group: dict[tuple[str, str], Decimal] = {}
        for cluster, _, costed in _labelled():
            vcpu, memory = daily_split(costed, day, schedules)
            for usage, amount in zip(
                _usage_types(costed.size if costed else UNTAGGED_TASK), (vcpu, memory), strict=True
            ):
                key = (cluster, usage)
                per_group[key] = per_group.get(key, Decimal(0)) + amount
        groups = [
            {
                "Keys": [f"{CLUSTER_TAG}${cluster}", usage],
                "Metrics": {
                    "UnblendedCost": {
                        "Amount": str(amount.quantize(Decimal("0.0000000001"))),
                        "Unit": "USD",
                    }
                },
            }
            for (cluster, usage), amount in per_group.items()
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


def load_costs(
    endpoint: str | None,
    week: Week,
    *,
    schedules: tuple[Interval, ...] = (),
    estimated_days: int = 0,
) -> None:
    """Queue both responses in moto, in the order the report asks: by service, by usage type."""
    body = json.dumps(
        {
            "results": [
                cost_and_usage_results(week, schedules=schedules, estimated_days=estimated_days),
                usage_type_results(week, schedules=schedules),
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


def weekly_total(week: Week, schedules: tuple[Interval, ...] = ()) -> Decimal:
    """This week's total of the data above, summed independently of the report code."""
    return sum(
        (
            daily_cost(costed, week.start + timedelta(days=i), schedules)
            for _, _, costed in _labelled()
            for i in range(7)
        ),
        Decimal(0),
    )

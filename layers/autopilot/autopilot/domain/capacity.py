"""Park, unpark and scale: what to save, what to set, what to restore, and what parking saved.

Capacity 0 is a value, never "missing": every check here is `is None`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime

import msgspec

from autopilot.domain.decisions import Skip

SCHEDULE = "autopilot:schedule"
OVERRIDE = "autopilot:schedule-override"
_KEEP_UP = re.compile(r"^keep-up-until=(?P<until>\S+)$")
SUSPEND_ALL = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}


class Capacity(msgspec.Struct, frozen=True):
    """A service's capacity: its desired count and, with a scalable target, min, max, suspension."""

    desired: int
    min: int | None = None
    max: int | None = None
    suspended: Mapping[str, bool] | None = None

    @property
    def has_scaling(self) -> bool:
        return self.min is not None and self.max is not None


class Parked(msgspec.Struct, frozen=True):
    capacity: Capacity
    parked_at: datetime


class Scaled(msgspec.Struct, frozen=True):
    previous: Capacity
    scale_id: str
    until: datetime | None = None


class SetCapacity(msgspec.Struct, frozen=True):
    """Set the service to `capacity`; the state to save alongside is the executor's to write."""

    capacity: Capacity
    reason: str


class TaskSize(msgspec.Struct, frozen=True):
    vcpu: float
    memory_gb: float
    arm: bool = False
    spot: bool = False


class FargatePrices(msgspec.Struct, frozen=True):
    """USD per hour. Defaults: us-east-1, Linux, on demand and Spot (settable per installation)."""

    vcpu_x86: float = 0.04048
    gb_x86: float = 0.004445
    vcpu_arm: float = 0.03238
    gb_arm: float = 0.00356
    spot_discount: float = 0.70  # Fargate Spot is typically ~70% below on demand

    def per_task_hour(self, size: TaskSize) -> float:
        vcpu, gb = (self.vcpu_arm, self.gb_arm) if size.arm else (self.vcpu_x86, self.gb_x86)
        hourly = size.vcpu * vcpu + size.memory_gb * gb
        return hourly * (1 - self.spot_discount) if size.spot else hourly


class Savings(msgspec.Struct, frozen=True):
    hours: float
    task_hours: float
    usd: float


def groups_of(tags: Mapping[str, str]) -> frozenset[str]:
    value = tags.get(SCHEDULE, "")
    return frozenset(g for g in re.split(r"[,\s]+", value.strip()) if g)


def keep_up_until(tags: Mapping[str, str]) -> datetime | None:
    """The override's expiry, or None when there is none (or it cannot be read)."""
    match = _KEEP_UP.match(tags.get(OVERRIDE, "").strip())
    if match is None:
        return None
    try:
        until = datetime.fromisoformat(match["until"])
    except ValueError:
        return None
    return until if until.tzinfo is not None else None


def parked_capacity(current: Capacity) -> Capacity:
    """Zero tasks, and a scalable target that cannot scale them back up."""
    if not current.has_scaling:
        return Capacity(desired=0)
    return Capacity(desired=0, min=0, max=0, suspended=dict(SUSPEND_ALL))


def decide_park(
    *,
    scheduling_strategy: str,
    tags: Mapping[str, str],
    parked: Parked | None,
    current: Capacity,
    now: datetime,
    skip_dates: frozenset[date],
) -> SetCapacity | Skip:
    """`now` is in the schedule's time zone, so a skip date is that zone's calendar day."""
    if scheduling_strategy == "DAEMON":
        return Skip("DAEMON services run one task per instance: not parked", "daemon")
    until = keep_up_until(tags)
    if until is not None and now < until:
        return Skip(f"kept up until {until.isoformat()} ({OVERRIDE})", "override")
    if now.date() in skip_dates:
        return Skip(f"{now.date().isoformat()} is a skip date", "skip-date")
    if parked is not None:
        return Skip("already parked: the saved capacity is kept", "already-parked")
    return SetCapacity(parked_capacity(current), "parked")


def decide_unpark(parked: Parked | None) -> SetCapacity | Skip:
    if parked is None:
        return Skip("not parked: nothing to restore", "not-parked")
    return SetCapacity(parked.capacity, "unparked: capacity restored")


def peak_capacity(current: Capacity, minimum: int, maximum: int, desired: int | None) -> Capacity:
    """Peak capacity; without an explicit desired count, at least `minimum` tasks run."""
    wanted = desired if desired is not None else max(current.desired, minimum)
    wanted = min(max(wanted, minimum), maximum)
    if not current.has_scaling:
        return Capacity(desired=wanted)
    return Capacity(desired=wanted, min=minimum, max=maximum, suspended=current.suspended)


def savings(parked: Parked, now: datetime, size: TaskSize, prices: FargatePrices) -> Savings:
    # Timestamps, not wall clocks: a night across a DST change is 10 hours, not 9.
    hours = max((now.timestamp() - parked.parked_at.timestamp()) / 3600, 0.0)
    task_hours = hours * parked.capacity.desired
    return Savings(
        hours=round(hours, 2),
        task_hours=round(task_hours, 2),
        usd=round(task_hours * prices.per_task_hour(size), 2),
    )

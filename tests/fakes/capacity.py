"""Application Auto Scaling targets and EventBridge Scheduler one-off schedules, in memory."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from autopilot.domain.errors import ConflictError
from autopilot.domain.fleet import Service
from tests.fakes.aws import ACCOUNT, REGION, client_error

_SUSPENDED_KEYS = (
    "DynamicScalingInSuspended",
    "DynamicScalingOutSuspended",
    "ScheduledScalingSuspended",
)


def resource_id(cluster: str, service: str) -> str:
    return f"service/{cluster}/{service}"


class FakeAutoScaling:
    def __init__(self) -> None:
        self.targets: dict[str, tuple[int, int, dict[str, bool]]] = {}

    def register(
        self, cluster: str, service: str, minimum: int, maximum: int, suspended: bool = False
    ) -> None:
        """Set-up: a scalable target for the service's desired count."""
        self.targets[resource_id(cluster, service)] = (
            minimum,
            maximum,
            dict.fromkeys(_SUSPENDED_KEYS, suspended),
        )

    def target(self, service: Service) -> tuple[int, int, dict[str, bool]] | None:
        found = self.targets.get(resource_id(service.cluster_name, service.name))
        if found is None:
            return None
        minimum, maximum, suspended = found
        return minimum, maximum, dict(suspended)

    def set_target(
        self, service: Service, minimum: int, maximum: int, suspended: Mapping[str, bool]
    ) -> None:
        if minimum > maximum:
            raise client_error(
                "ValidationException",
                "Minimum capacity cannot be greater than maximum capacity",
                "RegisterScalableTarget",
            )
        # The adapter reads each key: a missing one is a KeyError before any call.
        state = {key: bool(suspended[key]) for key in _SUSPENDED_KEYS}
        self.targets[resource_id(service.cluster_name, service.name)] = (minimum, maximum, state)


@dataclass(frozen=True)
class Schedule:
    name: str
    arn: str
    at: datetime
    document: dict[str, Any]


class FakeScheduler:
    """One schedule group; names are unique in it, as in EventBridge Scheduler. A name taken
    by the same schedule (same time, same document) is the one an earlier attempt made: its
    ARN, as the adapter answers after GetSchedule; by another, ConflictError."""

    def __init__(self, group: str = "autopilot", account: str = ACCOUNT, region: str = REGION):
        self._group = group
        self._account = account
        self._region = region
        self.schedules: dict[str, Schedule] = {}

    def once(self, name: str, at: datetime, document: Mapping[str, Any]) -> str:
        name = name[:64]
        existing = self.schedules.get(name)
        if existing is not None:
            # The adapter compares the expression (whole seconds, UTC) and the JSON document.
            same = _at_expression(existing.at) == _at_expression(at) and json.loads(
                json.dumps(existing.document)
            ) == json.loads(json.dumps(document))
            if not same:
                raise ConflictError(f"schedule {name} exists and does something else")
            return existing.arn
        arn = f"arn:aws:scheduler:{self._region}:{self._account}:schedule/{self._group}/{name}"
        self.schedules[name] = Schedule(name, arn, at, dict(document))
        return arn


def _at_expression(at: datetime) -> str:
    return f"at({at.astimezone(UTC).strftime('%Y-%m-%dT%H:%M:%S')})"

"""ServiceState to and from JSON: one attribute in the STATE item, versioned as a whole."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from autopilot.domain.capacity import Capacity, Parked, Scaled
from autopilot.domain.fleet import ImagePush
from autopilot.domain.state import Deployment, DeploymentState, HeldPush, KnownGood, ServiceState
from autopilot.records import asdict


def dump_state(state: ServiceState) -> str:
    body = asdict(state)
    body.pop("version")
    return json.dumps(body, default=_encode, sort_keys=True)


def load_state(text: str, version: int) -> ServiceState:
    body: dict[str, Any] = json.loads(text)
    latest = body.get("latest")
    return ServiceState(
        service_arn=body["service_arn"],
        known_good=tuple(
            KnownGood(
                task_definition=k["task_definition"],
                images=tuple(k["images"]),
                recorded_at=datetime.fromisoformat(k["recorded_at"]),
                source=k["source"],
            )
            for k in body.get("known_good", [])
        ),
        latest=_deployment(latest) if latest else None,
        rollbacks=tuple(datetime.fromisoformat(t) for t in body.get("rollbacks", [])),
        paused=bool(body.get("paused", False)),
        frozen=bool(body.get("frozen", False)),
        frozen_reason=str(body.get("frozen_reason", "")),
        parked=_parked(body["parked"]) if body.get("parked") else None,
        scaled=_scaled(body["scaled"]) if body.get("scaled") else None,
        held=_held(body["held"]) if body.get("held") else None,
        version=version,
    )


def _capacity(raw: dict[str, Any]) -> Capacity:
    return Capacity(
        desired=int(raw["desired"]),
        min=raw.get("min"),
        max=raw.get("max"),
        suspended=raw.get("suspended"),
    )


def _parked(raw: dict[str, Any]) -> Parked:
    return Parked(_capacity(raw["capacity"]), datetime.fromisoformat(raw["parked_at"]))


def _scaled(raw: dict[str, Any]) -> Scaled:
    until = raw.get("until")
    return Scaled(
        previous=_capacity(raw["previous"]),
        scale_id=raw["scale_id"],
        until=datetime.fromisoformat(until) if until else None,
    )


def _held(raw: dict[str, Any]) -> HeldPush:
    push = raw["push"]
    return HeldPush(
        push=ImagePush(**{**push, "time": datetime.fromisoformat(push["time"])}),
        held_at=datetime.fromisoformat(raw["held_at"]),
        code=raw["code"],
        reason=raw["reason"],
        notified=bool(raw.get("notified", False)),
    )


def _optional_time(raw: dict[str, Any], name: str) -> datetime | None:
    value = raw.get(name)
    return datetime.fromisoformat(value) if value else None


def _deployment(raw: dict[str, Any]) -> Deployment:
    finished = raw.get("finished_at")
    return Deployment(
        action_id=raw["action_id"],
        kind=raw["kind"],
        deployment_id=raw["deployment_id"],
        task_definition=raw["task_definition"],
        images=tuple(raw["images"]),
        started_at=datetime.fromisoformat(raw["started_at"]),
        state=DeploymentState(raw["state"]),
        finished_at=datetime.fromisoformat(finished) if finished else None,
        via=str(raw.get("via", "update-service")),
        unproven=bool(raw.get("unproven", False)),
        serving_since=_optional_time(raw, "serving_since"),
        triggered_at=_optional_time(raw, "triggered_at"),
    )


def _encode(value: object) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"cannot encode {type(value).__name__}")

"""Events in the exact shape AWS sends them, built from the samples in events/ with new values."""

from __future__ import annotations

import copy
import json
import uuid
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from autopilot_tools.local.runner import find_project_root


@cache
def _sample(name: str) -> dict[str, Any]:
    path = find_project_root(Path(__file__).parent) / "events" / name
    loaded: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return loaded


def _event(sample: str, time: datetime | None) -> dict[str, Any]:
    event = copy.deepcopy(_sample(sample))
    event["id"] = str(uuid.uuid4())
    event["time"] = (time or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return event


def ecr_push(
    repository: str,
    tag: str | None,
    digest: str,
    *,
    action: str = "PUSH",
    result: str = "SUCCESS",
    time: datetime | None = None,
) -> dict[str, Any]:
    """`ECR Image Action`, as ECR sends it for a push (or a delete)."""
    event = _event("ecr_image_push.json", time)
    detail = event["detail"]
    detail.update(
        {
            "result": result,
            "repository-name": repository,
            "image-digest": digest,
            "action-type": action,
        }
    )
    if tag is None:
        detail.pop("image-tag", None)
    else:
        detail["image-tag"] = tag
    return event


def ecs_deployment(
    service_arn: str, deployment_id: str, name: str = "SERVICE_DEPLOYMENT_COMPLETED"
) -> dict[str, Any]:
    """`ECS Deployment State Change` for one of the service's deployments."""
    sample = (
        "ecs_deployment_failed.json" if name.endswith("FAILED") else "ecs_deployment_completed.json"
    )
    event = _event(sample, None)
    event["resources"] = [service_arn]
    event["detail"].update(
        {
            "eventName": name,
            "deploymentId": deployment_id,
            "updatedAt": event["time"],
        }
    )
    if name.endswith("COMPLETED"):
        event["detail"]["reason"] = f"ECS deployment {deployment_id} completed."
    return event


def alarm(
    name: str,
    cluster: str,
    service: str,
    state: str = "ALARM",
    *,
    sample: str = "cloudwatch_alarm_state_change.json",
) -> dict[str, Any]:
    """`CloudWatch Alarm State Change` of a single-metric alarm on the service's CPU (`sample`:
    `cloudwatch_alarm_target_tracking.json` for one Application Auto Scaling made)."""
    event = _event(sample, None)
    event["resources"] = [event["resources"][0].rsplit(":", 1)[0] + f":{name}"]
    detail = event["detail"]
    detail["alarmName"] = name
    detail["configuration"]["metrics"][0]["metricStat"]["metric"]["dimensions"] = {
        "ClusterName": cluster,
        "ServiceName": service,
    }
    detail["state"]["value"] = state
    detail["previousState"]["value"] = "OK" if state == "ALARM" else "ALARM"
    return event


def scheduler_delivery(
    document: dict[str, Any], at: datetime, *, schedule_arn: str
) -> dict[str, Any]:
    """The document as schedule `schedule_arn` delivers it at `at`, its context attributes
    filled in (each delivery attempt gets a new execution id)."""
    text = json.dumps(document)
    text = text.replace("<aws.scheduler.schedule-arn>", schedule_arn)
    text = text.replace("<aws.scheduler.execution-id>", str(uuid.uuid4()))
    text = text.replace(
        "<aws.scheduler.scheduled-time>", at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    )
    delivered: dict[str, Any] = json.loads(text)
    return delivered

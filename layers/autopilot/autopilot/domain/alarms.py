"""Which services an alarm speaks for.

An alarm means "this deploy is bad" only if a person tied it to the service for that purpose:
its `autopilot:service` tag, the service's own ECS deployment alarms, or (untagged) its metrics'
ClusterName/ServiceName dimensions. Application Auto Scaling's alarms (target tracking's
`TargetTracking-...-AlarmHigh/AlarmLow`, and the alarms step scaling policies act on) mean
"load changed": they are tied to no service, whatever they carry.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping

from autopilot.domain.config import split_list

SERVICE_TAG = "autopilot:service"
# Target tracking names the alarms it creates `TargetTracking-<resource id>-AlarmHigh-<uuid>`.
TARGET_TRACKING_PREFIX = "TargetTracking-"


class InvalidAlarmTagError(ValueError):
    """The alarm's autopilot:service tag names something that is not a service."""


_SERVICE_ARN = re.compile(r"^arn:aws[\w-]*:ecs:[a-z0-9-]+:\d{12}:service/[^/]+/[^/]+$")
# Application Auto Scaling (and EC2 Auto Scaling) policy ARNs: an alarm that acts on one scales.
_SCALING_POLICY = re.compile(r"^arn:aws[\w-]*:autoscaling:[a-z0-9-]*:\d*:scalingPolicy:")
_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-iso-", "aws-iso"),
    ("us-isob-", "aws-iso-b"),
)


def partition_of(region: str) -> str:
    return next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")


def service_arn(cluster: str, service: str, account: str, region: str) -> str:
    return f"arn:{partition_of(region)}:ecs:{region}:{account}:service/{cluster}/{service}"


def service_location(arn: str) -> tuple[str, str]:
    """(account, region) of a service ARN: where the alarms about it live."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or not parts[5].startswith("service/"):
        raise ValueError(f"not a service ARN: {arn}")
    return parts[4], parts[3]


def is_scaling_alarm(name: str, actions: Iterable[str]) -> bool:
    """Auto Scaling's alarm: created by a target tracking policy, or acting on a scaling policy
    (step scaling policies act through alarms their owners create and name freely)."""
    return name.startswith(TARGET_TRACKING_PREFIX) or any(
        _SCALING_POLICY.match(action) for action in actions
    )


def alarm_services(
    *,
    name: str,
    tags: Mapping[str, str],
    dimensions: Iterable[Mapping[str, str]],
    actions: Iterable[str],
    deployment_alarms: Mapping[str, Collection[str]],
    account: str,
    region: str,
) -> list[str]:
    """Service ARNs the alarm is about, in a stable order; empty if it is about none.

    `actions` are the alarm's alarm, OK and insufficient-data actions; `deployment_alarms` maps
    a service ARN to the alarm names in its deploymentConfiguration.alarms."""
    actions = tuple(actions)
    if is_scaling_alarm(name, actions):
        return []
    found = {arn for arn, names in deployment_alarms.items() if name in names}
    if SERVICE_TAG in tags:
        # The tag is a person's word: it replaces what the dimensions would say.
        found |= {_from_tag(entry, account, region) for entry in split_list(tags[SERVICE_TAG])}
    else:
        found |= {
            service_arn(d["ClusterName"], d["ServiceName"], account, region)
            for d in dimensions
            if d.get("ClusterName") and d.get("ServiceName")
        }
    return sorted(found)


def _from_tag(entry: str, account: str, region: str) -> str:
    if entry.startswith("arn:"):
        if not _SERVICE_ARN.match(entry):
            raise InvalidAlarmTagError(f"{SERVICE_TAG}: not a long-form service ARN: {entry}")
        return entry
    cluster, slash, name = entry.partition("/")
    if not slash or not cluster or not name or "/" in name:
        raise InvalidAlarmTagError(f"{SERVICE_TAG}: expected cluster/service, got {entry!r}")
    return service_arn(cluster, name, account, region)

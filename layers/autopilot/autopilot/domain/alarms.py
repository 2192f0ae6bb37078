"""Which services an alarm speaks for: its `autopilot:service` tag, else its metrics' dimensions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from autopilot.domain.config import split_list

SERVICE_TAG = "autopilot:service"


class InvalidAlarmTagError(ValueError):
    """The alarm's autopilot:service tag names something that is not a service."""


_SERVICE_ARN = re.compile(r"^arn:aws[\w-]*:ecs:[a-z0-9-]+:\d{12}:service/[^/]+/[^/]+$")
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


def alarm_services(
    tags: Mapping[str, str],
    dimensions: Iterable[Mapping[str, str]],
    account: str,
    region: str,
) -> list[str]:
    """Service ARNs the alarm is about, in a stable order; empty if it is about none."""
    if SERVICE_TAG in tags:
        return sorted(
            {_from_tag(entry, account, region) for entry in split_list(tags[SERVICE_TAG])}
        )
    found = {
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

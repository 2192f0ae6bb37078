"""The fleet index, as facts: which ECR repositories a service's running revision pulls from.

A push or a scan names one repository; the index answers "which opted-in services run a
revision with a container from it" without reading the fleet. What is stored, how fresh it
is, and why a stale entry can never cause a wrong change: `adapters/fleet_index.py`.

Pure: a task definition (as DescribeTaskDefinition returns it) in, repository keys out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import msgspec

from autopilot.domain.images import InvalidImageReferenceError, ecr_location, parse_image


def repository_key(account: str, region: str, repository: str) -> str:
    """One ECR repository, whichever endpoint form (dual-stack, FIPS) a container names it by:
    `123456789012/eu-west-1/web`."""
    return f"{account}/{region}/{repository}"


def repositories_used(definition: Mapping[str, Any]) -> frozenset[str]:
    """Keys of the ECR repositories the task definition's containers pull from."""
    return repositories_of(
        str(c.get("image", "")) for c in definition.get("containerDefinitions", [])
    )


def repositories_of(images: Iterable[str]) -> frozenset[str]:
    """Keys of the ECR repositories of these image references. Images outside ECR (Docker Hub,
    public.ecr.aws) and unreadable references are left out: no push deploys them."""
    found: set[str] = set()
    for reference in images:
        try:
            image = parse_image(reference)
        except InvalidImageReferenceError:
            continue
        location = ecr_location(image)
        if location is not None:
            found.add(repository_key(*location, image.repository))
    return frozenset(found)


class IndexEntry(msgspec.Struct, frozen=True):
    """What the index knows of one opted-in service: the revision it was seen running and the
    repositories that revision pulls from."""

    service_arn: str
    task_definition_arn: str
    repositories: frozenset[str]


class IndexChange(msgspec.Struct, frozen=True):
    """One service's change to the index: `entry` None removes the service."""

    previous: IndexEntry | None
    entry: IndexEntry | None

    @property
    def stale_repositories(self) -> frozenset[str]:
        """Repositories the previous entry named that the new one does not."""
        before = self.previous.repositories if self.previous else frozenset()
        after = self.entry.repositories if self.entry else frozenset()
        return before - after


def changes(current: Mapping[str, IndexEntry], wanted: Iterable[IndexEntry]) -> list[IndexChange]:
    """What turns the index `current` into exactly `wanted` (a full reindex): new and changed
    entries, and the removal of every service no longer among those wanted (deleted, no
    longer opted in, moved out of the managed clusters). Unchanged entries are left alone."""
    found: list[IndexChange] = []
    seen: set[str] = set()
    for entry in wanted:
        seen.add(entry.service_arn)
        previous = current.get(entry.service_arn)
        if previous != entry:
            found.append(IndexChange(previous, entry))
    found.extend(
        IndexChange(previous, None) for arn, previous in sorted(current.items()) if arn not in seen
    )
    return found


class IndexWriteError(RuntimeError):
    """The index could not be written (DynamoDB kept leaving writes unprocessed)."""


_PARTITIONS = (("cn-", "aws-cn"), ("us-gov-", "aws-us-gov"))


def called_service(
    event_name: str,
    request: Mapping[str, Any],
    response: Mapping[str, Any],
    account: str,
    region: str,
) -> str | None:
    """The long-form ARN of the service an ECS API call (as CloudTrail records it) was about;
    None when the call was about something else (a task definition, a cluster) or names a
    service only by an old short-form ARN.

    CreateService, UpdateService and DeleteService: the response's `service.serviceArn`, else
    `cluster` (name or ARN; `default` when left out) and `service` / `serviceName` of the
    request. TagResource and UntagResource: the request's `resourceArn`."""
    if event_name in {"TagResource", "UntagResource"}:
        arn = str(request.get("resourceArn", ""))
        return arn if _service_arn(arn) else None
    answered = response.get("service")
    if isinstance(answered, Mapping) and _service_arn(str(answered.get("serviceArn", ""))):
        return str(answered["serviceArn"])
    service = str(request.get("service") or request.get("serviceName") or "")
    if not service:
        return None
    if service.startswith("arn:"):
        return service if _service_arn(service) else None
    cluster = str(request.get("cluster") or "default").rsplit("/", 1)[-1]
    partition = next((p for prefix, p in _PARTITIONS if region.startswith(prefix)), "aws")
    return f"arn:{partition}:ecs:{region}:{account}:service/{cluster}/{service}"


def _service_arn(arn: str) -> bool:
    """`arn:<partition>:ecs:<region>:<account>:service/<cluster>/<name>`."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or parts[2] != "ecs":
        return False
    path = parts[5].split("/")
    return len(path) == 3 and path[0] == "service" and all(path)

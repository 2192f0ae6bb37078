"""Service configuration, read from the ECS service's tags (the tags are the configuration)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from autopilot.domain.tracking import InvalidPolicyError, TrackingPolicy, parse_policy

TAG_PREFIX = "autopilot:"
TRACK = "autopilot:track"
CONTAINERS = "autopilot:containers"
CODEDEPLOY = "autopilot:codedeploy"

# Comma or white space: commas read naturally, spaces are what ECS tag values allow.
_LIST_SEPARATOR = re.compile(r"[,\s]+")


class InvalidConfigError(ValueError):
    """A service tag that cannot be read; the service is left alone and the reason logged."""


@dataclass(frozen=True, slots=True)
class CodeDeployTarget:
    application: str
    deployment_group: str


@dataclass(frozen=True, slots=True)
class ServiceConfig:
    track: TrackingPolicy | None
    containers: frozenset[str] | None
    codedeploy: CodeDeployTarget | None

    @property
    def opted_in(self) -> bool:
        return self.track is not None


def split_list(value: str) -> list[str]:
    return [item for item in _LIST_SEPARATOR.split(value.strip()) if item]


def read_config(tags: Mapping[str, str]) -> ServiceConfig:
    """Read every autopilot tag; any unreadable one makes the whole configuration invalid."""
    track: TrackingPolicy | None = None
    if TRACK in tags:
        try:
            track = parse_policy(tags[TRACK])
        except InvalidPolicyError as exc:
            raise InvalidConfigError(str(exc)) from exc

    containers: frozenset[str] | None = None
    if CONTAINERS in tags:
        names = split_list(tags[CONTAINERS])
        if not names:
            raise InvalidConfigError(f"{CONTAINERS} is empty: name at least one container")
        containers = frozenset(names)

    codedeploy: CodeDeployTarget | None = None
    if CODEDEPLOY in tags:
        application, slash, group = tags[CODEDEPLOY].strip().partition("/")
        if not slash or not application.strip() or not group.strip():
            raise InvalidConfigError(
                f"{CODEDEPLOY} must be <application>/<deployment-group>, got {tags[CODEDEPLOY]!r}"
            )
        codedeploy = CodeDeployTarget(application.strip(), group.strip())

    return ServiceConfig(track=track, containers=containers, codedeploy=codedeploy)

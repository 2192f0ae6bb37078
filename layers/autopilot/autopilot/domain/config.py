"""Service configuration, read from the ECS service's tags (the tags are the configuration)."""

from __future__ import annotations

import re
from collections.abc import Mapping

import msgspec

from autopilot.domain.tracking import InvalidPolicyError, TrackingPolicy, parse_policy

TAG_PREFIX = "autopilot:"
TRACK = "autopilot:track"
CONTAINERS = "autopilot:containers"
CODEDEPLOY = "autopilot:codedeploy"
ROLLBACK = "autopilot:rollback"
BAKE_MINUTES = "autopilot:bake-minutes"
SCAN = "autopilot:scan"
APPROVE = "autopilot:approve"

DEFAULT_BAKE_MINUTES = 30
SEVERITIES = ("CRITICAL", "HIGH", "MEDIUM", "LOW")  # most severe first

# Comma or white space: commas read naturally, spaces are what ECS tag values allow.
_LIST_SEPARATOR = re.compile(r"[,\s]+")


class InvalidConfigError(ValueError):
    """A service tag that cannot be read; the service is left alone and the reason logged."""


class CodeDeployTarget(msgspec.Struct, frozen=True):
    application: str
    deployment_group: str


class ServiceConfig(msgspec.Struct, frozen=True):
    track: TrackingPolicy | None
    containers: frozenset[str] | None
    codedeploy: CodeDeployTarget | None
    rollback: bool = True
    bake_minutes: int = DEFAULT_BAKE_MINUTES
    scan_threshold: str | None = None  # None: no scan gate
    approve: bool = False  # each deploy waits at the service's PAUSE hook for a person

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

    return ServiceConfig(
        track=track,
        containers=containers,
        codedeploy=codedeploy,
        rollback=_on_off(tags, ROLLBACK, default=True),
        bake_minutes=_minutes(tags.get(BAKE_MINUTES)),
        scan_threshold=_scan_threshold(tags.get(SCAN)),
        approve=_on_off(tags, APPROVE, default=False),
    )


def _on_off(tags: Mapping[str, str], key: str, *, default: bool) -> bool:
    value = tags.get(key, "").strip().lower()
    if not value:
        return default
    if value in {"on", "true", "yes"}:
        return True
    if value in {"off", "false", "no"}:
        return False
    raise InvalidConfigError(f"{key} must be on or off, got {tags[key]!r}")


def _minutes(value: str | None) -> int:
    if value is None or not value.strip():
        return DEFAULT_BAKE_MINUTES
    text = value.strip()
    if not re.fullmatch(r"[0-9]+", text) or int(text) > 24 * 60:
        raise InvalidConfigError(f"{BAKE_MINUTES} must be whole minutes, 0 to 1440; got {value!r}")
    return int(text)


def _scan_threshold(value: str | None) -> str | None:
    if value is None or value.strip().lower() in {"", "off"}:
        return None
    severity = value.strip().upper()
    if severity not in SEVERITIES:
        raise InvalidConfigError(f"{SCAN} must be off, {', '.join(SEVERITIES)}; got {value!r}")
    return severity

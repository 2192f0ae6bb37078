"""Cloning a task definition into a new revision that differs only in chosen images."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from typing import Any

# Returned by DescribeTaskDefinition, refused by RegisterTaskDefinition.
READ_ONLY_FIELDS = frozenset(
    {
        "taskDefinitionArn",
        "revision",
        "status",
        "requiresAttributes",
        "compatibilities",
        "registeredAt",
        "registeredBy",
        "deregisteredAt",
        "deleteRequestedAt",
    }
)
_RESERVED_TAG_PREFIX = "aws:"


class UnsupportedTaskDefinitionError(ValueError):
    """A field this SDK cannot register: cloning would silently drop it, so we refuse."""


def clone_task_definition(
    source: Mapping[str, Any],
    new_images: Mapping[str, str],
    writable_fields: frozenset[str],
) -> dict[str, Any]:
    """RegisterTaskDefinition arguments equal to `source` but for the named containers' images.

    Every field the API returned is carried over (secrets, empty environment values,
    ephemeralStorage, runtimePlatform, volumes, proxyConfiguration, and fields AWS adds
    later), except the read-only ones. `writable_fields` comes from the SDK's own model of
    RegisterTaskDefinition, so a field it cannot send stops the clone instead of vanishing.
    """
    carried = {k: copy.deepcopy(v) for k, v in source.items() if k not in READ_ONLY_FIELDS}
    unsupported = sorted(set(carried) - writable_fields)
    if unsupported:
        raise UnsupportedTaskDefinitionError(
            f"task definition has fields this SDK cannot register: {', '.join(unsupported)}"
        )
    names = {c["name"] for c in carried.get("containerDefinitions", [])}
    missing = sorted(set(new_images) - names)
    if missing:
        raise UnsupportedTaskDefinitionError(f"no such containers: {', '.join(missing)}")
    for container in carried.get("containerDefinitions", []):
        if container["name"] in new_images:
            container["image"] = new_images[container["name"]]
    return carried


ACTION_TAG = "autopilot:action"  # which action registered the revision (a retry looks for it)


def revision_tags(source_tags: Sequence[Mapping[str, str]], action_id: str) -> list[dict[str, str]]:
    """The source revision's writable tags, with this action's own tag instead of its."""
    kept = [t for t in writable_tags(source_tags) if t["key"] != ACTION_TAG]
    return [*kept, {"key": ACTION_TAG, "value": action_id}]


def writable_tags(tags: Sequence[Mapping[str, str]]) -> list[dict[str, str]]:
    """Tags to carry to the new revision; `aws:` tags belong to AWS and cannot be written."""
    return [
        {"key": t["key"], "value": t.get("value", "")}
        for t in tags
        if not t["key"].lower().startswith(_RESERVED_TAG_PREFIX)
    ]

"""Blast radius: the clusters the automation may read and change (`ManagedClusters`).

A service outside them is never read or changed, whatever its tags say, and an alarm can only
act on services inside them. No setting means every cluster.
"""

from __future__ import annotations

from collections.abc import Iterable


def cluster_of(service_arn: str) -> str:
    """`arn:aws:ecs:region:account:service/cluster/name` -> `cluster` ("" if not that form)."""
    parts = service_arn.split(":", 5)[-1].split("/")
    return parts[1] if len(parts) == 3 and parts[0] == "service" else ""


def in_scope(service_arn: str, clusters: frozenset[str] | None) -> bool:
    return clusters is None or cluster_of(service_arn) in clusters


def within(service_arns: Iterable[str], clusters: frozenset[str] | None) -> list[str]:
    return [arn for arn in service_arns if in_scope(arn, clusters)]


def parse_clusters(value: str) -> frozenset[str] | None:
    """`prod, staging` -> those clusters; empty or `*` -> None (every cluster)."""
    names = frozenset(n.strip() for n in value.split(",") if n.strip())
    return None if not names or names == {"*"} else names

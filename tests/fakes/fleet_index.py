"""The fleet index in memory, answering as adapters/fleet_index.FleetIndex does on DynamoDB."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from autopilot.domain.fleet_index import IndexChange, IndexEntry


class FakeFleetIndex:
    def __init__(self) -> None:
        self.revisions: dict[str, tuple[str, frozenset[str]]] = {}  # the SERVICE# items
        self.listed: set[tuple[str, str]] = set()  # the REPO# items: (repository, service)
        self.built: datetime | None = None

    def built_at(self) -> datetime | None:
        return self.built

    def services_for(self, repository: str) -> list[str]:
        return sorted(arn for repo, arn in self.listed if repo == repository)

    def entry(self, service_arn: str) -> IndexEntry | None:
        found = self.revisions.get(service_arn)
        return IndexEntry(service_arn, *found) if found else None

    def entries(self) -> dict[str, IndexEntry]:
        arns = set(self.revisions) | {arn for _, arn in self.listed}
        found = {}
        for arn in sorted(arns):
            revision, declared = self.revisions.get(arn, ("", frozenset()))
            listed = frozenset(repo for repo, each in self.listed if each == arn)
            found[arn] = IndexEntry(arn, revision if declared == listed else "", listed)
        return found

    def apply(self, changes: Iterable[IndexChange]) -> None:
        for change in changes:
            if change.entry is None:
                if change.previous is not None:
                    self.revisions.pop(change.previous.service_arn, None)
            else:
                entry = change.entry
                self.revisions[entry.service_arn] = (
                    entry.task_definition_arn,
                    entry.repositories,
                )
                known = change.previous.repositories if change.previous else frozenset()
                self.listed |= {(repo, entry.service_arn) for repo in entry.repositories - known}
            arn = (change.entry or change.previous or IndexEntry("", "", frozenset())).service_arn
            self.listed -= {(repo, arn) for repo in change.stale_repositories}

    def mark_built(self, at: datetime) -> None:
        self.built = at

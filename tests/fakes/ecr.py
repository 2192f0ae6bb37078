"""Amazon ECR in memory: images by digest with their tags and push time, and scan results."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from autopilot.domain.fleet import ImageFacts
from autopilot.domain.scan import ScanningSetup, ScanResult
from tests.fakes.aws import ACCOUNT


@dataclass
class _Image:
    pushed_at: datetime
    tags: list[str] = field(default_factory=list)
    scan: ScanResult | None = None


class FakeEcr:
    """One account's registry (`account`); images of other registries can be set up too, but
    only this account's scanning configuration can be read, as in ECR."""

    def __init__(self, account: str = ACCOUNT) -> None:
        self._account = account
        self._repositories: dict[tuple[str, str], dict[str, _Image]] = {}
        self._scan_on_push: dict[tuple[str, str], bool] = {}
        # PutRegistryScanningConfiguration: BASIC with no rules until set.
        self.scan_type = "BASIC"
        self.scan_rules: tuple[tuple[str, tuple[str, ...]], ...] = ()

    # -- set-up, for tests --------------------------------------------------------------------

    def push(
        self, repository: str, digest: str, tag: str, pushed_at: datetime, registry: str = ACCOUNT
    ) -> None:
        """PutImage: the tag moves to this digest; pushing a known digest only adds the tag."""
        images = self._repositories.setdefault((registry, repository), {})
        self._scan_on_push.setdefault((registry, repository), False)
        for other in images.values():
            if tag in other.tags:
                other.tags.remove(tag)  # the image stays, untagged if that was its last tag
        image = images.setdefault(digest, _Image(pushed_at))
        image.tags.append(tag)

    def create_repository(
        self, repository: str, *, scan_on_push: bool = False, registry: str = ACCOUNT
    ) -> None:
        self._repositories.setdefault((registry, repository), {})
        self._scan_on_push[(registry, repository)] = scan_on_push

    def delete_repository(self, repository: str, registry: str = ACCOUNT) -> None:
        del self._repositories[(registry, repository)]
        del self._scan_on_push[(registry, repository)]

    def delete(self, repository: str, digest: str, registry: str = ACCOUNT) -> None:
        self._repositories[(registry, repository)].pop(digest)

    def set_scan(
        self, repository: str, digest: str, result: ScanResult, registry: str = ACCOUNT
    ) -> None:
        self._repositories[(registry, repository)][digest].scan = result

    # -- the gateway --------------------------------------------------------------------------

    def image(self, registry_id: str, repository: str, digest: str) -> ImageFacts | None:
        found = self._repositories.get((registry_id, repository), {}).get(digest)
        if found is None:
            return None  # ImageNotFoundException / RepositoryNotFoundException
        return ImageFacts(digest=digest, tags=tuple(found.tags), pushed_at=found.pushed_at)

    def images(self, registry_id: str, repository: str, digests: set[str]) -> dict[str, ImageFacts]:
        found = {d: self.image(registry_id, repository, d) for d in sorted(digests)}
        return {d: facts for d, facts in found.items() if facts is not None}

    def scan_result(self, registry_id: str, repository: str, digest: str) -> ScanResult:
        found = self._repositories.get((registry_id, repository), {}).get(digest)
        if found is None:
            return ScanResult(status="IMAGE_NOT_FOUND")
        return found.scan or ScanResult(status="NOT_STARTED")  # ScanNotFoundException

    def scanning_setup(self, registry_id: str, repository: str) -> ScanningSetup | None:
        if registry_id != self._account:
            return None  # another account's registry configuration cannot be read
        if (registry_id, repository) not in self._repositories:
            return None  # RepositoryNotFoundException
        return ScanningSetup(
            scan_type=self.scan_type,
            rules=self.scan_rules,
            repository_scan_on_push=self._scan_on_push[(registry_id, repository)],
        )

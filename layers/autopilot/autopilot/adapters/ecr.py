"""Amazon ECR: what a digest is, when it was pushed, under which tags; how it is scanned."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.fleet import ImageFacts
from autopilot.domain.scan import ScanningSetup, ScanResult

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

IAM_ACTIONS = (
    "ecr:DescribeImageScanFindings",
    "ecr:DescribeImages",
    "ecr:DescribeRepositories",
    "ecr:GetRegistryScanningConfiguration",
)


class EcrGateway:
    def __init__(self, client: ECRClient | None = None) -> None:
        self._ecr = client or clients.ecr()

    def image(self, registry_id: str, repository: str, digest: str) -> ImageFacts | None:
        """ECR's record of the digest, or None when it is gone (deleted, or never pushed)."""
        try:
            response = self._ecr.describe_images(
                registryId=registry_id,
                repositoryName=repository,
                imageIds=[{"imageDigest": digest}],
            )
        except ClientError as exc:
            if is_code(exc, "ImageNotFoundException", "RepositoryNotFoundException"):
                return None
            raise
        for detail in response.get("imageDetails", []):
            if detail.get("imageDigest") == digest:
                return ImageFacts(
                    digest=digest,
                    tags=tuple(detail.get("imageTags", [])),
                    pushed_at=detail["imagePushedAt"],
                )
        return None

    def images(self, registry_id: str, repository: str, digests: set[str]) -> dict[str, ImageFacts]:
        found = {d: self.image(registry_id, repository, d) for d in sorted(digests)}
        return {d: facts for d, facts in found.items() if facts is not None}

    def scan_result(self, registry_id: str, repository: str, digest: str) -> ScanResult:
        """The image's scan status and its findings per severity (basic or enhanced scanning)."""
        try:
            response = self._ecr.describe_image_scan_findings(
                registryId=registry_id,
                repositoryName=repository,
                imageId={"imageDigest": digest},
                maxResults=1,
            )
        except ClientError as exc:
            if is_code(exc, "ScanNotFoundException"):
                return ScanResult(status="NOT_STARTED")
            if is_code(exc, "ImageNotFoundException", "RepositoryNotFoundException"):
                return ScanResult(status="IMAGE_NOT_FOUND")
            raise
        counts = response.get("imageScanFindings", {}).get("findingSeverityCounts", {})
        return ScanResult(
            status=response.get("imageScanStatus", {}).get("status", "UNKNOWN"),
            counts={k: int(v) for k, v in counts.items()},
        )

    def scanning_setup(self, registry_id: str, repository: str) -> ScanningSetup | None:
        """How ECR scans the repository; None when its registry is not this account's (a
        registry's scanning configuration can only be read by its own account) or it is gone."""
        registry = self._ecr.get_registry_scanning_configuration()
        if registry.get("registryId") != registry_id:
            return None
        try:
            response = self._ecr.describe_repositories(
                registryId=registry_id, repositoryNames=[repository]
            )
        except ClientError as exc:
            if is_code(exc, "RepositoryNotFoundException"):
                return None
            raise
        configuration = registry.get("scanningConfiguration", {})
        return ScanningSetup(
            scan_type=configuration.get("scanType", "BASIC"),
            rules=tuple(
                (
                    rule["scanFrequency"],
                    tuple(f["filter"] for f in rule.get("repositoryFilters", [])),
                )
                for rule in configuration.get("rules", [])
            ),
            repository_scan_on_push=any(
                r.get("imageScanningConfiguration", {}).get("scanOnPush", False)
                for r in response.get("repositories", [])
            ),
        )

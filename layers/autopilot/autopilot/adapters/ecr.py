"""Amazon ECR: what a digest is, when it was pushed, under which tags."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.fleet import ImageFacts

if TYPE_CHECKING:
    from mypy_boto3_ecr import ECRClient

IAM_ACTIONS = ("ecr:DescribeImages",)


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

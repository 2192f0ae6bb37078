"""Container image references, parsed the way Docker and ECR read them.

Grammar (distribution/reference): ``[registry[:port]/]repository[:tag][@digest]``. The first
path component is a registry only when it contains a dot or a colon, or is ``localhost``;
otherwise the reference is on Docker Hub (``nginx`` is ``docker.io/library/nginx``).
"""

from __future__ import annotations

import re

import msgspec

DOCKER_HUB = "docker.io"
_DIGEST = re.compile(r"^[a-z0-9]+(?:[+._-][a-z0-9]+)*:[0-9a-fA-F]{32,}$")
_TAG = re.compile(r"^[\w][\w.-]{0,127}$")
_ECR_REGISTRY = re.compile(
    r"^(?P<account>\d{12})\.dkr[.-]ecr(?:-fips)?\.(?P<region>[a-z0-9-]+)\.(?:amazonaws\.com(?:\.cn)?|on\.aws)$"
)


class InvalidImageReferenceError(ValueError):
    """An image string that no registry would accept."""


class ImageReference(msgspec.Struct, frozen=True):
    registry: str
    repository: str
    tag: str | None = None
    digest: str | None = None

    @property
    def name(self) -> str:
        """Registry and repository, without tag or digest."""
        return f"{self.registry}/{self.repository}"

    def pinned(self, digest: str) -> ImageReference:
        """The same repository pinned by digest: a tag would let the image move under us."""
        return ImageReference(self.registry, self.repository, None, digest)

    def __str__(self) -> str:
        text = self.name
        if self.tag:
            text += f":{self.tag}"
        if self.digest:
            text += f"@{self.digest}"
        return text


def parse_image(reference: str) -> ImageReference:
    text = reference.strip()
    if not text or any(ch.isspace() for ch in text):
        raise InvalidImageReferenceError(f"not an image reference: {reference!r}")
    rest, at, digest = text.partition("@")
    if at and not _DIGEST.match(digest):
        raise InvalidImageReferenceError(f"bad digest in image reference: {reference!r}")

    first, slash, remainder = rest.partition("/")
    if slash and ("." in first or ":" in first or first == "localhost"):
        registry, path = first.lower(), remainder
    else:
        registry, path = DOCKER_HUB, rest

    # A colon after the last slash separates the tag; one before it belongs to a port.
    tag: str | None = None
    last_slash = path.rfind("/")
    colon = path.rfind(":")
    if colon > last_slash:
        path, tag = path[:colon], path[colon + 1 :]
        if not _TAG.match(tag):
            raise InvalidImageReferenceError(f"bad tag in image reference: {reference!r}")
    if (
        not path
        or path.startswith("/")
        or path.endswith("/")
        or "//" in path
        or path != path.lower()
    ):
        raise InvalidImageReferenceError(f"bad repository in image reference: {reference!r}")
    if registry == DOCKER_HUB and "/" not in path:
        path = f"library/{path}"
    return ImageReference(registry, path, tag, digest or None)


def ecr_registry(account: str, region: str) -> str:
    suffix = "amazonaws.com.cn" if region.startswith("cn-") else "amazonaws.com"  # GovCloud too
    return f"{account}.dkr.ecr.{region}.{suffix}"


def same_ecr_repository(image: ImageReference, account: str, region: str, repository: str) -> bool:
    """True when the image comes from this ECR repository, whichever endpoint form names it."""
    match = _ECR_REGISTRY.match(image.registry)
    return (
        match is not None
        and match["account"] == account
        and match["region"] == region
        and image.repository == repository
    )


def ecr_location(image: ImageReference) -> tuple[str, str] | None:
    """(account, region) of the ECR registry the image lives in; None outside ECR."""
    match = _ECR_REGISTRY.match(image.registry)
    return (match["account"], match["region"]) if match else None

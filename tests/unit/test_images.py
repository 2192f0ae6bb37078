"""Image references: the Docker reference grammar, Docker Hub defaults, and ECR host forms."""

from __future__ import annotations

import pytest

from autopilot.domain.images import (
    ImageReference,
    InvalidImageReferenceError,
    ecr_registry,
    parse_image,
    same_ecr_repository,
)

ACCOUNT = "123456789012"
REGION = "us-east-1"
ECR = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
DIGEST = "sha256:" + "0123456789abcdef" * 4


@pytest.mark.parametrize(
    ("reference", "expected"),
    [
        # Docker Hub: a bare name is an official image under library/.
        ("nginx", ImageReference("docker.io", "library/nginx")),
        ("nginx:1.25", ImageReference("docker.io", "library/nginx", "1.25")),
        ("docker.io/nginx", ImageReference("docker.io", "library/nginx")),
        ("bitnami/redis:7.2", ImageReference("docker.io", "bitnami/redis", "7.2")),
        # The first component is a registry only with a dot, a colon, or as localhost.
        ("localhost/app:dev", ImageReference("localhost", "app", "dev")),
        ("localhost:5000/team/app:dev", ImageReference("localhost:5000", "team/app", "dev")),
        ("registry.example.com:5000/app", ImageReference("registry.example.com:5000", "app")),
        ("Registry.Example.COM/app", ImageReference("registry.example.com", "app")),
        (
            "public.ecr.aws/nginx/nginx:1.25",
            ImageReference("public.ecr.aws", "nginx/nginx", "1.25"),
        ),
        # ECR, by tag, by digest, and by both.
        (f"{ECR}/web:main", ImageReference(ECR, "web", "main")),
        (f"{ECR}/team/web:v1.4.2", ImageReference(ECR, "team/web", "v1.4.2")),
        (f"{ECR}/web@{DIGEST}", ImageReference(ECR, "web", None, DIGEST)),
        (f"{ECR}/web:main@{DIGEST}", ImageReference(ECR, "web", "main", DIGEST)),
        (f"nginx@{DIGEST}", ImageReference("docker.io", "library/nginx", None, DIGEST)),
        ("  nginx:1.25\n", ImageReference("docker.io", "library/nginx", "1.25")),
    ],
)
def test_parse_image_reads_the_docker_reference_grammar(
    reference: str, expected: ImageReference
) -> None:
    # Given a reference as written in a task definition
    # When it is parsed
    parsed = parse_image(reference)

    # Then registry, repository, tag and digest are where Docker would put them
    assert parsed == expected


def test_a_colon_before_the_last_slash_is_a_port_not_a_tag() -> None:
    # Given a registry with a port and a repository without a tag
    reference = "registry.example.com:5000/team/app"

    # When it is parsed
    parsed = parse_image(reference)

    # Then the port stays with the registry and there is no tag
    assert parsed.registry == "registry.example.com:5000"
    assert parsed.repository == "team/app"
    assert parsed.tag is None


@pytest.mark.parametrize(
    ("reference", "canonical"),
    [
        ("nginx", "docker.io/library/nginx"),
        ("bitnami/redis:7.2", "docker.io/bitnami/redis:7.2"),
        (f"{ECR}/web:main@{DIGEST}", f"{ECR}/web:main@{DIGEST}"),
        ("localhost:5000/app", "localhost:5000/app"),
    ],
)
def test_str_is_the_fully_qualified_reference(reference: str, canonical: str) -> None:
    # Given a parsed reference
    parsed = parse_image(reference)

    # When it is written back
    text = str(parsed)

    # Then it is fully qualified and parses to the same value
    assert text == canonical
    assert parse_image(text) == parsed


def test_pinned_replaces_the_tag_with_the_digest() -> None:
    # Given an image referenced by a tag that may move
    image = parse_image(f"{ECR}/team/web:main")

    # When it is pinned
    pinned = image.pinned(DIGEST)

    # Then the same repository is named by digest alone
    assert str(pinned) == f"{ECR}/team/web@{DIGEST}"
    assert pinned.tag is None
    assert pinned.name == image.name


@pytest.mark.parametrize(
    "reference",
    [
        "",
        "   ",
        "web app",
        "nginx:",
        "nginx:-rc",
        "nginx:" + "a" * 129,
        ":main",
        "registry.example.com/",
        "registry.example.com//app",
        "registry.example.com/app/",
        "nginx@sha256:abc",
        "nginx@sha256",
        f"nginx@{DIGEST}@{DIGEST}",
    ],
)
def test_a_reference_no_registry_would_accept_is_refused(reference: str) -> None:
    # Given a malformed reference
    # When it is parsed
    # Then it is refused rather than guessed at
    with pytest.raises(InvalidImageReferenceError):
        parse_image(reference)


@pytest.mark.parametrize("reference", ["nginx@", f"{ECR}/web:main@", "Nginx", f"{ECR}/Web:main"])
def test_a_reference_docker_refuses_is_refused(reference: str) -> None:
    # Given a reference `docker pull` rejects ("invalid reference format")
    # When it is parsed
    # Then it is refused, as the InvalidImageReferenceError contract promises
    with pytest.raises(InvalidImageReferenceError):
        parse_image(reference)


@pytest.mark.parametrize(
    ("region", "registry"),
    [
        ("us-east-1", f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com"),
        ("eu-west-1", f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"),
        ("cn-north-1", f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", f"{ACCOUNT}.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
    ],
)
def test_ecr_registry_uses_the_partition_domain(region: str, registry: str) -> None:
    # Given an account and a region
    # When the registry host is built
    # Then China regions use amazonaws.com.cn and the others amazonaws.com
    assert ecr_registry(ACCOUNT, region) == registry


@pytest.mark.parametrize(
    ("image", "region"),
    [
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web:main", "us-east-1"),
        (f"{ACCOUNT}.dkr.ecr.us-east-1.amazonaws.com/web@{DIGEST}", "us-east-1"),
        (f"{ACCOUNT}.dkr.ecr-fips.us-east-1.amazonaws.com/web:main", "us-east-1"),
        (f"{ACCOUNT}.dkr-ecr.us-east-1.on.aws/web:main", "us-east-1"),
        (f"{ACCOUNT}.dkr-ecr-fips.us-east-1.on.aws/web:main", "us-east-1"),
        (f"{ACCOUNT}.dkr.ecr.cn-north-1.amazonaws.com.cn/web:main", "cn-north-1"),
        (f"{ACCOUNT}.DKR.ECR.US-EAST-1.AMAZONAWS.COM/web:main", "us-east-1"),
    ],
)
def test_same_ecr_repository_matches_every_endpoint_form(image: str, region: str) -> None:
    # Given an image named through one of ECR's registry endpoints
    parsed = parse_image(image)

    # When it is compared with the repository a push went to
    # Then it is the same repository
    assert same_ecr_repository(parsed, ACCOUNT, region, "web")


@pytest.mark.parametrize(
    "image",
    [
        f"210987654321.dkr.ecr.{REGION}.amazonaws.com/web:main",  # another account
        f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/web:main",  # another region
        f"{ECR}/web-admin:main",  # a repository whose name starts the same
        f"{ECR}/team/web:main",  # a namespaced repository ending the same
        f"{ECR}/we:main",
        "web:main",  # Docker Hub's library/web
        "public.ecr.aws/team/web:main",  # ECR Public is another registry
        f"{ECR}.evil.example/web:main",  # a look-alike host
        f"evil.example/{ECR}/web:main",
        f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com:5000/web:main",
    ],
)
def test_same_ecr_repository_refuses_any_other_repository(image: str) -> None:
    # Given an image that is not in this account's `web` repository in this region
    parsed = parse_image(image)

    # When it is compared with the pushed repository
    # Then it does not match
    assert not same_ecr_repository(parsed, ACCOUNT, REGION, "web")

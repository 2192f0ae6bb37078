"""Properties of image references (`parse_image`, `pinned`): what is printed reads back the same.

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from autopilot.domain.images import (
    DOCKER_HUB,
    ImageReference,
    InvalidImageReferenceError,
    ecr_location,
    ecr_registry,
    parse_image,
    same_ecr_repository,
)

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

LOWER = "abcdefghijklmnopqrstuvwxyz0123456789"
# distribution/reference: path components are lower-case alphanumerics joined by . _ __ or -.
components = st.builds(
    lambda parts, seps: "".join(p + s for p, s in zip(parts, seps, strict=False)) + parts[-1],
    st.lists(st.text(LOWER, min_size=1, max_size=6), min_size=1, max_size=3),
    st.lists(st.sampled_from([".", "_", "__", "-", "--"]), max_size=2),
)
repositories = st.lists(components, min_size=1, max_size=3).map("/".join)
hosts = st.one_of(
    st.just("localhost"),
    st.builds(
        lambda a, b: f"{a}.{b}",
        st.text(LOWER, min_size=1, max_size=8),
        st.sampled_from(["com", "io", "aws"]),
    ),
    st.builds(
        ecr_registry,
        st.text("0123456789", min_size=12, max_size=12),
        st.sampled_from(["us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1"]),
    ),
)
registries = st.builds(
    lambda host, port: f"{host}:{port}" if port else host, hosts, st.none() | st.integers(1, 65535)
)
tags = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(LOWER + "ABCXYZ_"),
    st.text(LOWER + "ABCXYZ_.-", max_size=20),
)
digests = st.builds(
    lambda algorithm, hex_digits: f"{algorithm}:{hex_digits}",
    st.sampled_from(["sha256", "sha512"]),
    st.text("0123456789abcdef", min_size=64, max_size=64),
)
references = st.builds(
    ImageReference,
    registry=registries,
    repository=repositories,
    tag=st.none() | tags,
    digest=st.none() | digests,
)
hub_references = st.builds(
    lambda repository, tag: ImageReference(DOCKER_HUB, repository, tag),
    st.builds(lambda c: f"library/{c}", components) | repositories.filter(lambda r: "/" in r),
    st.none() | tags,
)


@PROPERTY
@given(references | hub_references)
def test_a_reference_prints_as_text_that_reads_back_the_same(reference: ImageReference) -> None:
    # Given a reference with a registry, a repository, maybe a tag and maybe a digest
    # When it is printed and read again
    # Then it is the same reference
    assert parse_image(str(reference)) == reference


@PROPERTY
@given(hub_references)
def test_docker_hub_references_read_the_same_in_every_short_form(reference: ImageReference) -> None:
    # Given a Docker Hub reference whose first path component cannot be taken for a registry
    # (Docker reads `a.b/c` as registry a.b, so such a name needs its docker.io/)
    assume("." not in reference.repository.split("/")[0])
    short = str(reference).removeprefix(f"{DOCKER_HUB}/").removeprefix("library/")

    # When it is written without the registry (and without library/ for an official image)
    # Then it reads as the same reference
    assert parse_image(short) == reference


@PROPERTY
@given(references | hub_references, digests)
def test_pinning_keeps_the_repository_drops_the_tag_and_reads_back(
    reference: ImageReference, digest: str
) -> None:
    # Given a reference, and the digest its tag points at
    # When it is pinned
    pinned = reference.pinned(digest)

    # Then it is the same repository by digest only, and its text reads back the same
    assert (pinned.name, pinned.tag, pinned.digest) == (reference.name, None, digest)
    assert parse_image(str(pinned)) == pinned
    # And pinning again with the same digest changes nothing
    assert pinned.pinned(digest) == pinned


@PROPERTY
@given(st.text(LOWER + "ABC:/@._- \n", max_size=40) | st.text(max_size=30))
def test_any_text_is_a_reference_or_an_invalid_reference_error(text: str) -> None:
    # Given any text where an image is expected
    try:
        reference = parse_image(text)
    except InvalidImageReferenceError:
        return

    # Then what was read prints as text that reads back the same
    assert parse_image(str(reference)) == reference


@PROPERTY
@given(
    st.text("0123456789", min_size=12, max_size=12),
    st.sampled_from(["us-east-1", "eu-central-1", "cn-north-1", "us-gov-west-1"]),
    repositories,
    st.none() | tags,
)
def test_an_ecr_image_is_found_in_its_own_repository_only(
    account: str, region: str, repository: str, tag: str | None
) -> None:
    # Given an image in an ECR repository
    image = parse_image(str(ImageReference(ecr_registry(account, region), repository, tag)))

    # Then its location is that account and region, and it belongs to that repository only
    assert ecr_location(image) == (account, region)
    assert same_ecr_repository(image, account, region, repository)
    assert not same_ecr_repository(image, account, region, repository + "x")
    other_region = "eu-west-3" if region != "eu-west-3" else "us-east-1"
    assert not same_ecr_repository(image, account, other_region, repository)

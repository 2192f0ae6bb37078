"""Tracking policies (`autopilot:track`): which pushed tags a service follows."""

from __future__ import annotations

import pytest
import semantic_version

from autopilot.domain.tracking import (
    InvalidPolicyError,
    PolicyKind,
    TrackingPolicy,
    highest_version,
    parse_policy,
    parse_version,
)

SAMPLE_VERSIONS = [
    "0.9.9",
    "1.3.9",
    "1.4.0",
    "1.4.7",
    "1.5.0",
    "1.9.9",
    "2.0.0",
    "2.0.9",
    "2.1.0",
    "3.0.0",
]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("tag:main", TrackingPolicy(PolicyKind.TAG, "main")),
        ("  Tag : main  ", TrackingPolicy(PolicyKind.TAG, "main")),
        ("semver:^1.4", TrackingPolicy(PolicyKind.SEMVER, "^1.4")),
        ("semver:1.4 - 1", TrackingPolicy(PolicyKind.SEMVER, "1.4 - 1")),
        ("SEMVER:2.0.x", TrackingPolicy(PolicyKind.SEMVER, "2.0.x")),
        ("glob:release-+", TrackingPolicy(PolicyKind.GLOB, "release-+")),
        ("off", TrackingPolicy(PolicyKind.OFF)),
        ("OFF", TrackingPolicy(PolicyKind.OFF)),
        (" Off ", TrackingPolicy(PolicyKind.OFF)),
    ],
)
def test_parse_policy_reads_each_kind(value: str, expected: TrackingPolicy) -> None:
    # Given an autopilot:track tag value
    # When it is parsed
    policy = parse_policy(value)

    # Then kind and pattern are read, case and surrounding blanks aside
    assert policy == expected


@pytest.mark.parametrize(
    "value",
    [
        "",
        "main",
        "latest:main",
        "tag:",
        "tag:   ",
        "semver:",
        "glob:",
        "off:main",
        "semver:not a range",
        "semver:>>1",
        # an operator in a hyphen range's bound (semantic_version raised AttributeError)
        "semver:= - 0",
        "semver:>=1.0.0 - 2",
    ],
)
def test_parse_policy_refuses_what_it_cannot_read(value: str) -> None:
    # Given a value that names no policy, or a policy without a pattern
    # When it is parsed
    # Then it is refused, so the service is left alone instead of tracking something unmeant
    with pytest.raises(InvalidPolicyError):
        parse_policy(value)


@pytest.mark.parametrize("value", ["tag:main", "semver:1.4 - 1", "glob:release-+", "off"])
def test_policy_prints_as_the_tag_value_it_was_read_from(value: str) -> None:
    # Given a parsed policy
    policy = parse_policy(value)

    # When it is printed (in skip reasons)
    # Then it reads as the tag value, and parses back to itself
    assert str(policy) == value
    assert parse_policy(str(policy)) == policy


@pytest.mark.parametrize(
    ("tag", "accepted"), [("main", True), ("main-1", False), ("Main", False), ("", False)]
)
def test_tag_policy_accepts_exactly_that_tag(tag: str, accepted: bool) -> None:
    # Given a service tracking one tag
    policy = parse_policy("tag:main")

    # When a tag is pushed
    # Then only that exact tag is followed
    assert policy.accepts(tag) is accepted


@pytest.mark.parametrize(
    ("pattern", "tag", "accepted"),
    [
        ("release-+", "release-42", True),
        ("release-+", "release-", True),
        ("release-+", "hotfix-42", False),
        ("release-+", "pre-release-42", False),
        ("release-+", "Release-42", False),
        ("main-+-+", "main-abc123-7", True),
        ("main-+-+", "main-abc123", False),
        ("+", "anything", True),
        ("release-*", "release-42", True),
    ],
)
def test_glob_plus_stands_in_for_star(pattern: str, tag: str, accepted: bool) -> None:
    # Given a glob written with `+`, since ECS tag values cannot hold `*`
    policy = parse_policy(f"glob:{pattern}")

    # When a tag is pushed
    # Then `+` matches like `*`, anchored and case-sensitive
    assert policy.accepts(tag) is accepted


@pytest.mark.parametrize(
    ("tag", "accepted"),
    [
        ("1.4.0", True),
        ("1.9.9", True),
        ("v1.5.0", True),
        ("V1.5.0", True),
        ("1.3.9", False),
        ("2.0.0", False),
        ("1.5", False),
        ("latest", False),
        ("vv1.5.0", False),
    ],
)
def test_semver_policy_accepts_versions_in_the_npm_range(tag: str, accepted: bool) -> None:
    # Given a service tracking ^1.4
    policy = parse_policy("semver:^1.4")

    # When a tag is pushed
    # Then only a full version inside the range is followed (a leading v is allowed)
    assert policy.accepts(tag) is accepted


@pytest.mark.parametrize(
    ("tag_safe", "npm"), [("1.4 - 1", "^1.4"), ("2.0.x", "~2.0"), ("1.x", "^1")]
)
def test_tag_safe_semver_spelling_means_the_same_range(tag_safe: str, npm: str) -> None:
    # Given a range spelled with characters ECS tags allow, and its usual npm spelling
    spelled_safely = parse_policy(f"semver:{tag_safe}")
    usual = parse_policy(f"semver:{npm}")

    # When both judge the same versions
    accepted_safely = [v for v in SAMPLE_VERSIONS if spelled_safely.accepts(v)]
    accepted_usually = [v for v in SAMPLE_VERSIONS if usual.accepts(v)]

    # Then they accept exactly the same ones (and some, so the comparison means something)
    assert accepted_safely == accepted_usually
    assert accepted_safely


@pytest.mark.parametrize("tag", ["1.5.0-rc.1", "1.4.1-beta", "v1.6.0-alpha.2"])
def test_pre_releases_are_excluded_from_a_plain_range(tag: str) -> None:
    # Given a range that names no pre-release
    policy = parse_policy("semver:^1.4")

    # When a pre-release inside its bounds is pushed
    # Then it is not followed
    assert not policy.accepts(tag)


@pytest.mark.parametrize(
    ("tag", "accepted"),
    [("1.5.0-rc.1", True), ("1.5.0-rc.2", True), ("1.5.0", True), ("1.6.0-rc.1", False)],
)
def test_a_range_naming_a_pre_release_accepts_that_version_s_pre_releases(
    tag: str, accepted: bool
) -> None:
    # Given a range that names a pre-release of 1.5.0
    policy = parse_policy("semver:>=1.5.0-rc.1 <2")

    # When a tag is pushed
    # Then pre-releases of 1.5.0 are followed, those of other versions are not
    assert policy.accepts(tag) is accepted


@pytest.mark.parametrize("tag", ["main", "1.4.0", "release-1", ""])
def test_off_accepts_nothing(tag: str) -> None:
    # Given tracking turned off
    policy = parse_policy("off")

    # When any tag is pushed
    # Then it is not followed
    assert not policy.accepts(tag)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("1.4.2", "1.4.2"),
        ("v1.4.2", "1.4.2"),
        ("V1.4.2", "1.4.2"),
        ("1.5.0-rc.1", "1.5.0-rc.1"),
    ],
)
def test_parse_version_reads_a_version_with_an_optional_leading_v(tag: str, expected: str) -> None:
    # Given a tag that is a semantic version
    # When it is read
    # Then the version is returned without its v
    assert parse_version(tag) == semantic_version.Version(expected)


@pytest.mark.parametrize("tag", ["latest", "1.4", "v", "vv1.4.2", "version1.4.2", "main-1.4.2"])
def test_parse_version_returns_none_for_a_tag_that_is_no_version(tag: str) -> None:
    # Given a tag that is not a full semantic version
    # When it is read
    # Then there is no version
    assert parse_version(tag) is None


@pytest.mark.parametrize(
    ("tags", "expected"),
    [
        (("latest", "1.4.2", "v1.10.0", "1.9.9"), "1.10.0"),
        (["1.5.0-rc.1", "1.5.0"], "1.5.0"),
        (("1.5.0-rc.1", "1.4.9"), "1.5.0-rc.1"),
    ],
)
def test_highest_version_compares_versions_not_text(
    tags: tuple[str, ...] | list[str], expected: str
) -> None:
    # Given an image's tags, some of them versions
    # When the highest version is asked for
    # Then versions are compared numerically and other tags ignored
    assert highest_version(tags) == semantic_version.Version(expected)


@pytest.mark.parametrize("tags", [(), ("latest", "main")])
def test_highest_version_is_none_without_any_version(tags: tuple[str, ...]) -> None:
    # Given tags that hold no version
    # When the highest version is asked for
    # Then there is none
    assert highest_version(tags) is None

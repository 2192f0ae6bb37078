"""Properties of tracking policies (`autopilot:track`), over generated tag values and image tags.

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

import re

import semantic_version
from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.domain.tracking import (
    TAG_SAFE_STAR,
    InvalidPolicyError,
    PolicyKind,
    TrackingPolicy,
    highest_version,
    parse_policy,
    parse_version,
)

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

# What an image tag may hold (Docker's grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}).
TAG_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-"
image_tags = st.builds(
    lambda first, rest: first + rest,
    st.sampled_from(TAG_CHARS[:-2]),
    st.text(TAG_CHARS, max_size=30),
)
numbers = st.integers(min_value=0, max_value=30)
prerelease = st.lists(
    st.sampled_from(["rc", "alpha", "beta", "1", "2", "10"]), min_size=1, max_size=2
).map(".".join)
versions = st.builds(
    lambda major, minor, patch, pre: semantic_version.Version(
        major=major, minor=minor, patch=patch, prerelease=tuple(pre.split(".")) if pre else ()
    ),
    numbers,
    numbers,
    numbers,
    st.none() | prerelease,
)
version_tags = st.builds(lambda v, prefix: prefix + str(v), versions, st.sampled_from(["", "v"]))
# Ranges as operators write them: npm operators, x-ranges, hyphen ranges, and unions.
comparators = st.one_of(
    st.builds(
        lambda op, v: f"{op}{v}", st.sampled_from(["", "^", "~", ">=", "<", ">", "<="]), versions
    ),
    st.builds(lambda a, b: f"{a}.{b}.x", numbers, numbers),
    st.builds(lambda a: f"{a}.x", numbers),
    st.builds(lambda a, b, c: f"{a}.{b} - {c}", numbers, numbers, numbers),
)
ranges = st.lists(comparators, min_size=1, max_size=3).map(" || ".join)
# What semver ranges are made of, with the ECS-safe `=` and `-` that make a parser stumble.
RANGE_CHARS = "0123456789.xX*^~<>=|- v"
# ECS tag values: letters, digits, spaces and + - = . _ : / @ (so no `*` and no `^`).
ECS_TAG_VALUE_CHARS = TAG_CHARS + " +=:/@"


@PROPERTY
@given(st.text())
def test_any_text_is_a_policy_or_an_invalid_policy_error(value: str) -> None:
    # Given any tag value at all
    # When it is parsed
    # Then it is a policy, or refused with InvalidPolicyError: nothing else escapes
    try:
        policy = parse_policy(value)
    except InvalidPolicyError:
        return
    assert isinstance(policy, TrackingPolicy)


@PROPERTY
@given(
    st.sampled_from(["tag", "semver", "glob", "off", "SemVer", " glob "]),
    st.text(RANGE_CHARS, max_size=16) | st.text(),
)
def test_any_pattern_after_a_kind_is_a_policy_or_an_invalid_policy_error(
    kind: str, pattern: str
) -> None:
    # Given a known kind and any pattern (semver ranges are where a parser could crash)
    # When it is parsed
    # Then it is a policy or an InvalidPolicyError
    try:
        policy = parse_policy(f"{kind}:{pattern}")
    except InvalidPolicyError:
        return
    assert str(policy).startswith(policy.kind.value)


# A bound as an operator might type it: an optional operator before a full or partial version.
bounds = st.builds(
    lambda op, parts: op + ".".join(parts),
    st.sampled_from(["", "=", ">=", "<", "^", "~", "v"]),
    st.lists(st.sampled_from(["0", "1", "12", "x", "*"]), min_size=1, max_size=3),
)


@PROPERTY
@given(bounds, bounds)
def test_any_hyphen_range_is_a_policy_or_an_invalid_policy_error(low: str, high: str) -> None:
    # Given a hyphen range (the tag-safe spelling of ^) between any two bounds
    # When it is parsed
    # Then it is a policy or an InvalidPolicyError: `semver:= - 0` once raised AttributeError
    try:
        policy = parse_policy(f"semver:{low} - {high}")
    except InvalidPolicyError:
        return
    assert policy.kind is PolicyKind.SEMVER


@PROPERTY
@given(st.text(ECS_TAG_VALUE_CHARS + "*^~<>|x", max_size=40))
def test_every_policy_read_prints_as_a_value_that_reads_back_the_same(value: str) -> None:
    # Given a tag value that parses
    try:
        policy = parse_policy(value)
    except InvalidPolicyError:
        return

    # When it is printed and read again
    # Then it is the same policy
    assert parse_policy(str(policy)) == policy


@PROPERTY
@given(
    st.sampled_from([PolicyKind.TAG, PolicyKind.GLOB]),
    st.text(ECS_TAG_VALUE_CHARS, min_size=1, max_size=40).filter(lambda s: s.strip() == s),
)
def test_every_tag_and_glob_policy_fits_an_ecs_tag_and_reads_back(
    kind: PolicyKind, pattern: str
) -> None:
    # Given a tag or glob policy whose pattern uses only what an ECS tag value may hold
    policy = TrackingPolicy(kind, pattern)

    # When it is written as the tag value and read back
    value = str(policy)

    # Then the value is a valid ECS tag value, and it reads back as the same policy
    assert re.fullmatch(r"[\w\s+\-=.:/@]{1,256}", value)
    assert parse_policy(value) == policy


@PROPERTY
@given(ranges)
def test_every_semver_range_reads_back_the_same(pattern: str) -> None:
    # Given a semver range an operator might write
    policy = parse_policy(f"semver:{pattern}")

    # When it is printed and read again
    # Then it is the same policy
    assert parse_policy(str(policy)) == policy


@PROPERTY
@given(image_tags, image_tags)
def test_a_tag_policy_accepts_exactly_its_tag(pattern: str, tag: str) -> None:
    # Given tag:<pattern>
    policy = parse_policy(f"tag:{pattern}")

    # Then it accepts its own tag, and another only if it is equal
    assert policy.accepts(pattern)
    assert policy.accepts(tag) == (tag == pattern)


@PROPERTY
@given(st.lists(st.text(TAG_CHARS, max_size=6), min_size=1, max_size=4), image_tags)
def test_the_tag_safe_star_matches_any_run_of_characters(parts: list[str], tag: str) -> None:
    # Given a glob whose only wildcard is the tag-safe star (+), e.g. release-+ or +-rc+
    pattern = TAG_SAFE_STAR.join(parts)
    if not pattern:
        return
    policy = parse_policy(f"glob:{pattern}")

    # When a tag is tested
    # Then it is accepted exactly when the literal parts appear in order, anything between
    expected = re.fullmatch(".*".join(re.escape(p) for p in parts), tag, flags=re.DOTALL)
    assert policy.accepts(tag) == (expected is not None)
    # And a tag built from the pattern by filling each star is accepted
    assert policy.accepts("x".join(parts))


@PROPERTY
@given(image_tags)
def test_a_glob_without_a_star_is_a_tag_policy(tag: str) -> None:
    # Given a glob with no wildcard, and the tag policy of the same text
    glob, exact = parse_policy(f"glob:{tag}"), parse_policy(f"tag:{tag}")

    # Then both accept the same tags (the text itself, and a longer one)
    for candidate in (tag, tag + "x", "x" + tag):
        assert glob.accepts(candidate) == exact.accepts(candidate)


@PROPERTY
@given(ranges, version_tags)
def test_a_semver_policy_agrees_with_semantic_version(pattern: str, tag: str) -> None:
    # Given a semver policy and a version tag (with or without a v)
    policy = parse_policy(f"semver:{pattern}")

    # When the policy is asked
    # Then it answers what semantic_version's npm range answers for the version
    version = semantic_version.Version(tag.removeprefix("v"))
    assert policy.accepts(tag) == (version in semantic_version.NpmSpec(pattern))


@PROPERTY
@given(ranges, image_tags)
def test_a_semver_policy_never_accepts_what_is_not_a_version(pattern: str, tag: str) -> None:
    # Given a semver policy and any image tag
    policy = parse_policy(f"semver:{pattern}")

    # Then a tag that is not a version is never accepted, and asking never raises
    if parse_version(tag) is None:
        assert not policy.accepts(tag)
    else:
        policy.accepts(tag)


@PROPERTY
@given(st.integers(1, 30), st.integers(0, 30), versions)
def test_the_tag_safe_spellings_mean_what_the_npm_operators_mean(
    major: int, minor: int, version: semantic_version.Version
) -> None:
    # Given the tag-safe spellings of ^M.m and ~M.m (ECS tag values cannot hold ^ or ~)
    caret, hyphen = (
        parse_policy(f"semver:^{major}.{minor}"),
        parse_policy(f"semver:{major}.{minor} - {major}"),
    )
    tilde, x_range = (
        parse_policy(f"semver:~{major}.{minor}"),
        parse_policy(f"semver:{major}.{minor}.x"),
    )
    tag = str(version)

    # Then each accepts exactly the versions its operator form accepts
    assert hyphen.accepts(tag) == caret.accepts(tag)
    assert x_range.accepts(tag) == tilde.accepts(tag)


@PROPERTY
@given(st.lists(version_tags | image_tags, max_size=8))
def test_the_highest_version_is_the_greatest_version_among_the_tags(tags: list[str]) -> None:
    # Given tags, some of them versions
    found = highest_version(tags)

    # Then it is the maximum of those that read as versions, or None when none does
    read = [v for v in map(parse_version, tags) if v is not None]
    assert found == (max(read) if read else None)


@PROPERTY
@given(image_tags)
def test_off_accepts_nothing(tag: str) -> None:
    assert not parse_policy("off").accepts(tag)

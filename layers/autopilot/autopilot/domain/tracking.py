"""Tracking policies: which pushed tags a service follows (`autopilot:track`)."""

from __future__ import annotations

import fnmatch
import re
from enum import StrEnum
from typing import TYPE_CHECKING

import msgspec

if TYPE_CHECKING:  # imported when a semver policy or tag is first read (3% of boto3's import)
    import semantic_version

_VERSION_PREFIX = re.compile(r"^[vV](?=\d)")

# ECS tag values may hold only letters, digits, spaces and `+ - = . _ : / @`, so `*` cannot be
# written in a tag. `+` never occurs in an image tag, which makes it a safe stand-in for `*`.
# Semver ranges have tag-safe spellings of their own: `1.4 - 1` for ^1.4, `2.0.x` for ~2.0.
TAG_SAFE_STAR = "+"


class InvalidPolicyError(ValueError):
    """The tag value cannot be read as a tracking policy."""


class PolicyKind(StrEnum):
    TAG = "tag"
    SEMVER = "semver"
    GLOB = "glob"
    OFF = "off"


class TrackingPolicy(msgspec.Struct, frozen=True):
    kind: PolicyKind
    pattern: str = ""

    def __str__(self) -> str:
        return self.kind.value if self.kind is PolicyKind.OFF else f"{self.kind}:{self.pattern}"

    def accepts(self, tag: str) -> bool:
        match self.kind:
            case PolicyKind.TAG:
                return tag == self.pattern
            case PolicyKind.GLOB:
                return fnmatch.fnmatchcase(tag, self.pattern.replace(TAG_SAFE_STAR, "*"))
            case PolicyKind.SEMVER:
                version = parse_version(tag)
                return version is not None and version in _spec(self.pattern)
            case PolicyKind.OFF:
                return False


def parse_policy(value: str) -> TrackingPolicy:
    text = value.strip()
    if text.lower() == PolicyKind.OFF:
        return TrackingPolicy(PolicyKind.OFF)
    kind_text, sep, pattern = text.partition(":")
    try:
        kind = PolicyKind(kind_text.strip().lower())
    except ValueError:
        kind = None
    pattern = pattern.strip()
    if not sep or kind is None or kind is PolicyKind.OFF or not pattern:
        raise InvalidPolicyError(
            "autopilot:track must be tag:<tag>, semver:<range>, glob:<pattern> or off; "
            f"got {value!r}"
        )
    if kind is PolicyKind.SEMVER:
        try:
            _spec(pattern)
        # semantic_version's hyphen-range parser fails with AttributeError when a bound
        # carries an operator (`= - 0`, `>=1 - 2`): that is a bad range too, not a crash.
        except (ValueError, AttributeError) as exc:
            raise InvalidPolicyError(f"not a semver range: {pattern!r}") from exc
    return TrackingPolicy(kind, pattern)


def parse_version(tag: str) -> semantic_version.Version | None:
    """A tag read as a semantic version (`1.4.2`, `v1.4.2`, `1.5.0-rc.1`), or None."""
    import semantic_version  # noqa: PLC0415 - see the imports above

    try:
        return semantic_version.Version(_VERSION_PREFIX.sub("", tag))
    except ValueError:
        return None


def highest_version(tags: tuple[str, ...] | list[str]) -> semantic_version.Version | None:
    versions = [v for v in (parse_version(t) for t in tags) if v is not None]
    return max(versions) if versions else None


def _spec(pattern: str) -> semantic_version.NpmSpec:
    # npm range syntax: ^1.4, ~2.0, >=1.2 <2, 1.x; pre-releases only when the range names one.
    import semantic_version  # noqa: PLC0415 - see the imports above

    return semantic_version.NpmSpec(pattern)

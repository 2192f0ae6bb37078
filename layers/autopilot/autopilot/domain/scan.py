"""The scan gate (`autopilot:scan`): deploy only images whose scan found nothing at or above the
threshold."""

from __future__ import annotations

import re
from collections.abc import Mapping
from enum import StrEnum

import msgspec

from autopilot.domain.config import SEVERITIES
from autopilot.domain.decisions import Skip

COMPLETE = "COMPLETE"
# Enhanced scanning (Amazon Inspector) reports a scanned image as ACTIVE: complete, findings kept
# up to date.
_COMPLETE = frozenset({COMPLETE, "ACTIVE"})
_UNDERWAY = frozenset({"IN_PROGRESS", "PENDING"})
# Ended without a result the gate can pass: nothing more will come by itself.
_ENDED = frozenset(
    {
        "FAILED",
        "UNSUPPORTED_IMAGE",
        "SCAN_ELIGIBILITY_EXPIRED",
        "FINDINGS_UNAVAILABLE",
        "LIMIT_EXCEEDED",
        "IMAGE_ARCHIVED",
        "IMAGE_NOT_FOUND",
    }
)


class ScanResult(msgspec.Struct, frozen=True):
    status: str  # COMPLETE, or anything else: not finished, failed, unsupported
    counts: Mapping[str, int] = msgspec.field(default_factory=dict)

    def summary(self) -> str:
        shown = [f"{s} {self.counts[s]}" for s in SEVERITIES if self.counts.get(s)]
        return ", ".join(shown) or "no findings"


def scan_verdict(threshold: str | None, result: ScanResult | None) -> Skip | None:
    """None when the image may deploy; otherwise why it is held or blocked."""
    if threshold is None:
        return None
    if result is None or result.status not in _COMPLETE:
        status = result.status if result else "not started"
        return Skip(f"held until the image scan completes (scan {status})", "scan-pending")
    gate = SEVERITIES[: SEVERITIES.index(threshold) + 1]
    if any(result.counts.get(severity, 0) > 0 for severity in gate):
        return Skip(
            f"blocked by the image scan at {threshold} or above: {result.summary()}",
            "scan-blocked",
        )
    return None


class ScanningSetup(msgspec.Struct, frozen=True):
    """How ECR scans a repository: the registry's scanning configuration (type and rules, each a
    frequency and its repository filters) and the repository's own scan-on-push flag."""

    scan_type: str  # BASIC | ENHANCED
    rules: tuple[tuple[str, tuple[str, ...]], ...]
    repository_scan_on_push: bool


class ScanOutlook(StrEnum):
    UNDERWAY = "underway"  # a result will come (and its event deploys the push)
    NOT_SCANNED = "not-scanned"  # ECR does not scan this repository on push: none will come
    ENDED = "ended"  # the scan ended without a result the gate can pass
    UNKNOWN = "unknown"  # the repository's registry is another account's: cannot tell


def scans_on_push(setup: ScanningSetup, repository: str) -> bool:
    """Does ECR scan a new push to `repository` by itself?

    Enhanced scanning scans what a scan-on-push or continuous filter matches, and ignores the
    repository's flag. Basic scanning follows the registry's scan-on-push filters when it has
    any (other repositories are scanned manually), else the repository's own flag."""
    if setup.scan_type == "ENHANCED":
        return any(
            _matches(f, repository)
            for frequency, filters in setup.rules
            if frequency in {"SCAN_ON_PUSH", "CONTINUOUS_SCAN"}
            for f in filters
        )
    filters = [f for frequency, fs in setup.rules if frequency == "SCAN_ON_PUSH" for f in fs]
    if setup.rules:
        return any(_matches(f, repository) for f in filters)
    return setup.repository_scan_on_push


def _matches(pattern: str, repository: str) -> bool:
    """ECR's filter: without a wildcard it matches names containing it; `*` stands for any run."""
    if "*" not in pattern:
        return pattern in repository
    return (
        re.fullmatch(".*".join(re.escape(part) for part in pattern.split("*")), repository)
        is not None
    )


def scan_outlook(status: str, setup: ScanningSetup | None, repository: str) -> ScanOutlook:
    """Will the scan a held push waits for come by itself? `setup` is None when the repository's
    registry is not this account's (its configuration cannot be read)."""
    if status in _UNDERWAY:
        return ScanOutlook.UNDERWAY
    if status in _ENDED:
        return ScanOutlook.ENDED
    if setup is None:
        return ScanOutlook.UNKNOWN
    return ScanOutlook.UNDERWAY if scans_on_push(setup, repository) else ScanOutlook.NOT_SCANNED

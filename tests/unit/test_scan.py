"""The scan gate: with `autopilot:scan` set, only an image whose finished scan found nothing at
or above the threshold may deploy."""

from __future__ import annotations

import pytest

from autopilot.domain.decisions import Skip
from autopilot.domain.scan import ScanResult, scan_verdict


def complete(**counts: int) -> ScanResult:
    return ScanResult("COMPLETE", counts)


def blocked_code(verdict: Skip | None) -> str:
    assert verdict is not None, "expected the image to be held or blocked"
    return verdict.code


@pytest.mark.parametrize(
    "result",
    [None, complete(CRITICAL=9), ScanResult("IN_PROGRESS"), ScanResult("FAILED", {"HIGH": 1})],
)
def test_without_a_threshold_there_is_no_gate(result: ScanResult | None) -> None:
    # Given a service without autopilot:scan
    # When the scan is judged, whatever it says
    # Then the image may deploy
    assert scan_verdict(None, result) is None


@pytest.mark.parametrize(
    ("result", "status"),
    [
        (None, "not started"),
        (ScanResult("IN_PROGRESS"), "IN_PROGRESS"),
        (ScanResult("FAILED"), "FAILED"),
        (ScanResult("UNSUPPORTED_IMAGE"), "UNSUPPORTED_IMAGE"),
        (ScanResult("PENDING", {}), "PENDING"),
    ],
)
def test_an_unfinished_or_missing_scan_holds_the_image(
    result: ScanResult | None, status: str
) -> None:
    # Given a scan gate and a scan that has not completed
    # When the scan is judged
    verdict = scan_verdict("HIGH", result)

    # Then the image is held until the scan completes, saying where the scan is
    assert blocked_code(verdict) == "scan-pending"
    assert verdict is not None
    assert status in verdict.reason


@pytest.mark.parametrize(
    ("threshold", "counts", "blocked"),
    [
        # At the threshold blocks.
        ("CRITICAL", {"CRITICAL": 1}, True),
        ("HIGH", {"HIGH": 1}, True),
        ("MEDIUM", {"MEDIUM": 2}, True),
        ("LOW", {"LOW": 1}, True),
        # Above the threshold blocks.
        ("HIGH", {"CRITICAL": 1}, True),
        ("LOW", {"CRITICAL": 1}, True),
        ("MEDIUM", {"HIGH": 3, "LOW": 7}, True),
        # Below the threshold does not.
        ("CRITICAL", {"HIGH": 5, "MEDIUM": 9, "LOW": 20}, False),
        ("HIGH", {"MEDIUM": 3, "LOW": 5}, False),
        ("MEDIUM", {"LOW": 5}, False),
        # Zero counts, informational and untriaged findings never block.
        ("LOW", {"CRITICAL": 0, "HIGH": 0, "MEDIUM": 0, "LOW": 0}, False),
        ("LOW", {"INFORMATIONAL": 12, "UNTRIAGED": 4}, False),
        ("LOW", {}, False),
    ],
)
def test_a_complete_scan_blocks_findings_at_or_above_the_threshold(
    threshold: str, counts: dict[str, int], blocked: bool
) -> None:
    # Given a complete scan with these findings
    result = complete(**counts)

    # When it is judged against the threshold
    verdict = scan_verdict(threshold, result)

    # Then the image is blocked only for findings at or above it
    if blocked:
        assert blocked_code(verdict) == "scan-blocked"
    else:
        assert verdict is None


def test_a_blocked_image_says_the_threshold_and_what_was_found() -> None:
    # Given a complete scan with high and low findings
    result = complete(HIGH=1, MEDIUM=3, LOW=5)

    # When it is judged at HIGH
    verdict = scan_verdict("HIGH", result)

    # Then the reason names the threshold and summarizes the findings
    assert verdict is not None
    assert "HIGH or above" in verdict.reason
    assert result.summary() in verdict.reason


@pytest.mark.parametrize(
    ("counts", "summary"),
    [
        ({"LOW": 5, "CRITICAL": 1, "HIGH": 2}, "CRITICAL 1, HIGH 2, LOW 5"),
        ({"MEDIUM": 3, "INFORMATIONAL": 7, "UNTRIAGED": 1}, "MEDIUM 3"),
        ({"HIGH": 0, "LOW": 2}, "LOW 2"),
        ({}, "no findings"),
        ({"INFORMATIONAL": 7}, "no findings"),
    ],
)
def test_the_summary_lists_nonzero_severities_most_severe_first(
    counts: dict[str, int], summary: str
) -> None:
    # Given a scan with these counts
    # When it is summarized
    # Then severities appear most severe first, zero and non-graded ones left out
    assert complete(**counts).summary() == summary

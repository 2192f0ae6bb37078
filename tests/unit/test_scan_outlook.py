"""Will the scan a held push waits for come by itself? From the scan's status and how ECR scans
the repository (basic or enhanced scanning, registry filters, the repository's own flag)."""

from __future__ import annotations

import pytest

from autopilot.domain.notifications import alarm_hold_text, scan_hold_text
from autopilot.domain.scan import (
    ScanningSetup,
    ScanOutlook,
    ScanResult,
    scan_outlook,
    scan_verdict,
    scans_on_push,
)

BASIC = ScanningSetup("BASIC", (), repository_scan_on_push=False)
DIGEST = "sha256:" + "a" * 64


def basic(*filters: str, repository_flag: bool = False) -> ScanningSetup:
    rules = (("SCAN_ON_PUSH", filters),) if filters else ()
    return ScanningSetup("BASIC", rules, repository_scan_on_push=repository_flag)


def enhanced(frequency: str, *filters: str) -> ScanningSetup:
    return ScanningSetup("ENHANCED", ((frequency, filters),), repository_scan_on_push=True)


@pytest.mark.parametrize(
    ("setup", "scanned"),
    [
        (basic(), False),  # the default: basic scanning, nothing on push
        (basic(repository_flag=True), True),  # the repository's own (legacy) flag
        (basic("web"), True),  # a filter without a wildcard: names containing it
        (basic("we"), True),
        (basic("api"), False),
        (basic("web*"), True),
        (basic("*prod"), False),  # a wildcard filter matches the whole name
        (basic("*"), True),
        # registry filters decide once there are any: the rest is scanned manually
        (basic("api", repository_flag=True), False),
        (ScanningSetup("BASIC", (("MANUAL", ("web",)),), False), False),
        # enhanced scanning ignores the repository's flag; continuous scanning scans on push too
        (enhanced("CONTINUOUS_SCAN", "*"), True),
        (enhanced("SCAN_ON_PUSH", "web"), True),
        (enhanced("SCAN_ON_PUSH", "api"), False),
    ],
)
def test_whether_ecr_scans_a_push_to_web_by_itself(setup: ScanningSetup, scanned: bool) -> None:
    assert scans_on_push(setup, "web") is scanned


@pytest.mark.parametrize(
    ("status", "setup", "outlook"),
    [
        ("IN_PROGRESS", basic(), ScanOutlook.UNDERWAY),
        ("PENDING", None, ScanOutlook.UNDERWAY),
        ("FAILED", basic("web"), ScanOutlook.ENDED),
        ("UNSUPPORTED_IMAGE", None, ScanOutlook.ENDED),
        ("SCAN_ELIGIBILITY_EXPIRED", None, ScanOutlook.ENDED),
        ("NOT_STARTED", basic("web"), ScanOutlook.UNDERWAY),  # scan on push: about to start
        ("NOT_STARTED", basic(), ScanOutlook.NOT_SCANNED),
        ("NOT_STARTED", None, ScanOutlook.UNKNOWN),  # another account's registry
    ],
)
def test_the_outlook_of_a_pending_scan(
    status: str, setup: ScanningSetup | None, outlook: ScanOutlook
) -> None:
    assert scan_outlook(status, setup, "web") is outlook


def test_an_enhanced_scan_reported_active_is_complete() -> None:
    # Given Inspector's status for a scanned image, with a HIGH finding and without
    # When the gate at HIGH reads them
    # Then ACTIVE counts as a finished scan: judged on its findings, not held forever
    assert scan_verdict("HIGH", ScanResult("ACTIVE", {"LOW": 2})) is None
    blocked = scan_verdict("HIGH", ScanResult("ACTIVE", {"HIGH": 1}))
    assert blocked is not None
    assert blocked.code == "scan-blocked"


def test_a_repository_not_scanned_on_push_gets_the_commands_that_release_the_push() -> None:
    text = scan_hold_text(ScanOutlook.NOT_SCANNED, "NOT_STARTED", "BASIC", "123", "web", DIGEST)
    assert "ECR does not scan web on push" in text
    assert (
        f"aws ecr start-image-scan --registry-id 123 --repository-name web "
        f"--image-id imageDigest={DIGEST}"
    ) in text
    assert "add a scan-on-push filter matching web" in text
    assert "remove the autopilot:scan tag" in text


def test_enhanced_scanning_that_skips_the_repository_says_to_add_a_filter() -> None:
    text = scan_hold_text(ScanOutlook.NOT_SCANNED, "NOT_STARTED", "ENHANCED", "123", "web", DIGEST)
    assert "enhanced scanning (Amazon Inspector)" in text
    assert "add a filter matching web" in text
    assert "start-image-scan" not in text  # manual scans are basic scanning's


def test_a_scan_that_ended_and_a_registry_that_cannot_be_read_are_explained() -> None:
    ended = scan_hold_text(ScanOutlook.ENDED, "FAILED", "", "123", "web", DIGEST)
    unknown = scan_hold_text(ScanOutlook.UNKNOWN, "NOT_STARTED", "", "999", "web", DIGEST)
    assert "ended FAILED" in ended
    assert "start-image-scan" in ended
    assert "registry 999" in unknown
    assert "remove the autopilot:scan tag" in unknown


def test_an_alarm_hold_says_when_it_goes_out_and_when_it_expires() -> None:
    text = alarm_hold_text(24)
    assert "goes out on its own when the alarm is back to OK" in text
    assert "more than 24 h" in text

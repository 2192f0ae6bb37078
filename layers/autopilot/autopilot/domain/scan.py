"""The scan gate (`autopilot:scan`): deploy only images whose scan found nothing at or above the
threshold."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from autopilot.domain.config import SEVERITIES
from autopilot.domain.decisions import Skip

COMPLETE = "COMPLETE"


@dataclass(frozen=True, slots=True)
class ScanResult:
    status: str  # COMPLETE, or anything else: not finished, failed, unsupported
    counts: Mapping[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        shown = [f"{s} {self.counts[s]}" for s in SEVERITIES if self.counts.get(s)]
        return ", ".join(shown) or "no findings"


def scan_verdict(threshold: str | None, result: ScanResult | None) -> Skip | None:
    """None when the image may deploy; otherwise why it is held or blocked."""
    if threshold is None:
        return None
    if result is None or result.status != COMPLETE:
        status = result.status if result else "not started"
        return Skip(f"held until the image scan completes (scan {status})", "scan-pending")
    gate = SEVERITIES[: SEVERITIES.index(threshold) + 1]
    if any(result.counts.get(severity, 0) > 0 for severity in gate):
        return Skip(
            f"blocked by the image scan at {threshold} or above: {result.summary()}",
            "scan-blocked",
        )
    return None

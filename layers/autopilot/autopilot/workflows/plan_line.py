"""What a planner decided for one service, as its handler returns it and the CLI prints it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlanLine:
    service: str
    decision: str  # queued | skipped
    reason: str = ""
    code: str = ""

"""The shape every decision shares: a reason not to act."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Skip:
    """Do nothing, because `reason`; `code` is the reason's machine-readable name."""

    reason: str
    code: str

"""The shape every decision shares: a reason not to act."""

from __future__ import annotations

import msgspec


class Skip(msgspec.Struct, frozen=True):
    """Do nothing, because `reason`; `code` is the reason's machine-readable name."""

    reason: str
    code: str

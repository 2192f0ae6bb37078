"""Digests shown bad are kept from deploying again: one place for every action that shows it
(an alarm's rollback, a rejected approval, a failed canary)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from autopilot.domain.ledger import Quarantine

if TYPE_CHECKING:
    from datetime import datetime

    from autopilot.workflows.context import ExecutorContext


def quarantine(
    ctx: ExecutorContext, service_arn: str, digests: tuple[str, ...], why: str, now: datetime
) -> None:
    """Keep these digests from deploying again until an operator releases them."""
    for digest in digests:
        ctx.ledger.quarantine(Quarantine(digest, service_arn, why, now))

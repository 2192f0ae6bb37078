"""Pushes held back from a service: the newest is remembered, people are told once, and an
alarm's hold ends when the alarm is back to OK (or expires if that takes too long)."""

from __future__ import annotations

from datetime import datetime, timedelta

import msgspec

from autopilot.domain.decisions import Skip
from autopilot.domain.fleet import ImagePush
from autopilot.domain.state import HeldPush, ServiceState
from autopilot.records import replace

ALARM_FIRING = "alarm-firing"
SCAN_PENDING = "scan-pending"
HOLD_CODES = frozenset({ALARM_FIRING, SCAN_PENDING})


def live_hold(state: ServiceState) -> HeldPush | None:
    """The held push, unless an automated deploy started since it was held (the hold is over:
    that deploy was this push, or a newer one went out)."""
    held, latest = state.held, state.latest
    if held is None:
        return None
    if latest is not None and latest.kind == "deploy" and latest.started_at >= held.held_at:
        return None
    return held


def told_of(state: ServiceState, code: str) -> bool:
    """People already know the service holds pushes back for this reason."""
    current = live_hold(state)
    return current is not None and current.code == code and current.notified


class HoldChange(msgspec.Struct, frozen=True):
    state: ServiceState | None  # the state to save; None when it does not change
    notify: bool  # tell people about this hold now


def hold_push(
    state: ServiceState, push: ImagePush, skip: Skip, now: datetime, *, lasting: bool
) -> HoldChange:
    """Remember `push` as held for `skip` (only the newest push is kept).

    `lasting`: the hold may not end by itself soon (an alarm; a scan that will never come).
    Such a hold is told once: a newer push held for the same reason, or a retry, says nothing.
    """
    current = live_hold(state)
    if current is not None and current.push.time > push.time:
        return HoldChange(None, notify=False)  # an older push never replaces a newer one
    told = told_of(state, skip.code)
    same_push = current is not None and current.push == push
    held = HeldPush(
        push=push,
        # The same push held again keeps its age: expiry counts from when it was first held.
        held_at=current.held_at if same_push and current is not None else now,
        code=skip.code,
        reason=skip.reason,
        notified=told,
    )
    changed = held != current
    return HoldChange(replace(state, held=held) if changed else None, notify=lasting and not told)


def mark_told(state: ServiceState) -> ServiceState:
    held = state.held
    return replace(state, held=replace(held, notified=True)) if held else state


class Release(msgspec.Struct, frozen=True):
    """Deploy the held push now, re-decided like any push."""

    held: HeldPush


class Expire(msgspec.Struct, frozen=True):
    """Too old to go out on its own: forget it, and say so."""

    held: HeldPush
    reason: str


def decide_resume(
    state: ServiceState, firing: tuple[str, ...], now: datetime, max_age: timedelta
) -> Release | Expire | Skip:
    """An alarm tied to the service is back to OK: may the push it held go out?"""
    held = live_hold(state)
    if held is None:
        return Skip("no push is held", "nothing-held")
    if held.code != ALARM_FIRING:
        return Skip(
            f"the held push waits for its image scan, not an alarm ({held.reason})", "still-held"
        )
    if firing:
        return Skip(
            f"alarm {', '.join(firing)} is still in ALARM: the push stays held", "still-held"
        )
    waited = now - held.held_at
    if waited > max_age:
        hours = waited.total_seconds() / 3600
        return Expire(
            held,
            f"held {hours:.0f} h ({held.reason}), longer than the "
            f"{max_age.total_seconds() / 3600:.0f} h a held push may wait",
        )
    return Release(held)

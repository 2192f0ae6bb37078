"""A deploy that did not go out: a push held back (an alarm in ALARM, a scan not finished) is
remembered in the service's state, and a hold that may last is told once."""

from __future__ import annotations

from autopilot.domain.decisions import Skip
from autopilot.domain.holds import ALARM_FIRING, HOLD_CODES, hold_push, mark_told, told_of
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.domain.notifications import alarm_hold_text, scan_hold_text
from autopilot.domain.scan import ScanOutlook, scan_outlook
from autopilot.domain.state import ServiceState
from autopilot.models.actions import DeployRequest
from autopilot.workflows.context import ExecutorContext


def finish_skip(
    ctx: ExecutorContext,
    request: DeployRequest,
    state: ServiceState,
    entry: LedgerEntry,
    skip: Skip,
) -> LedgerEntry:
    """Finish the deploy as skipped; remember and tell a hold (not in a dry run: nothing is
    remembered there, so every held push is told)."""
    if skip.code not in HOLD_CODES:
        return ctx.finish(entry, Outcome.SKIPPED, reason=skip.reason, code=skip.code)
    told = told_of(state, skip.code) and not ctx.dry_run
    lasting, text = (True, "") if told else _outlook(ctx, request, skip)
    change = hold_push(state, request.push, skip, ctx.clock(), lasting=lasting)
    notify = lasting if ctx.dry_run else change.notify
    if change.state is not None and not ctx.dry_run:
        state = ctx.ledger.save_state(change.state)
    done = ctx.finish(
        entry,
        Outcome.SKIPPED,
        reason=skip.reason,
        code=skip.code,
        notify=notify,
        extra_text=text if notify else "",
    )
    if change.notify and not ctx.dry_run:
        # Marked after the message went out: a crash in between tells twice, never not at all.
        ctx.ledger.save_state(mark_told(state))
    return done


def _outlook(ctx: ExecutorContext, request: DeployRequest, skip: Skip) -> tuple[bool, str]:
    """(may the hold last, what to tell people about it)."""
    if skip.code == ALARM_FIRING:
        return True, alarm_hold_text(ctx.held_max_hours)
    push = request.push
    scan = request.scan or ctx.ecr.scan_result(push.account, push.repository, push.digest)
    outlook = scan_outlook(scan.status, None, push.repository)
    setup = None
    if outlook is ScanOutlook.UNKNOWN:  # the status alone does not tell: ask how ECR scans
        setup = ctx.ecr.scanning_setup(push.account, push.repository)
        outlook = scan_outlook(scan.status, setup, push.repository)
    if outlook is ScanOutlook.UNDERWAY:
        return False, ""  # its result comes as an event, which deploys the push
    text = scan_hold_text(
        outlook,
        scan.status,
        setup.scan_type if setup else "",
        push.account,
        push.repository,
        push.digest,
    )
    return True, text

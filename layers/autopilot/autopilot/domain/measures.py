"""What the automation measures about each finished action: pure, from the ledger entry.

Latencies are computed from the event's own time (the entry's `trigger_time`, the time AWS put
on the ECR or alarm event) to the moment the change was asked of ECS or CodeDeploy (a
rollback's `seconds_to_rollback`, taken when the call was accepted; else the entry's
`recorded_at`, set when the action finished right after that call): never from when a function
happened to run.
"""

from __future__ import annotations

import msgspec

from autopilot.domain.ledger import LedgerEntry, Outcome

# The metric names the dashboard draws (autopilot_tools/dashboard.py) and the code emits.
PUSH_TO_DEPLOY = "PushToDeployStarted"
ALARM_TO_ROLLBACK = "AlarmToRollbackStarted"
DEPLOYMENT_DURATION = "DeploymentCompleted"
DEPLOY_HELD = "DeployHeld"
PARKED_HOURS = "ParkedHours"
PARKED_SAVINGS = "ParkedSavingsUsd"
COST_EXPLORER_REQUESTS = "CostExplorerRequests"

HOLD_CODES = frozenset({"alarm-firing", "scan-pending"})


class Measure(msgspec.Struct, frozen=True):
    name: str
    unit: str  # Count | Milliseconds | None
    value: float


def measures(entry: LedgerEntry) -> list[Measure]:
    """The extra measurements a finished entry carries (its outcome count is separate)."""
    found: list[Measure] = []
    since_event = (entry.recorded_at - entry.trigger_time).total_seconds() * 1000
    if entry.kind == "deploy" and entry.outcome is Outcome.DEPLOYED and entry.trigger == "ecr-push":
        found.append(Measure(PUSH_TO_DEPLOY, "Milliseconds", max(since_event, 0.0)))
    if (
        entry.kind == "rollback"
        and entry.outcome is Outcome.ROLLED_BACK
        and entry.trigger == "alarm"
        and entry.code != "already-rolling-back"  # ECS rolled back; the automation sent nothing
    ):
        # When the call was accepted, if the entry says; else (a retry that only confirmed an
        # earlier attempt's call) when the rollback was recorded.
        took = float(entry.seconds_to_rollback) * 1000 if entry.seconds_to_rollback else since_event
        found.append(Measure(ALARM_TO_ROLLBACK, "Milliseconds", max(took, 0.0)))
    if entry.kind == "deploy" and entry.outcome is Outcome.SKIPPED and entry.code in HOLD_CODES:
        found.append(Measure(DEPLOY_HELD, "Count", 1))
    if entry.kind == "unpark" and entry.outcome is Outcome.APPLIED and entry.hours_parked:
        found.append(Measure(PARKED_HOURS, "None", float(entry.hours_parked)))
        found.append(Measure(PARKED_SAVINGS, "None", float(entry.saved_usd or 0)))
    return found

"""The ledger: one entry per action the automation planned or took, and how it ended."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

import msgspec


class Outcome(StrEnum):
    STARTED = "started"  # written before any change, so a crash mid-way is visible
    DEPLOYED = "deployed"
    DRY_RUN = "dry-run"
    SKIPPED = "skipped"
    FAILED = "failed"
    REFUSED = "refused"  # an invalid request (unknown revision, another family...): not retried
    COMPLETED = "completed"  # the deployment it started finished well
    ROLLED_BACK = "rolled-back"
    NOTIFIED = "notified"  # a person was told; the automation did not act on its own
    APPLIED = "applied"  # an operator's pause, resume or release


class LedgerEntry(msgspec.Struct, frozen=True):
    service_arn: str
    action_id: str
    kind: str
    trigger: str
    trigger_id: str
    trigger_time: datetime
    recorded_at: datetime
    outcome: Outcome
    reason: str = ""
    code: str = ""  # machine-readable reason for skips and failures
    requested_by: str = ""  # the principal that sent the action, as SQS authenticated it
    repository: str = ""
    digest: str = ""
    tag: str = ""
    from_task_definition: str = ""
    to_task_definition: str = ""
    deployment_id: str = ""
    containers: tuple[str, ...] = msgspec.field(default_factory=tuple)
    # A rollback's intent: the digests it will quarantine once the service is back on target.
    quarantine: tuple[str, ...] = msgspec.field(default_factory=tuple)
    # How the change is made: update-service | codedeploy | codedeploy-stop (stop a blue/green
    # deployment with rollback) | stop-service-deployment (stop ECS's own blue/green, linear or
    # canary deployment with rollback) | already-rolling-back (ECS was: nothing sent). Part of
    # the intent: a retry does the same.
    via: str = ""
    # A rollback: how the service deploys (ROLLING | BLUE_GREEN | LINEAR | CANARY | CODE_DEPLOY).
    strategy: str = ""
    # A rollback: decimal seconds from its trigger's time (the alarm's) to ECS or CodeDeploy
    # accepting the call that rolled back; empty when this action made none that it saw accepted.
    seconds_to_rollback: str = ""
    # The end of a rollback of ECS's own blue/green, linear or canary deployment: decimal
    # seconds from its trigger's time to ECS showing it done (`finishedAt`: traffic on blue).
    seconds_to_traffic_back: str = ""
    # An approval: the PAUSE hook (`hookId`) of the service deployment (`deployment_id`).
    hook_id: str = ""
    hours_parked: str = ""  # unpark: decimal hours, for the weekly report
    saved_usd: str = ""  # unpark: estimated Fargate cost avoided, USD
    # A canary verdict's figures, as judged: the window (`START/END`, UTC) and each side's
    # `requests=N errors=N error_rate=P% p99_ms=N p95_ms=N` (domain/canary_hook.describe_side).
    window: str = ""
    blue: str = ""
    green: str = ""


class Quarantine(msgspec.Struct, frozen=True):
    """A digest that must not be deployed again until an operator releases it."""

    digest: str
    service_arn: str
    reason: str
    quarantined_at: datetime


GAVE_UP = "gave-up"  # the code of an action that failed every attempt (redriving resumes it)


def seconds_between(start: datetime, end: datetime) -> str:
    """Decimal seconds, tenths, as entries keep durations (never negative: clocks differ)."""
    return f"{max((end - start).total_seconds(), 0.0):.1f}"


def action_id(trigger_id: str, service_arn: str, kind: str) -> str:
    """Stable for one trigger and one service, so a redelivered event maps to the same action."""
    digest = hashlib.sha256(f"{kind}|{trigger_id}|{service_arn}".encode()).hexdigest()
    return digest[:32]

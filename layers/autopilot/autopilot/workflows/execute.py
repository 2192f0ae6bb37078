"""The executor: the one place that changes services, one action at a time per service."""

from __future__ import annotations

from autopilot.domain.ledger import LedgerEntry
from autopilot.models.actions import (
    ActionRequest,
    CapacityRequest,
    DeployRequest,
    OperatorRequest,
    ResumeHeldRequest,
    RollbackRequest,
    TrackRequest,
)
from autopilot.workflows.capacity_action import change_capacity
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.deploy_action import deploy
from autopilot.workflows.held_action import resume_held
from autopilot.workflows.operator_action import operate
from autopilot.workflows.rollback_action import rollback
from autopilot.workflows.track_action import track


def execute(ctx: ExecutorContext, request: ActionRequest) -> LedgerEntry:
    match request:
        case DeployRequest():
            return deploy(ctx, request)
        case RollbackRequest():
            return rollback(ctx, request)
        case TrackRequest():
            return track(ctx, request)
        case CapacityRequest():
            return change_capacity(ctx, request)
        case OperatorRequest():
            return operate(ctx, request)
        case ResumeHeldRequest():
            return resume_held(ctx, request)

"""Messages on the actions queue: what planners and operators ask the executor to do.

Every message names one service; it is the FIFO message group, so actions on one service
run one at a time and in order, whoever asked for them.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult
from autopilot.models.base import Model


class ActionBase(Model, frozen=True, kw_only=True):
    action_id: str
    service_arn: str
    trigger: str  # what asked: ecr-push, ecr-scan, alarm, ecs-deployment, codedeploy, operator
    trigger_id: str  # the event id (or operator request id) behind it
    trigger_time: datetime
    # Who sent the message, as SQS authenticated it (its SenderId): set by the executor when
    # it receives the message; whatever a sender writes here is overwritten.
    requested_by: str = ""
    kind: str  # each request model narrows it to its Literal: the discriminator


class DeployRequest(ActionBase, frozen=True, kw_only=True):
    """Roll a pushed image out to one service (re-decided by the executor before acting)."""

    kind: Literal["deploy"] = "deploy"
    push: ImagePush
    scan: ScanResult | None = None  # the scan result the trigger carried, if any


class TrackRequest(ActionBase, frozen=True, kw_only=True):
    """A deployment ended: if the automation started it, record how."""

    kind: Literal["track"] = "track"
    deployment_id: str
    result: Literal["completed", "failed", "stopped"]
    reason: str = ""


class RollbackRequest(ActionBase, frozen=True, kw_only=True):
    """Return the service to a known-good revision (automatic after an alarm, or an operator's)."""

    kind: Literal["rollback"] = "rollback"
    automatic: bool
    alarm: str = ""
    to_revision: str | None = None  # operator: family:revision or ARN; else the last known good
    quarantine: bool = False  # operator: quarantine what a roll-forward (--to newer) leaves


class CapacityRequest(ActionBase, frozen=True, kw_only=True):
    """Park, unpark, scale for a peak, or restore after one (from a schedule)."""

    kind: Literal["park", "unpark", "scale", "restore"]
    timezone: str = "UTC"  # the schedule's: skip dates and overrides are read in it
    skip_dates: tuple[date, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    desired: int | None = None
    until: datetime | None = None
    scale_id: str | None = None  # restore: which peak it ends


class OperatorRequest(ActionBase, frozen=True, kw_only=True):
    kind: Literal["pause", "resume", "release"]
    digest: str | None = None  # for release
    operator: str = ""


class ApprovalRequest(ActionBase, frozen=True, kw_only=True):
    """An operator approves (CONTINUE) or rejects (ROLLBACK) the deployment paused at the
    service's PAUSE hook; which deployment and hook is read from ECS, never from the message."""

    kind: Literal["approve", "reject"]


class ApprovalWaitingRequest(ActionBase, frozen=True, kw_only=True):
    """ECS told of a hook's state change on the service: tell people if a PAUSE hook waits."""

    kind: Literal["approval-waiting"] = "approval-waiting"


class ResumeHeldRequest(ActionBase, frozen=True, kw_only=True):
    """An alarm tied to the service went back to OK: deploy the push it held, if it may go now."""

    kind: Literal["resume-held"] = "resume-held"
    alarm: str


# Any request on the actions queue: the model its `kind` names is found among the registered
# action kinds (`autopilot.workflows.registry`); statically every request is an ActionBase
# with a `kind`.
ActionRequest = ActionBase


def parse_action(body: str) -> ActionRequest:
    """An actions-queue message, as the request model its `kind` names."""
    from autopilot.workflows.registry import parse_action as parse  # noqa: PLC0415 - no cycle

    return parse(body)

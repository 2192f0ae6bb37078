"""Messages on the actions queue: what the planners ask the executor to do."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from autopilot.domain.fleet import ImagePush


class ActionBase(BaseModel):
    model_config = ConfigDict(frozen=True)

    action_id: str
    service_arn: str
    trigger: str  # what asked for it: ecr-push, alarm, schedule, operator
    trigger_id: str  # the event id (or operator request id) behind it
    trigger_time: datetime


class DeployRequest(ActionBase):
    """Roll a pushed image out to one service (re-decided by the executor before acting)."""

    kind: Literal["deploy"] = "deploy"
    push: ImagePush


ActionRequest = DeployRequest


def parse_action(body: str) -> ActionRequest:
    return DeployRequest.model_validate_json(body)

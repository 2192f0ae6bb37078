"""ECR push -> queue a deploy for every opted-in service that follows the repository and tag."""

from autopilot.models.events import EcrImageActionEvent
from autopilot.planner import planner
from autopilot.workflows.plan_push import on_push

handler = planner(EcrImageActionEvent.parse, on_push, source="ecr_push")

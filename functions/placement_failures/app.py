"""ECS cannot place a service's tasks -> record it and tell on-call, once an hour a service."""

from autopilot.planner import planner
from autopilot.workflows.placement_action import EcsServiceActionEvent, on_placement_failure

handler = planner(EcsServiceActionEvent.parse, on_placement_failure, source="placement")

"""EventBridge Scheduler document -> park, unpark, scale or restore a group of services."""

from autopilot.models.events import ScheduleDocument
from autopilot.planner import planner
from autopilot.workflows.plan_schedule import on_schedule

handler = planner(ScheduleDocument.parse, on_schedule, source="schedules")

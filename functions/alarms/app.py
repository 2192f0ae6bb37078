"""CloudWatch alarm to ALARM -> consider rolling back each service the alarm is tied to;
to OK -> let each deploy the push the alarm held back."""

from autopilot.models.events import AlarmStateChangeEvent
from autopilot.planner import planner
from autopilot.workflows.plan_alarm import on_alarm

handler = planner(AlarmStateChangeEvent.parse, on_alarm, source="alarms")

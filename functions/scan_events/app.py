"""ECR basic or Inspector2 enhanced scan finished -> deploy to services whose scan gate held it."""

from autopilot.models.events import ImageScanEvent
from autopilot.planner import planner
from autopilot.workflows.plan_push import on_scan

handler = planner(ImageScanEvent.parse, on_scan, source="scan_events")

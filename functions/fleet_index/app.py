"""A service changed (CloudTrail API call, ECS deployment or task set event) or the reindex
schedule fired -> keep the fleet index (repository -> services) up to date."""

from autopilot.planner import planner
from autopilot.workflows.fleet_index import on_index_event, parse_index_event

handler = planner(parse_index_event, on_index_event, source="fleet_index")

"""ECS or CodeDeploy deployment ended -> record it against the deployment the automation started;
an ECS lifecycle hook changed state -> tell of a deployment waiting for approval."""

from autopilot.planner import planner
from autopilot.workflows.plan_deployment import on_deployment, parse_deployment_event

handler = planner(parse_deployment_event, on_deployment, source="deployment_events")

"""ECS lifecycle hook (blue/green, linear, canary) -> judge the new revision against the running
one from their target groups' metrics, and answer SUCCEEDED, FAILED or IN_PROGRESS."""

from autopilot.hook import lifecycle_hook
from autopilot.models.lifecycle_hook import LifecycleHookInvocation
from autopilot.workflows.canary_hook import on_lifecycle_hook

handler = lifecycle_hook(LifecycleHookInvocation.parse, on_lifecycle_hook, source="canary_hook")

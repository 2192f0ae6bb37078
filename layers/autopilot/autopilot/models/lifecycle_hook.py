"""What Amazon ECS sends a Lambda lifecycle hook, in the shape the ECS Developer Guide documents
("Lambda hooks for Amazon ECS service deployments", Lifecycle payloads:
https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html).

    {"executionId": "...", "lifecycleStage": "POST_TEST_TRAFFIC_SHIFT",
     "resourceArn": "arn:aws:ecs:...:service-deployment/CLUSTER/SERVICE/ID",
     "executionDetails": {"serviceArn": "...", "targetServiceRevisionArn": "...",
                          "testTrafficWeights": {}, "productionTrafficWeights": {}},
     "hookDetails": {...}}

The deployment's facts are under `executionDetails`, not at the top level (an older version of
the guide printed them at the top level; the current one, and its full example, nest them).
Unknown fields are ignored, so an addition by AWS never breaks parsing; a missing or mistyped
one is `Invalid`, and the hook answers FAILED.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Self

from msgspec import Meta, field

from autopilot.models.base import Model

Stage = Literal[
    "RECONCILE_SERVICE",
    "PRE_SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRE_PRODUCTION_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
]
ServiceArn = Annotated[str, Meta(pattern=r"^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:service/[^/]+/[^/]+$")]
RevisionArn = Annotated[
    str, Meta(pattern=r"^arn:aws[\w-]*:ecs:[\w-]+:\d{12}:service-revision/[^/]+/[^/]+/[^/]+$")
]
Percent = Annotated[float, Meta(ge=0, le=100)]
Aware = Annotated[datetime, Meta(tz=True)]


class ExecutionDetails(Model, frozen=True, kw_only=True):
    serviceArn: ServiceArn  # noqa: N815 - AWS's field names
    targetServiceRevisionArn: RevisionArn  # noqa: N815
    # Service revision ARN -> percent of that traffic; empty at stages without a shift.
    testTrafficWeights: dict[str, Percent] = field(default_factory=dict)  # noqa: N815
    productionTrafficWeights: dict[str, Percent] = field(default_factory=dict)  # noqa: N815


class CanaryState(Model, frozen=True, kw_only=True):
    """This automation's own part of `hookDetails`, as its IN_PROGRESS answers return it."""

    started_at: Aware | None = field(default=None, name="autopilotCanaryStartedAt")


class LifecycleHookInvocation(Model, frozen=True, kw_only=True):
    executionId: Annotated[str, Meta(min_length=1)]  # noqa: N815
    lifecycleStage: Stage  # noqa: N815
    resourceArn: Annotated[str, Meta(pattern=r"^arn:aws[\w-]*:ecs:")]  # noqa: N815
    executionDetails: ExecutionDetails  # noqa: N815
    # The hook's configured hookDetails, merged with what the last IN_PROGRESS answer returned.
    hookDetails: dict[str, Any] = field(default_factory=dict)  # noqa: N815

    @classmethod
    def parse(cls, data: object) -> Self:
        """As `Model.parse`; the hook's own state in `hookDetails` must be readable too."""
        parsed = super().parse(data)
        parsed.state()
        return parsed

    def state(self) -> CanaryState:
        return CanaryState.parse(self.hookDetails)


def is_lifecycle_hook(event: object) -> bool:
    """Whether it looks like ECS's invocation of a lifecycle hook (the local runner routes on
    it)."""
    return isinstance(event, dict) and "lifecycleStage" in event and "executionDetails" in event

"""Resuming a held push when its alarm is back to OK, against in-memory fakes (no moto)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from autopilot.domain.fleet import task_definition_label
from autopilot.domain.holds import ALARM_FIRING
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.state import HeldPush, ServiceState
from autopilot.models.actions import ResumeHeldRequest
from autopilot.workflows.held_action import resume_held
from tests.fakes.aws import client_error
from tests.fakes.ledger import FakeLedger
from tests.fakes.world import T0, World, digest, ecr_image

TRACKED = {"autopilot:track": "tag:main"}


class _ThrottledOnceWhenFinishing(FakeLedger):
    """DynamoDB throttles the first write of a finished entry (after botocore's retries)."""

    def __init__(self) -> None:
        super().__init__()
        self.throttled = False

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        if entry.outcome is not Outcome.STARTED and not self.throttled:
            self.throttled = True
            raise client_error("ProvisionedThroughputExceededException", "Rate", "PutItem")
        return super().write(entry, first=first)


def _held_web(world: World) -> tuple[str, ResumeHeldRequest]:
    """prod/web runs build 1; build 2 was held while web-5xx fired; web-5xx is OK again."""
    world.push("web", "1", "main", at=T0 - timedelta(days=1))
    arn = world.add_service(
        "prod", "web", {"web": ecr_image("web", digest("web#1"))}, desired=2, tags=TRACKED
    )
    world.cloudwatch.put_alarm("web-5xx", tags={"autopilot:service": "prod/web"})
    push = world.push("web", "2", "main", at=T0 - timedelta(minutes=20))
    held = HeldPush(push, T0 - timedelta(minutes=19), ALARM_FIRING, "alarm web-5xx fires", True)
    world.ledger.save_state(ServiceState(arn, held=held))
    request = ResumeHeldRequest(
        action_id=action_id("alarm-ok-1", arn, "resume-held"),
        service_arn=arn,
        trigger="alarm-ok",
        trigger_id="alarm-ok-1",
        trigger_time=T0,
        alarm="web-5xx",
    )
    return arn, request


def test_the_held_push_deploys_when_its_alarm_is_ok_and_the_hold_is_forgotten() -> None:
    """Given build 2 held by web-5xx, now OK, when the resume-held action runs, then build 2
    is deployed under the action's id and the hold is cleared."""
    world = World()
    arn, request = _held_web(world)

    entry = resume_held(world.context(), request)

    assert (entry.kind, entry.outcome, entry.action_id) == (
        "deploy",
        Outcome.DEPLOYED,
        request.action_id,
    )
    assert task_definition_label(world.ecs.describe_service(arn).task_definition_arn) == "web:2"
    assert world.ledger.state(arn).held is None


def test_a_retry_after_the_deploy_went_out_finishes_it_instead_of_finding_nothing_held() -> None:
    """Given the first attempt deployed build 2 and recorded it in the service state, but the
    ledger refused its final entry, when the action is retried, then the retry records the
    deploy (confirmed, one revision, one deployment), not "nothing held", and clears the hold.
    """
    world = World()
    world.ledger = _ThrottledOnceWhenFinishing()
    arn, request = _held_web(world)
    with pytest.raises(ClientError):
        resume_held(world.context(), request)
    assert task_definition_label(world.ecs.describe_service(arn).task_definition_arn) == "web:2"

    entry = resume_held(world.context(), request)

    assert (entry.kind, entry.outcome) == ("deploy", Outcome.DEPLOYED)
    assert task_definition_label(entry.to_task_definition) == "web:2"
    assert entry.deployment_id in world.ecs.deployment_ids(arn)
    assert world.ecs.revisions("web")[-1] == entry.to_task_definition
    assert len(world.ecs.revisions("web")) == 2
    assert world.ledger.state(arn).held is None

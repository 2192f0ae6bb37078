"""The harness itself: a planned fault hits exactly one call, before or after it took effect."""

from __future__ import annotations

from email.message import EmailMessage

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from autopilot.adapters.aws_errors import error_code
from autopilot.domain.report_delivery import DeliveryRejectedError, DeliveryUncertainError
from tests.chaos.faults import FaultPlan, Mode
from tests.fakes.report import FakeCostExplorer
from tests.fakes.world import World, fargate_task_definition


def _service_on_revision_1(world: World) -> str:
    return world.add_service("prod", "web", {"web": "nginx:1.27"})


def test_before_the_call_nothing_happens_and_a_throttle_is_raised() -> None:
    """Given a plan failing call 1 before it is made, when the second call (a registration)
    runs, then it raises the ThrottlingException botocore would, and nothing was registered."""
    world = World()
    _service_on_revision_1(world)
    plan = FaultPlan(index=1, mode="before")
    ecs = plan.wrap(world.ecs, "ecs")
    ecs.task_definition("web")

    with pytest.raises(ClientError) as raised:
        ecs.register_task_definition(fargate_task_definition("web", {"web": "nginx:1.28"}), [])

    assert error_code(raised.value) == "ThrottlingException"
    assert raised.value.operation_name == "RegisterTaskDefinition"
    assert [r.rsplit("/", 1)[1] for r in world.ecs.revisions("web")] == ["web:1"]
    assert plan.calls == ["ecs.task_definition", "ecs.register_task_definition"]
    assert plan.fired == "ecs.register_task_definition"


def test_after_the_call_it_took_effect_and_the_response_is_lost() -> None:
    """Given a plan failing call 0 after it is made, when the service is updated, then the
    update took effect (a new deployment) and the caller sees a read timeout."""
    world = World()
    arn = _service_on_revision_1(world)
    revision = world.ecs.register_task_definition(
        fargate_task_definition("web", {"web": "nginx:1.28"}), []
    )
    plan = FaultPlan(index=0, mode="after")
    ecs = plan.wrap(world.ecs, "ecs")

    with pytest.raises(ReadTimeoutError):
        ecs.update_service(world.ecs.describe_service(arn), revision)

    service = world.ecs.describe_service(arn)
    assert service.task_definition_arn == revision
    assert service.primary is not None
    assert service.primary.rollout_state == "IN_PROGRESS"


def test_a_plan_fires_once_and_calls_without_a_request_are_not_crash_points() -> None:
    """Given a plan failing call 0, when the first call fails, then later calls (a redelivery)
    run clean; reading the SDK's model is not counted, a plain attribute reads through."""
    world = World()
    plan = FaultPlan(index=0, mode="before")
    ecs = plan.wrap(world.ecs, "ecs")
    costs = plan.wrap(FakeCostExplorer(), "costs")

    assert "containerDefinitions" in ecs.writable_task_definition_fields()
    with pytest.raises(ClientError):
        ecs.describe_services([])
    assert ecs.describe_services([]) == []
    assert costs.requests == 0
    assert plan.calls == ["ecs.describe_services", "ecs.describe_services"]


def test_an_outage_fails_its_operation_on_every_call_until_it_recovers() -> None:
    """Given a plan starting an outage at call 0, when the same operation is called again (a
    later attempt), then it fails too, before taking effect, while other operations answer;
    once the plan recovers, the operation works."""
    world = World()
    _service_on_revision_1(world)
    plan = FaultPlan(index=0, mode="outage")
    ecs = plan.wrap(world.ecs, "ecs")
    definition = fargate_task_definition("web", {"web": "nginx:1.28"})

    for _ in range(3):
        with pytest.raises(ClientError):
            ecs.register_task_definition(definition, [])
        plan.disarm()  # what the runner does after each attempt: the outage goes on
    assert ecs.task_definition("web")[0]["revision"] == 1
    plan.recover()
    ecs.register_task_definition(definition, [])

    assert [r.rsplit("/", 1)[1] for r in world.ecs.revisions("web")] == ["web:1", "web:2"]
    assert plan.fired == "ecs.register_task_definition"


def test_the_mailer_fails_as_the_adapter_translates_ses_errors() -> None:
    """Given SES failing before or after taking the email, when the report is sent, then the
    caller sees what adapters/mailer.py raises: rejected (nothing sent) or uncertain (sent)."""
    cases: tuple[tuple[Mode, type[Exception], int], ...] = (
        ("before", DeliveryRejectedError, 0),
        ("after", DeliveryUncertainError, 1),
    )
    for mode, error, sent in cases:
        world = World()
        plan = FaultPlan(index=0, mode=mode)
        mailer = plan.wrap(world.mailer, "mailer")

        with pytest.raises(error):
            mailer.send(EmailMessage())

        assert len(world.mailer.sent) == sent

"""Park, unpark, scale and restore: the branches, against in-memory fakes (no moto)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from botocore.exceptions import ClientError

from autopilot.domain.capacity import Capacity, Parked, Scaled
from autopilot.domain.fleet import Service
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.state import ServiceState
from autopilot.models.actions import CapacityRequest
from autopilot.workflows.batch import MAX_ATTEMPTS
from autopilot.workflows.capacity_action import change_capacity
from autopilot.workflows.execute import ActionRunner
from tests.fakes.aws import client_error
from tests.fakes.ecs import FakeEcs
from tests.fakes.world import T0, World, digest, ecr_image

NOT_SUSPENDED = {
    "DynamicScalingInSuspended": False,
    "DynamicScalingOutSuspended": False,
    "ScheduledScalingSuspended": False,
}


def _api(world: World, desired: int = 3, scaling: tuple[int, int] | None = (2, 6)) -> str:
    """prod/api in schedule group nightly, scaling between 2 and 6 unless told otherwise."""
    arn = world.add_service(
        "prod",
        "api",
        {"api": ecr_image("api", digest("api#7"))},
        desired=desired,
        tags={"autopilot:schedule": "nightly"},
    )
    if scaling is not None:
        world.autoscaling.register("prod", "api", *scaling)
    return arn


def _request(
    arn: str, kind: str, trigger: str = "execution-1", **fields: object
) -> CapacityRequest:
    return CapacityRequest.parse(
        {
            "action_id": action_id(trigger, arn, kind),
            "service_arn": arn,
            "trigger": "schedule",
            "trigger_id": trigger,
            "trigger_time": T0,
            "kind": kind,
            **fields,
        }
    )


def _capacity(world: World, arn: str) -> tuple[int, tuple[int, int, dict[str, bool]] | None]:
    service = world.ecs.describe_service(arn)
    return service.desired_count, world.autoscaling.target(service)


def _change(world: World, request: CapacityRequest, *, dry_run: bool = False) -> LedgerEntry:
    return change_capacity(world.context(dry_run=dry_run), request)


def test_a_dry_run_park_says_what_it_would_set_and_changes_nothing() -> None:
    world = World()
    arn = _api(world)

    entry = _change(world, _request(arn, "park"), dry_run=True)

    assert entry.outcome is Outcome.DRY_RUN
    assert entry.reason == "dry run: would set 0 tasks, min 0, max 0 (scaling suspended)"
    assert _capacity(world, arn) == (3, (2, 6, NOT_SUSPENDED))
    assert world.ledger.state(arn).parked is None


def test_a_service_without_a_scalable_target_is_parked_and_unparked_by_its_count() -> None:
    """Given prod/api at 3 tasks with no scalable target, when it is parked then unparked,
    then it goes to 0 and back to 3, and no scalable target is created on the way."""
    world = World()
    arn = _api(world, scaling=None)

    parked = _change(world, _request(arn, "park"))
    world.clock.advance(timedelta(hours=10))
    unparked = _change(world, _request(arn, "unpark", trigger="execution-2"))

    assert (parked.outcome, unparked.outcome) == (Outcome.APPLIED, Outcome.APPLIED)
    assert _capacity(world, arn) == (3, None)
    assert world.autoscaling.targets == {}
    assert unparked.hours_parked == "10.00"


def test_a_peak_is_not_applied_to_a_parked_service() -> None:
    world = World()
    arn = _api(world, desired=0, scaling=(0, 0))
    world.ledger.save_state(
        ServiceState(arn, parked=Parked(Capacity(3, 2, 6, NOT_SUSPENDED), T0 - timedelta(hours=3)))
    )

    entry = _change(world, _request(arn, "scale", minimum=6, maximum=12))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "parked")
    assert world.scheduler.schedules == {}
    assert _capacity(world, arn)[0] == 0


def test_a_second_peak_keeps_the_capacity_from_before_the_first() -> None:
    """Given a first peak (6-12) applied over 3 tasks scaling 2-6, when a second peak (8-16)
    starts before the first ended, then its end restores 3 tasks at 2-6, not the first peak."""
    world = World()
    arn = _api(world)
    until = T0 + timedelta(hours=2)
    _change(world, _request(arn, "scale", minimum=6, maximum=12, until=until))

    second = _change(
        world, _request(arn, "scale", trigger="execution-2", minimum=8, maximum=16, until=until)
    )

    scaled = world.ledger.state(arn).scaled
    assert second.outcome is Outcome.APPLIED
    assert _capacity(world, arn) == (8, (8, 16, NOT_SUSPENDED))
    assert scaled == Scaled(Capacity(3, 2, 6, NOT_SUSPENDED), second.action_id, until)
    assert len(world.scheduler.schedules) == 2


def test_the_end_of_a_replaced_peak_changes_nothing() -> None:
    """Given a second peak replaced the first, when the first peak's restore schedule fires,
    then it is skipped: the second peak's own end restores the capacity."""
    world = World()
    arn = _api(world)
    first = _change(world, _request(arn, "scale", minimum=6, maximum=12))
    second = _change(world, _request(arn, "scale", trigger="execution-2", minimum=8, maximum=16))

    restore = _change(
        world, _request(arn, "restore", trigger="restore-1", scale_id=first.action_id)
    )

    assert (restore.outcome, restore.code) == (Outcome.SKIPPED, "superseded")
    assert _capacity(world, arn)[0] == 8
    scaled = world.ledger.state(arn).scaled
    assert scaled is not None
    assert scaled.scale_id == second.action_id


def test_a_capacity_change_for_a_service_that_is_gone_is_skipped() -> None:
    world = World()
    arn = _api(world).replace("/api", "/api-old")

    entry = _change(world, _request(arn, "park"))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "service-gone")
    assert world.notifier.sent == []


def test_a_dry_run_peak_schedules_nothing() -> None:
    """Given prod/api at 3 tasks, when a dry-run peak with an end arrives, then it says what
    it would set and creates no restore schedule (a dry run changes nothing in AWS)."""
    world = World()
    arn = _api(world)

    entry = _change(
        world,
        _request(arn, "scale", minimum=6, maximum=12, until=T0 + timedelta(hours=3)),
        dry_run=True,
    )

    assert entry.outcome is Outcome.DRY_RUN
    assert world.scheduler.schedules == {}


class _EcsThrottledWhileDown(FakeEcs):
    """ECS refuses UpdateService's desired count while `down` (botocore gave up retrying)."""

    down = True

    def set_desired_count(self, service: Service, desired: int) -> None:
        if self.down:
            raise client_error("ThrottlingException", "Rate exceeded", "UpdateService")
        super().set_desired_count(service, desired)


def test_a_park_given_up_half_done_is_finished_by_its_redrive() -> None:
    """Given a park that saved its snapshot and set the scaling limits to 0, then failed on
    the desired count three times and was given up (its entry rewritten FAILED gave-up), when
    ECS answers again and the message is redriven, then the service is parked and the
    snapshot is the capacity from before the park, not "already parked" with 3 tasks left."""
    world = World()
    world.ecs = _EcsThrottledWhileDown(world.clock)
    arn = _api(world)
    request = _request(arn, "park")
    runner = ActionRunner(world.context())
    for _ in range(MAX_ATTEMPTS):
        with pytest.raises(ClientError):
            runner.run(request)
        world.clock.advance(timedelta(seconds=30))
    runner.give_up(request, ClientError({}, "UpdateService"), MAX_ATTEMPTS)
    assert _capacity(world, arn) == (3, (0, 0, dict.fromkeys(NOT_SUSPENDED, True)))

    world.ecs.down = False
    world.clock.advance(timedelta(hours=1))
    entry = ActionRunner(world.context()).run(request)

    assert entry.outcome is Outcome.APPLIED
    assert _capacity(world, arn) == (0, (0, 0, dict.fromkeys(NOT_SUSPENDED, True)))
    parked = world.ledger.state(arn).parked
    assert parked is not None
    assert parked.capacity == Capacity(3, 2, 6, NOT_SUSPENDED)

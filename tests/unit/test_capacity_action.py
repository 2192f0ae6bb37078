"""Park, unpark, scale and restore survive a failure at any AWS call.

Each scenario first runs cleanly to learn the calls it makes; then, for every call in turn, it
fails that call once (before it takes effect, or after it took effect with the response lost),
retries the action the way SQS redelivers it, and checks that the service ends where it should,
the snapshot is the capacity from before, each change happened exactly once, and the action
ended with a ledger entry. The fakes below stand in for ECS, Application Auto Scaling,
the ledger table and Scheduler's client (the real SchedulerGateway runs on top of it).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal, TypeVar, cast
from zoneinfo import ZoneInfo

import pytest
from botocore.exceptions import ClientError

from autopilot.adapters.autoscaling import AutoScalingGateway
from autopilot.adapters.cloudwatch import CloudWatchGateway
from autopilot.adapters.codedeploy import CodeDeployGateway
from autopilot.adapters.ecr import EcrGateway
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.notifier import Notifier
from autopilot.adapters.scheduler import SchedulerGateway
from autopilot.domain.capacity import SUSPEND_ALL, Capacity
from autopilot.domain.errors import ConflictError
from autopilot.domain.fleet import Container, Service
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.notifications import Notification
from autopilot.domain.state import ServiceState
from autopilot.models.actions import CapacityRequest
from autopilot.records import replace
from autopilot.workflows.capacity_action import change_capacity
from autopilot.workflows.context import ExecutorContext

if TYPE_CHECKING:
    from mypy_boto3_scheduler import EventBridgeSchedulerClient

T = TypeVar("T")
When = Literal["before", "after"]

ARN = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
CLUSTER = "arn:aws:ecs:us-east-1:123456789012:cluster/staging"
SCHEDULE_FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:schedules"
BERLIN = ZoneInfo("Europe/Berlin")
FRIDAY_EVENING = datetime(2026, 11, 20, 20, 0, tzinfo=BERLIN)
MONDAY_MORNING = datetime(2026, 11, 23, 7, 0, tzinfo=BERLIN)
PEAK_START = datetime(2026, 11, 23, 7, 30, tzinfo=BERLIN)
PEAK_END = datetime(2026, 11, 23, 11, 30, tzinfo=BERLIN)
# 2 tasks, scaling between 1 and 4, scheduled scaling suspended by the team.
ORIGINAL = Capacity(
    desired=2,
    min=1,
    max=4,
    suspended={
        "DynamicScalingInSuspended": False,
        "DynamicScalingOutSuspended": False,
        "ScheduledScalingSuspended": True,
    },
)
PARKED = Capacity(desired=0, min=0, max=0, suspended=dict(SUSPEND_ALL))
PEAK = Capacity(desired=6, min=6, max=30, suspended=ORIGINAL.suspended)


def aws_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": code}}, operation)


# -- fakes --------------------------------------------------------------------------------------


class Faults:
    """Counts the calls; fails the one at `index` once, before or after it takes effect."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self._armed: tuple[int, When] | None = None

    def arm(self, index: int, when: When) -> None:
        self._armed = (index, when)

    def __call__(self, name: str, effect: Callable[[], T]) -> T:
        index = len(self.calls)
        self.calls.append(name)
        if self._armed is not None and self._armed[0] == index:
            when = self._armed[1]
            self._armed = None
            if when == "after":
                effect()  # it happened; the caller never hears so
            raise aws_error("ThrottlingException", name)
        return effect()


@dataclass
class World:
    """What AWS holds for one service, and every change made to it."""

    faults: Faults = field(default_factory=Faults)
    desired: int = ORIGINAL.desired
    limits: tuple[int, int, dict[str, bool]] | None = (
        1,
        4,
        dict(ORIGINAL.suspended or {}),
    )
    scheduling_strategy: str = "REPLICA"
    desired_changes: list[int] = field(default_factory=list)
    limit_changes: list[tuple[int, int, dict[str, bool]]] = field(default_factory=list)
    state: ServiceState = field(default_factory=lambda: ServiceState(service_arn=ARN))
    entries: dict[tuple[str, datetime, str], LedgerEntry] = field(default_factory=dict)
    schedules: dict[str, dict[str, Any]] = field(default_factory=dict)
    notifications: list[Notification] = field(default_factory=list)

    @property
    def capacity(self) -> Capacity:
        if self.limits is None:
            return Capacity(desired=self.desired)
        minimum, maximum, suspended = self.limits
        return Capacity(self.desired, minimum, maximum, dict(suspended))

    def forget_changes(self) -> None:
        self.desired_changes.clear()
        self.limit_changes.clear()
        self.faults.calls.clear()


class FakeEcs(EcsGateway):
    def __init__(self, world: World) -> None:
        self.world = world

    def describe_service(self, service_arn: str) -> Service:
        world = self.world
        return world.faults(
            "ecs:DescribeServices",
            lambda: Service(
                arn=service_arn,
                cluster_arn=CLUSTER,
                name="web",
                status="ACTIVE",
                task_definition_arn="arn:aws:ecs:us-east-1:123456789012:task-definition/web:3",
                containers=(Container("web", "web:3"),),
                scheduling_strategy=world.scheduling_strategy,
                desired_count=world.desired,
                tags={"autopilot:schedule": "nightly peak"},
            ),
        )

    def set_desired_count(self, service: Service, desired: int) -> None:
        def effect() -> None:
            self.world.desired = desired
            self.world.desired_changes.append(desired)

        self.world.faults("ecs:UpdateService", effect)


class FakeAutoScaling(AutoScalingGateway):
    def __init__(self, world: World) -> None:
        self.world = world

    def target(self, service: Service) -> tuple[int, int, dict[str, bool]] | None:
        limits = self.world.limits
        return self.world.faults(
            "application-autoscaling:DescribeScalableTargets",
            lambda: None if limits is None else (limits[0], limits[1], dict(limits[2])),
        )

    def set_target(
        self, service: Service, minimum: int, maximum: int, suspended: Mapping[str, bool]
    ) -> None:
        def effect() -> None:
            self.world.limits = (minimum, maximum, dict(suspended))
            self.world.limit_changes.append((minimum, maximum, dict(suspended)))

        self.world.faults("application-autoscaling:RegisterScalableTarget", effect)


class FakeLedger(Ledger):
    """The ledger table: entries keyed like the real sort key, state with its version check."""

    def __init__(self, world: World) -> None:
        self.world = world

    def find(self, service_arn: str, trigger_time: datetime, action_id: str) -> LedgerEntry | None:
        key = (service_arn, trigger_time, action_id)
        return self.world.faults("dynamodb:GetItem", lambda: self.world.entries.get(key))

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        key = (entry.service_arn, entry.trigger_time, entry.action_id)

        def effect() -> bool:
            if first and key in self.world.entries:
                return False
            self.world.entries[key] = entry
            return True

        return self.world.faults("dynamodb:PutItem", effect)

    def state(self, service_arn: str) -> ServiceState:
        return self.world.faults("dynamodb:GetItem(state)", lambda: self.world.state)

    def save_state(self, state: ServiceState) -> ServiceState:
        def effect() -> ServiceState:
            if state.version != self.world.state.version:
                raise ConflictError(f"state of {state.service_arn} changed meanwhile")
            self.world.state = replace(state, version=state.version + 1)
            return self.world.state

        return self.world.faults("dynamodb:PutItem(state)", effect)


class FakeSchedulerClient:
    """Scheduler's CreateSchedule (not idempotent: a second one conflicts) and GetSchedule."""

    def __init__(self, world: World) -> None:
        self.world = world

    def create_schedule(self, **request: Any) -> dict[str, Any]:
        def effect() -> dict[str, Any]:
            name = request["Name"]
            if name in self.world.schedules:
                raise aws_error("ConflictException", "CreateSchedule")
            arn = f"arn:aws:scheduler:us-east-1:123456789012:schedule/one-off/{name}"
            self.world.schedules[name] = {**request, "Arn": arn}
            return {"ScheduleArn": arn}

        return self.world.faults("scheduler:CreateSchedule", effect)

    def get_schedule(self, Name: str, GroupName: str) -> dict[str, Any]:  # noqa: N803 - boto3's
        return self.world.faults("scheduler:GetSchedule", lambda: self.world.schedules[Name])


class FakeNotifier(Notifier):
    def __init__(self, world: World) -> None:
        self.world = world

    def send(self, notification: Notification) -> None:
        self.world.notifications.append(notification)


def context(world: World, now: datetime, *, dry_run: bool = False) -> ExecutorContext:
    client = cast("EventBridgeSchedulerClient", FakeSchedulerClient(world))
    scheduler = SchedulerGateway(
        "one-off",
        SCHEDULE_FUNCTION,
        "arn:aws:iam::123456789012:role/scheduler",
        "arn:aws:sqs:us-east-1:123456789012:events-dlq",
        client=client,
    )
    return ExecutorContext(
        ecs=FakeEcs(world),
        # Capacity actions read no image, deployment or alarm.
        ecr=cast("EcrGateway", None),
        codedeploy=cast("CodeDeployGateway", None),
        cloudwatch=cast("CloudWatchGateway", None),
        ledger=FakeLedger(world),
        notifier=FakeNotifier(world),
        autoscaling=FakeAutoScaling(world),
        scheduler=lambda: scheduler,
        dry_run=dry_run,
        clock=lambda: now,
    )


def capacity_request(kind: str, trigger_time: datetime, **fields: Any) -> CapacityRequest:
    trigger = f"arn:aws:scheduler:us-east-1:123456789012:schedule/default/{kind}@{trigger_time}"
    return CapacityRequest(
        action_id=action_id(trigger, ARN, kind),
        service_arn=ARN,
        trigger="schedule",
        trigger_id=trigger,
        trigger_time=trigger_time,
        kind=kind,  # type: ignore[arg-type]
        timezone="Europe/Berlin",
        **fields,
    )


# -- scenarios ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    """An action on a service prepared for it, and where it must leave the service."""

    kind: str
    prepare: Callable[[World], None]
    request: Callable[[World], CapacityRequest]
    now: datetime
    capacity: Capacity
    snapshot: Callable[[ServiceState], object]
    expected_snapshot: object
    schedules: int


def _park_request(world: World) -> CapacityRequest:
    return capacity_request("park", FRIDAY_EVENING)


def _scale_request(world: World) -> CapacityRequest:
    return capacity_request("scale", PEAK_START, minimum=6, maximum=30, until=PEAK_END)


def _prepare_nothing(world: World) -> None:
    return None


def _prepare_parked(world: World) -> None:
    change_capacity(context(world, FRIDAY_EVENING), _park_request(world))


def _prepare_peak(world: World) -> None:
    change_capacity(context(world, PEAK_START), _scale_request(world))


def _restore_request(world: World) -> CapacityRequest:
    [schedule] = world.schedules.values()
    document = json.loads(schedule["Target"]["Input"])
    return capacity_request("restore", PEAK_END, scale_id=document["scale_id"])


SCENARIOS = {
    "park": Scenario(
        kind="park",
        prepare=_prepare_nothing,
        request=_park_request,
        now=FRIDAY_EVENING,
        capacity=PARKED,
        snapshot=lambda s: s.parked.capacity if s.parked else None,
        expected_snapshot=ORIGINAL,
        schedules=0,
    ),
    "unpark": Scenario(
        kind="unpark",
        prepare=_prepare_parked,
        request=lambda world: capacity_request("unpark", MONDAY_MORNING),
        now=MONDAY_MORNING,
        capacity=ORIGINAL,
        snapshot=lambda s: s.parked,
        expected_snapshot=None,
        schedules=0,
    ),
    "scale": Scenario(
        kind="scale",
        prepare=_prepare_nothing,
        request=_scale_request,
        now=PEAK_START,
        capacity=PEAK,
        snapshot=lambda s: s.scaled.previous if s.scaled else None,
        expected_snapshot=ORIGINAL,
        schedules=1,
    ),
    "restore": Scenario(
        kind="restore",
        prepare=_prepare_peak,
        request=_restore_request,
        now=PEAK_END,
        capacity=ORIGINAL,
        snapshot=lambda s: s.scaled,
        expected_snapshot=None,
        schedules=1,  # the one that delivered it (it deletes itself after it ran)
    ),
}


def prepared(scenario: Scenario) -> tuple[World, CapacityRequest]:
    world = World()
    scenario.prepare(world)
    world.forget_changes()
    return world, scenario.request(world)


def clean_calls(scenario: Scenario) -> list[str]:
    world, request = prepared(scenario)
    change_capacity(context(world, scenario.now), request)
    return list(world.faults.calls)


def _cases() -> Iterator[Any]:
    for kind, scenario in SCENARIOS.items():
        for index, call in enumerate(clean_calls(scenario)):
            for when in ("before", "after"):
                yield pytest.param(kind, index, when, id=f"{kind}-{index}-{call}-{when}")


def assert_finished_where_it_should(
    scenario: Scenario, world: World, before: Capacity, request: CapacityRequest
) -> None:
    # The service has the target capacity, and the snapshot is the capacity from before
    assert world.capacity == scenario.capacity
    assert scenario.snapshot(world.state) == scenario.expected_snapshot
    # Each change happened once: no repeated or extended change, no second schedule
    wanted_desired = (
        [] if scenario.capacity.desired == before.desired else [scenario.capacity.desired]
    )
    assert world.desired_changes == wanted_desired
    limits = (scenario.capacity.min, scenario.capacity.max, dict(scenario.capacity.suspended or {}))
    assert world.limit_changes == [limits]
    assert len(world.schedules) == scenario.schedules
    # And the action ended with a ledger entry
    entry = world.entries[(ARN, request.trigger_time, request.action_id)]
    assert entry.outcome is Outcome.APPLIED


@pytest.mark.parametrize(("kind", "index", "when"), list(_cases()))
def test_a_capacity_action_retried_after_any_failed_call_ends_where_it_should(
    kind: str, index: int, when: When
) -> None:
    # Given a service prepared for the action, and its capacity before it
    scenario = SCENARIOS[kind]
    world, request = prepared(scenario)
    before = world.capacity

    # When one call of the action fails (before it took effect, or after, the answer lost)
    world.faults.arm(index, when)
    with pytest.raises(ClientError):
        change_capacity(context(world, scenario.now), request)

    # And the message is delivered again
    entry = change_capacity(context(world, scenario.now), request)

    # Then the action finished what it meant, once, and recorded it
    assert entry.outcome is Outcome.APPLIED
    assert_finished_where_it_should(scenario, world, before, request)


@pytest.mark.parametrize("kind", list(SCENARIOS))
def test_a_capacity_action_without_failures_ends_where_it_should(kind: str) -> None:
    # Given a service prepared for the action
    scenario = SCENARIOS[kind]
    world, request = prepared(scenario)
    before = world.capacity

    # When the action runs
    entry = change_capacity(context(world, scenario.now), request)

    # Then it is applied, once
    assert entry.outcome is Outcome.APPLIED
    assert_finished_where_it_should(scenario, world, before, request)


def test_a_park_records_its_intent_before_it_changes_anything() -> None:
    # Given a service to park
    world, request = prepared(SCENARIOS["park"])

    # When it is parked
    change_capacity(context(world, FRIDAY_EVENING), request)

    # Then the STARTED entry and the snapshot were written before any change, and the scaling
    # limits were set before the desired count
    calls = world.faults.calls
    started = calls.index("dynamodb:PutItem")
    snapshot = calls.index("dynamodb:PutItem(state)")
    limits = calls.index("application-autoscaling:RegisterScalableTarget")
    count = calls.index("ecs:UpdateService")
    assert started < snapshot < limits < count


def test_a_park_whose_snapshot_was_saved_then_interrupted_restores_the_first_capacity() -> None:
    # Given a park that saved the snapshot and set the limits, then failed setting the count
    world, request = prepared(SCENARIOS["park"])
    world.faults.arm(clean_calls(SCENARIOS["park"]).index("ecs:UpdateService"), "before")
    with pytest.raises(ClientError):
        change_capacity(context(world, FRIDAY_EVENING), request)
    assert world.limits is not None
    assert world.limits[:2] == (0, 0)

    # When the park is retried, and the group is unparked on Monday
    change_capacity(context(world, FRIDAY_EVENING), request)
    change_capacity(context(world, MONDAY_MORNING), capacity_request("unpark", MONDAY_MORNING))

    # Then unpark brings back what ran before the park, not the half-parked capacity
    assert world.capacity == ORIGINAL


def test_parking_a_daemon_service_is_skipped_and_records_no_intent() -> None:
    # Given a DAEMON service
    world, request = prepared(SCENARIOS["park"])
    world.scheduling_strategy = "DAEMON"

    # When it is parked
    entry = change_capacity(context(world, FRIDAY_EVENING), request)

    # Then it is skipped, nothing is saved or changed
    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "daemon")
    assert world.state.parked is None
    assert world.capacity == ORIGINAL
    assert "dynamodb:PutItem(state)" not in world.faults.calls


# -- peaks: dry run, ends that passed ------------------------------------------------------------


def test_a_dry_run_peak_creates_no_schedule_and_changes_nothing() -> None:
    # Given a peak with an end, in dry-run mode
    world, request = prepared(SCENARIOS["scale"])

    # When it is executed
    entry = change_capacity(context(world, PEAK_START, dry_run=True), request)

    # Then it says what it would do, and did nothing: no schedule, no snapshot, no change
    assert entry.outcome is Outcome.DRY_RUN
    assert "6 tasks, min 6, max 30" in entry.reason
    assert PEAK_END.isoformat() in entry.reason
    assert world.schedules == {}
    assert world.state.scaled is None
    assert world.capacity == ORIGINAL
    assert [e.outcome for e in world.entries.values()] == [Outcome.DRY_RUN]


@pytest.mark.parametrize(
    "until",
    [
        pytest.param(PEAK_START - timedelta(hours=1), id="an hour ago"),
        pytest.param(PEAK_START, id="now"),
        pytest.param(PEAK_START + timedelta(seconds=30), id="too soon to schedule"),
    ],
)
def test_a_peak_whose_end_has_passed_is_refused_and_changes_nothing(until: datetime) -> None:
    # Given a peak whose end has passed by the time the executor gets to it
    world, _ = prepared(SCENARIOS["scale"])
    request = capacity_request("scale", PEAK_START, minimum=6, maximum=30, until=until)

    # When it is executed
    entry = change_capacity(context(world, PEAK_START), request)

    # Then it is refused, with the reason; nothing changed and nothing was created
    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "until-passed")
    assert until.isoformat() in entry.reason
    assert world.capacity == ORIGINAL
    assert world.state.scaled is None
    assert world.schedules == {}
    assert world.desired_changes == []
    assert world.limit_changes == []
    assert "dynamodb:PutItem(state)" not in world.faults.calls


def test_a_peak_interrupted_until_its_end_passed_gives_the_capacity_back() -> None:
    # Given a peak that recorded its intent, set its limits and failed to set the count
    scenario = SCENARIOS["scale"]
    world, request = prepared(scenario)
    world.faults.arm(clean_calls(scenario).index("ecs:UpdateService"), "before")
    with pytest.raises(ClientError):
        change_capacity(context(world, PEAK_START), request)

    # When it is retried only after the peak's end
    entry = change_capacity(context(world, PEAK_END + timedelta(minutes=5)), request)

    # Then the capacity from before is back, the peak is forgotten, and the ledger says why
    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "until-passed")
    assert world.capacity == ORIGINAL
    assert world.state.scaled is None


def test_a_peak_without_an_end_creates_no_schedule() -> None:
    # Given a peak with no end
    world, _ = prepared(SCENARIOS["scale"])
    request = capacity_request("scale", PEAK_START, minimum=6, maximum=30)

    # When it is executed
    entry = change_capacity(context(world, PEAK_START), request)

    # Then the peak capacity is set, and nothing will end it by itself
    assert entry.outcome is Outcome.APPLIED
    assert world.capacity == PEAK
    assert world.schedules == {}


# -- the restore schedule -----------------------------------------------------------------------


def gateway(world: World) -> SchedulerGateway:
    return SchedulerGateway(
        "one-off",
        SCHEDULE_FUNCTION,
        "arn:aws:iam::123456789012:role/scheduler",
        "arn:aws:sqs:us-east-1:123456789012:events-dlq",
        client=cast("EventBridgeSchedulerClient", FakeSchedulerClient(world)),
    )


RESTORE = {"action": "restore", "service_arn": ARN, "scale_id": "abc"}


def test_a_restore_schedule_keeps_what_scheduler_cannot_deliver_in_the_dead_letter_queue() -> None:
    # Given a restore at the end of a peak
    world = World()

    # When its schedule is created
    arn = gateway(world).once("autopilot-restore-abc", PEAK_END, RESTORE)

    # Then it fires once at that instant in UTC, retries, and dead-letters what it cannot deliver
    [schedule] = world.schedules.values()
    assert schedule["Arn"] == arn
    assert schedule["ScheduleExpression"] == "at(2026-11-23T10:30:00)"
    assert schedule["ActionAfterCompletion"] == "DELETE"
    target = schedule["Target"]
    assert target["DeadLetterConfig"] == {"Arn": "arn:aws:sqs:us-east-1:123456789012:events-dlq"}
    assert target["RetryPolicy"]["MaximumRetryAttempts"] > 0
    assert json.loads(target["Input"]) == RESTORE


def test_creating_the_same_restore_schedule_again_returns_the_first() -> None:
    # Given the restore schedule an earlier attempt created
    world = World()
    first = gateway(world).once("autopilot-restore-abc", PEAK_END, RESTORE)

    # When it is created again (CreateSchedule answers ConflictException)
    again = gateway(world).once("autopilot-restore-abc", PEAK_END, RESTORE)

    # Then that is success: the same schedule, still one
    assert again == first
    assert len(world.schedules) == 1


@pytest.mark.parametrize(
    ("at", "document"),
    [
        pytest.param(PEAK_END + timedelta(hours=1), RESTORE, id="another time"),
        pytest.param(PEAK_END, {**RESTORE, "service_arn": ARN + "-other"}, id="another service"),
    ],
)
def test_a_schedule_of_that_name_that_does_something_else_is_a_conflict(
    at: datetime, document: dict[str, str]
) -> None:
    # Given a schedule of that name that restores at another time, or another service
    world = World()
    gateway(world).once("autopilot-restore-abc", at, document)

    # When the restore schedule is created under the same name
    # Then it is not taken for ours
    with pytest.raises(ConflictError, match="does something else"):
        gateway(world).once("autopilot-restore-abc", PEAK_END, RESTORE)


def test_other_scheduler_errors_are_not_taken_for_success() -> None:
    # Given Scheduler refusing the schedule for another reason
    world = World()
    world.faults.arm(0, "before")

    # When it is created, then the error reaches the caller (the action is retried)
    with pytest.raises(ClientError):
        gateway(world).once("autopilot-restore-abc", PEAK_END, RESTORE)
    assert world.schedules == {}


def test_the_restore_document_names_its_schedule_for_scheduler_to_fill_in() -> None:
    # Given a peak that ends
    world, request = prepared(SCENARIOS["scale"])

    # When it is applied
    change_capacity(context(world, PEAK_START), request)

    # Then the restore it schedules carries Scheduler's context attributes, so a retried
    # delivery of it is the same trigger
    [schedule] = world.schedules.values()
    document = json.loads(schedule["Target"]["Input"])
    assert document["schedule_arn"] == "<aws.scheduler.schedule-arn>"
    assert document["scheduled_time"] == "<aws.scheduler.scheduled-time>"
    assert document["scale_id"] == request.action_id
    assert datetime.strptime(schedule["ScheduleExpression"], "at(%Y-%m-%dT%H:%M:%S)").replace(
        tzinfo=UTC
    ) == PEAK_END.astimezone(UTC)

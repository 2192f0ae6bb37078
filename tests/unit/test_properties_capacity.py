"""Properties of parking (`decide_park`, `decide_unpark`): whatever the capacity, 0 and missing
limits included, unpark restores exactly what park saved, through the state as it is stored.

Deterministic: `derandomize=True` seeds each test from its own source and `database=None` keeps
no examples between runs, so CI and a laptop try the same examples every time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from autopilot.adapters.state_codec import dump_state, load_state
from autopilot.domain.capacity import (
    SUSPEND_ALL,
    Capacity,
    Parked,
    SetCapacity,
    decide_park,
    decide_unpark,
)
from autopilot.domain.decisions import Skip
from autopilot.domain.state import ServiceState
from autopilot.records import replace

PROPERTY = settings(max_examples=100, deadline=None, derandomize=True, database=None)

SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
NIGHT = datetime(2026, 11, 20, 19, 0, tzinfo=UTC)

counts = st.integers(0, 50)
suspensions = st.none() | st.dictionaries(st.sampled_from(sorted(SUSPEND_ALL)), st.booleans())
# Any capacity: 0 tasks, no scalable target, limits missing on one side, any suspended flags.
capacities = st.builds(
    Capacity,
    desired=counts,
    min=st.none() | counts,
    max=st.none() | counts,
    suspended=suspensions,
)


def park(current: Capacity, parked: Parked | None, now: datetime = NIGHT) -> SetCapacity | Skip:
    return decide_park(
        scheduling_strategy="REPLICA",
        tags={},
        parked=parked,
        current=current,
        now=now,
        skip_dates=frozenset(),
    )


def stored(state: ServiceState) -> ServiceState:
    """The state as the next invocation reads it back from the STATE item."""
    return load_state(dump_state(state), state.version + 1)


@dataclass(frozen=True)
class World:
    """What ECS and Application Auto Scaling hold for one service."""

    desired: int
    target: tuple[int, int, Mapping[str, bool] | None] | None  # min, max, suspended

    @property
    def capacity(self) -> Capacity:
        """What the executor reads as the current capacity."""
        if self.target is None:
            return Capacity(self.desired)
        minimum, maximum, suspended = self.target
        return Capacity(self.desired, minimum, maximum, suspended)

    def set(self, capacity: Capacity) -> World:
        """What the executor does with a SetCapacity: limits (when it has them), then the count."""
        target = self.target
        if capacity.min is not None and capacity.max is not None:
            target = (capacity.min, capacity.max, capacity.suspended)
        return World(capacity.desired, target)


worlds = st.builds(
    World,
    desired=counts,
    target=st.none() | st.tuples(counts, counts, suspensions),
)


@PROPERTY
@given(capacities)
def test_park_then_unpark_gives_back_exactly_the_saved_capacity(current: Capacity) -> None:
    # Given a service at any capacity, not parked
    # When it is parked, the state saved and read back, and then unparked
    parked = park(current, parked=None)
    assert isinstance(parked, SetCapacity)
    state = stored(ServiceState(SERVICE, parked=Parked(current, NIGHT)))
    unparked = decide_unpark(state.parked)

    # Then parking set no tasks (and limits of 0 that cannot scale, if it has limits),
    # and unparking sets exactly the capacity from before, 0s and missing limits included
    assert parked.capacity.desired == 0
    if current.has_scaling:
        assert parked.capacity == Capacity(0, 0, 0, SUSPEND_ALL)
    else:
        assert parked.capacity == Capacity(0)
    assert isinstance(unparked, SetCapacity)
    assert unparked.capacity == current
    assert state.parked == Parked(current, NIGHT)


@PROPERTY
@given(capacities, capacities, st.integers(1, 48))
def test_a_second_park_keeps_the_first_snapshot(
    first: Capacity, meanwhile: Capacity, hours_later: int
) -> None:
    # Given a service parked at some capacity (the saved state read back)
    state = stored(ServiceState(SERVICE, parked=Parked(first, NIGHT)))

    # When park runs again later, whatever the capacity is by then
    again = park(meanwhile, state.parked, NIGHT + timedelta(hours=hours_later))

    # Then it is skipped, so the first snapshot stays, and unpark restores that one
    assert isinstance(again, Skip)
    assert again.code == "already-parked"
    assert decide_unpark(state.parked) == SetCapacity(first, "unparked: capacity restored")


@PROPERTY
@given(worlds, st.lists(st.sampled_from(["park", "unpark", "drift"]), max_size=12), worlds)
def test_any_run_of_parks_and_unparks_comes_back_to_the_capacity_before_the_first_park(
    world: World, steps: list[str], drifted: World
) -> None:
    # Given a service, and a night of schedules: parks, unparks, and outside changes in between
    state = ServiceState(SERVICE)
    before_park: World | None = None
    for step in steps:
        state = stored(state)
        if step == "drift" and state.parked is None:
            world = drifted  # autoscaling or a person changed it while it ran
        elif step == "park":
            decision = park(world.capacity, state.parked)
            if isinstance(decision, SetCapacity):
                before_park = world
                state = replace(state, parked=Parked(world.capacity, NIGHT))
                world = world.set(decision.capacity)
        elif step == "unpark":
            decision = decide_unpark(state.parked)
            if isinstance(decision, SetCapacity):
                world = world.set(decision.capacity)
                state = replace(state, parked=None)
                # Then each unpark brings back what ECS and Auto Scaling held before the park
                assert world == before_park

    # And while parked, the service runs no tasks and cannot scale up
    if stored(state).parked is not None:
        assert world.desired == 0
        assert world.target is None or world.target == (0, 0, SUSPEND_ALL)

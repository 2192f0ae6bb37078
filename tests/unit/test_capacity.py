"""Parking, unparking and peak capacity: 0 is a value, the saved capacity comes back exactly, and
what parking saved is priced by the formula."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from autopilot.domain.capacity import (
    OVERRIDE,
    SCHEDULE,
    Capacity,
    FargatePrices,
    Parked,
    SetCapacity,
    TaskSize,
    decide_park,
    decide_unpark,
    groups_of,
    parked_capacity,
    peak_capacity,
    savings,
)
from autopilot.domain.decisions import Skip

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 20, 22, 0, tzinfo=BERLIN)
NO_SKIP_DATES: frozenset[date] = frozenset()
NO_TAGS: Mapping[str, str] = {}
ALL_SUSPENDED = {
    "DynamicScalingInSuspended": True,
    "DynamicScalingOutSuspended": True,
    "ScheduledScalingSuspended": True,
}
NONE_SUSPENDED = dict.fromkeys(ALL_SUSPENDED, False)
PARTLY_SUSPENDED = {**NONE_SUSPENDED, "ScheduledScalingSuspended": True}
HALF_VCPU_1GB = TaskSize(vcpu=0.5, memory_gb=1.0)


def scalable(desired: int = 2, minimum: int = 1, maximum: int = 4) -> Capacity:
    """A service with a scalable target whose scaling is not suspended."""
    return Capacity(desired=desired, min=minimum, max=maximum, suspended=dict(NONE_SUSPENDED))


def parked(capacity: Capacity | None = None, *, at: datetime = NOW) -> Parked:
    return Parked(capacity=capacity or scalable(), parked_at=at)


def keep_up_until(value: str) -> dict[str, str]:
    return {OVERRIDE: f"keep-up-until={value}"}


def park(
    *,
    strategy: str = "REPLICA",
    tags: Mapping[str, str] = NO_TAGS,
    saved: Parked | None = None,
    current: Capacity | None = None,
    now: datetime = NOW,
    skip_dates: frozenset[date] = NO_SKIP_DATES,
) -> SetCapacity | Skip:
    return decide_park(
        scheduling_strategy=strategy,
        tags=tags,
        parked=saved,
        current=current or scalable(),
        now=now,
        skip_dates=skip_dates,
    )


def skip_code(decision: SetCapacity | Skip) -> str:
    assert isinstance(decision, Skip), f"expected a Skip, got {decision}"
    return decision.code


def set_to(decision: SetCapacity | Skip) -> Capacity:
    assert isinstance(decision, SetCapacity), f"expected SetCapacity, got {decision}"
    return decision.capacity


# -- capacity 0 is a value ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("minimum", "maximum", "has_scaling"),
    [
        pytest.param(0, 0, True, id="min 0 and max 0: a parked target is still a target"),
        pytest.param(0, 5, True, id="min 0"),
        pytest.param(2, 5, True, id="min and max"),
        pytest.param(None, 5, False, id="no min"),
        pytest.param(0, None, False, id="no max"),
        pytest.param(None, None, False, id="no scalable target"),
    ],
)
def test_has_scaling_is_false_only_when_min_or_max_is_none(
    minimum: int | None, maximum: int | None, has_scaling: bool
) -> None:
    # Given a capacity with these scaling limits (and no tasks running)
    capacity = Capacity(desired=0, min=minimum, max=maximum)

    # When / Then
    assert capacity.has_scaling is has_scaling


def test_a_parked_service_with_zero_limits_still_has_its_scalable_target() -> None:
    # Given a service already at desired 0, min 0, max 0 (parked by hand, say)
    current = Capacity(desired=0, min=0, max=0, suspended=dict(NONE_SUSPENDED))

    # When it is parked
    target = parked_capacity(current)

    # Then its target is still set to 0/0 with scaling suspended, not treated as "no target"
    assert target == Capacity(desired=0, min=0, max=0, suspended=ALL_SUSPENDED)
    assert target.has_scaling


# -- park --------------------------------------------------------------------------------------


def test_parking_sets_zero_tasks_zero_limits_and_suspends_all_scaling() -> None:
    # Given a running service with a scalable target
    current = scalable(desired=3, minimum=2, maximum=10)

    # When it is parked
    decision = park(current=current)

    # Then it runs no task, and its target can neither scale out nor be scheduled back up
    assert set_to(decision) == Capacity(desired=0, min=0, max=0, suspended=ALL_SUSPENDED)


def test_parking_a_service_without_a_scalable_target_sets_only_desired_zero() -> None:
    # Given a service without a scalable target
    current = Capacity(desired=3)

    # When it is parked
    decision = park(current=current)

    # Then only its desired count changes: no limits or suspension to set
    assert set_to(decision) == Capacity(desired=0)
    assert not set_to(decision).has_scaling


def test_a_daemon_service_is_never_parked() -> None:
    # Given a DAEMON service (one task per instance: no desired count to set)
    # When the schedule parks its group
    decision = park(strategy="DAEMON")

    # Then it is skipped
    assert skip_code(decision) == "daemon"


def test_parking_an_already_parked_service_keeps_the_saved_capacity() -> None:
    # Given a service parked earlier, whose saved capacity is what it ran with before
    saved = parked(scalable(desired=3, minimum=2, maximum=10))

    # When the park schedule fires again (its current capacity is the parked 0/0/0)
    decision = park(saved=saved, current=parked_capacity(saved.capacity))

    # Then nothing is set, so the parked 0 never replaces the capacity to restore
    assert skip_code(decision) == "already-parked"


def test_an_override_keeps_the_service_up_until_it_expires() -> None:
    # Given an override that keeps the service up until 06:00 tomorrow (Berlin)
    tags = keep_up_until("2026-11-21T06:00:00+01:00")

    # When the schedule parks it at 22:00 tonight
    decision = park(tags=tags, now=NOW)

    # Then it stays up
    assert skip_code(decision) == "override"


@pytest.mark.parametrize(
    ("now", "parks"),
    [
        pytest.param(datetime(2026, 11, 20, 21, 59, 59, tzinfo=UTC), False, id="a second before"),
        pytest.param(datetime(2026, 11, 20, 22, 0, tzinfo=UTC), True, id="exactly at until"),
        pytest.param(datetime(2026, 11, 20, 23, 0, tzinfo=BERLIN), True, id="same instant, Berlin"),
        pytest.param(datetime(2026, 11, 21, 22, 0, tzinfo=BERLIN), True, id="a day after"),
    ],
)
def test_an_override_is_ignored_from_the_moment_it_expires(now: datetime, parks: bool) -> None:
    # Given an override until 22:00 UTC (23:00 in Berlin)
    tags = keep_up_until("2026-11-20T22:00:00+00:00")

    # When the schedule parks the service at `now`
    decision = park(tags=tags, now=now)

    # Then it parks from `until` on, and is kept up before it
    if parks:
        assert set_to(decision).desired == 0
    else:
        assert skip_code(decision) == "override"


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("keep-up-until=2026-11-21T06:00:00", id="no offset"),
        pytest.param("keep-up-until=tomorrow", id="not a time"),
        pytest.param("keep-up-until=", id="no time"),
        pytest.param("keep-up-until 2026-11-21T06:00:00+01:00", id="no ="),
        pytest.param("keep-up-until=2026-11-21T06:00:00+01:00 please", id="trailing words"),
        pytest.param("keep-up-for=2026-11-21T06:00:00+01:00", id="another key"),
    ],
)
def test_an_unreadable_override_is_ignored(value: str) -> None:
    # Given an override tag that does not say when, with an offset, to stop
    tags = {OVERRIDE: value}

    # When the schedule parks the service
    decision = park(tags=tags)

    # Then it parks as if there were no override
    assert set_to(decision).desired == 0


def test_an_override_in_utc_z_notation_is_read() -> None:
    # Given an override written with Z for UTC
    tags = keep_up_until("2026-11-21T05:00:00Z")

    # When the schedule parks the service before then
    decision = park(tags=tags, now=NOW)

    # Then it stays up
    assert skip_code(decision) == "override"


@pytest.mark.parametrize(
    ("now", "skip_date", "skipped"),
    [
        pytest.param(
            datetime(2026, 12, 24, 23, 30, tzinfo=BERLIN),
            date(2026, 12, 24),
            True,
            id="23:30 Berlin is the 24th (22:30 UTC)",
        ),
        pytest.param(
            datetime(2026, 12, 25, 0, 30, tzinfo=BERLIN),
            date(2026, 12, 25),
            True,
            id="00:30 Berlin is the 25th though UTC is still the 24th",
        ),
        pytest.param(
            datetime(2026, 12, 25, 0, 30, tzinfo=BERLIN),
            date(2026, 12, 24),
            False,
            id="00:30 Berlin is no longer the 24th though UTC is",
        ),
        pytest.param(
            datetime(2026, 12, 24, 23, 30, tzinfo=BERLIN),
            date(2026, 12, 25),
            False,
            id="23:30 Berlin is not yet the 25th",
        ),
    ],
)
def test_a_skip_date_is_the_calendar_day_in_the_schedules_zone(
    now: datetime, skip_date: date, skipped: bool
) -> None:
    # Given a skip date, and `now` in the schedule's zone (Berlin) near midnight
    skip_dates = frozenset({skip_date})

    # When the schedule parks the service
    decision = park(now=now, skip_dates=skip_dates)

    # Then the service is left up exactly on the local calendar day
    if skipped:
        assert skip_code(decision) == "skip-date"
    else:
        assert set_to(decision).desired == 0


def test_a_service_is_parked_on_days_that_are_not_skip_dates() -> None:
    # Given skip dates for Christmas
    skip_dates = frozenset({date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 26)})

    # When the schedule parks the service on an ordinary evening
    decision = park(now=NOW, skip_dates=skip_dates)

    # Then it is parked
    assert set_to(decision).desired == 0


# -- unpark ------------------------------------------------------------------------------------


def test_unparking_a_service_that_is_not_parked_does_nothing() -> None:
    # Given a service with no saved capacity
    # When the schedule unparks it
    decision = decide_unpark(None)

    # Then there is nothing to restore
    assert skip_code(decision) == "not-parked"


@pytest.mark.parametrize(
    "saved",
    [
        pytest.param(scalable(desired=3, minimum=2, maximum=10), id="scalable target"),
        pytest.param(Capacity(desired=3), id="no scalable target"),
        pytest.param(Capacity(desired=0), id="desired 0 saved"),
        pytest.param(
            Capacity(desired=0, min=0, max=5, suspended=dict(NONE_SUSPENDED)),
            id="desired 0 and min 0 saved",
        ),
        pytest.param(
            Capacity(desired=2, min=1, max=4, suspended=dict(PARTLY_SUSPENDED)),
            id="scheduled scaling already suspended before parking",
        ),
    ],
)
def test_unparking_restores_exactly_the_saved_capacity(saved: Capacity) -> None:
    # Given a service parked with `saved` as its capacity from before
    state = parked(saved)

    # When the schedule unparks it
    restored = set_to(decide_unpark(state))

    # Then every saved value comes back, 0s and partial suspension included
    assert restored == saved
    assert (restored.desired, restored.min, restored.max) == (saved.desired, saved.min, saved.max)
    assert restored.suspended == saved.suspended


def test_park_then_unpark_brings_back_what_ran_before() -> None:
    # Given a service running 3 tasks, min 0, max 6, with scheduled scaling suspended
    before = Capacity(desired=3, min=0, max=6, suspended=dict(PARTLY_SUSPENDED))

    # When it is parked (its capacity saved) and later unparked
    parked_to = set_to(park(current=before))
    restored = set_to(decide_unpark(Parked(capacity=before, parked_at=NOW)))

    # Then parking changed everything, and unparking put every value back
    assert parked_to != before
    assert restored == before


# -- peak capacity -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("running", "desired", "expected"),
    [
        pytest.param(2, None, 6, id="fewer than min: min"),
        pytest.param(10, None, 10, id="between min and max: unchanged"),
        pytest.param(40, None, 30, id="more than max: max"),
        pytest.param(20, 8, 8, id="desired given: it wins, even below what runs"),
        pytest.param(20, 2, 6, id="desired below min: min"),
        pytest.param(2, 50, 30, id="desired above max: max"),
    ],
)
def test_peak_desired_count_is_clamped_into_min_and_max(
    running: int, desired: int | None, expected: int
) -> None:
    # Given a service running `running` tasks with a scalable target
    current = scalable(desired=running, minimum=1, maximum=4)

    # When it is scaled for a peak of min 6, max 30
    target = peak_capacity(current, 6, 30, desired)

    # Then it runs `expected` tasks within the peak's limits
    assert target.desired == expected
    assert (target.min, target.max) == (6, 30)


def test_a_desired_count_of_zero_is_a_value_not_missing() -> None:
    # Given a service running 5 tasks
    current = scalable(desired=5, minimum=0, maximum=10)

    # When it is scaled with min 0 and an explicit desired 0
    target = peak_capacity(current, 0, 30, 0)

    # Then 0 is what it gets, not what it ran before
    assert target.desired == 0


def test_peak_capacity_keeps_the_current_suspension() -> None:
    # Given a service whose scheduled scaling is suspended
    current = Capacity(desired=2, min=1, max=4, suspended=dict(PARTLY_SUSPENDED))

    # When it is scaled for a peak
    target = peak_capacity(current, 6, 30, None)

    # Then the suspension is left as it was
    assert target.suspended == PARTLY_SUSPENDED


def test_peak_capacity_without_a_scalable_target_sets_only_desired() -> None:
    # Given a service without a scalable target
    current = Capacity(desired=2)

    # When it is scaled for a peak of min 6, max 30
    target = peak_capacity(current, 6, 30, None)

    # Then only its desired count is set: there are no limits to change
    assert target == Capacity(desired=6)


# -- savings -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "per_task_hour"),
    [
        # 0.5 * 0.04048 + 1 * 0.004445
        pytest.param(HALF_VCPU_1GB, 0.024685, id="x86"),
        # 0.5 * 0.03238 + 1 * 0.00356
        pytest.param(TaskSize(vcpu=0.5, memory_gb=1.0, arm=True), 0.01975, id="arm"),
        # 0.024685 * (1 - 0.70)
        pytest.param(TaskSize(vcpu=0.5, memory_gb=1.0, spot=True), 0.0074055, id="x86 spot"),
        # 0.01975 * (1 - 0.70)
        pytest.param(
            TaskSize(vcpu=0.5, memory_gb=1.0, arm=True, spot=True), 0.005925, id="arm spot"
        ),
        # 2 * 0.03238 + 4 * 0.00356
        pytest.param(TaskSize(vcpu=2.0, memory_gb=4.0, arm=True), 0.07900, id="arm 2 vCPU 4 GB"),
    ],
)
def test_a_task_hour_costs_vcpu_plus_memory_at_the_architecture_and_spot_price(
    size: TaskSize, per_task_hour: float
) -> None:
    # Given the default (us-east-1) Fargate prices
    prices = FargatePrices()

    # When a task of `size` runs for an hour
    cost = prices.per_task_hour(size)

    # Then it costs its vCPUs and GBs at its architecture's price, less the Spot discount
    assert cost == pytest.approx(per_task_hour, rel=1e-12)


@pytest.mark.parametrize(
    ("size", "usd"),
    [
        # 10 h * 2 tasks * 0.024685 = 0.4937
        pytest.param(HALF_VCPU_1GB, 0.49, id="x86"),
        # 10 h * 2 tasks * 0.0790 = 1.58
        pytest.param(TaskSize(vcpu=2.0, memory_gb=4.0, arm=True), 1.58, id="arm"),
        # 10 h * 2 tasks * 0.0074055 = 0.14811
        pytest.param(TaskSize(vcpu=0.5, memory_gb=1.0, spot=True), 0.15, id="x86 spot"),
        # 10 h * 2 tasks * 0.0237 = 0.474
        pytest.param(TaskSize(vcpu=2.0, memory_gb=4.0, arm=True, spot=True), 0.47, id="arm spot"),
    ],
)
def test_savings_are_hours_parked_times_saved_tasks_times_the_task_hour_price(
    size: TaskSize, usd: float
) -> None:
    # Given a service parked with 2 tasks 10 hours ago
    state = parked(scalable(desired=2), at=NOW - timedelta(hours=10))

    # When it is unparked now
    saved = savings(state, NOW, size, FargatePrices())

    # Then it saved 10 h x 2 tasks at the task's hourly price, in cents
    assert saved.hours == 10.0
    assert saved.task_hours == 20.0
    assert saved.usd == usd


def test_savings_count_the_time_parked_in_fractions_of_an_hour() -> None:
    # Given a service parked with 3 tasks 90 minutes ago
    state = parked(scalable(desired=3), at=NOW - timedelta(minutes=90))

    # When it is unparked now
    saved = savings(state, NOW, HALF_VCPU_1GB, FargatePrices())

    # Then 1.5 hours and 4.5 task-hours were saved: 4.5 * 0.024685 = 0.1110825
    assert (saved.hours, saved.task_hours, saved.usd) == (1.5, 4.5, 0.11)


def test_savings_count_elapsed_hours_whatever_zone_each_time_is_written_in() -> None:
    # Given a service parked at 22:00 Berlin on the night the clocks go back (written in UTC)
    parked_at = datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN).astimezone(UTC)
    state = parked(scalable(desired=2), at=parked_at)

    # When it is unparked at 07:00 Berlin the next morning (written in Berlin time)
    saved = savings(
        state, datetime(2026, 10, 25, 7, 0, tzinfo=BERLIN), HALF_VCPU_1GB, FargatePrices()
    )

    # Then 10 real hours passed (the wall clock shows 9)
    assert (saved.hours, saved.task_hours) == (10.0, 20.0)


def test_savings_count_elapsed_hours_across_a_dst_change_in_the_same_zone() -> None:
    # Given a service parked at 22:00 Berlin on the night the clocks go back (03:00 -> 02:00)
    state = parked(scalable(desired=2), at=datetime(2026, 10, 24, 22, 0, tzinfo=BERLIN))

    # When it is unparked at 07:00 Berlin the next morning
    saved = savings(
        state, datetime(2026, 10, 25, 7, 0, tzinfo=BERLIN), HALF_VCPU_1GB, FargatePrices()
    )

    # Then 10 real hours passed, and 20 task-hours were saved
    assert (saved.hours, saved.task_hours) == (10.0, 20.0)


def test_savings_use_the_installations_prices() -> None:
    # Given prices set for another region (1 USD per vCPU-hour, nothing for memory)
    prices = FargatePrices(vcpu_x86=1.0, gb_x86=0.0)
    state = parked(scalable(desired=2), at=NOW - timedelta(hours=10))

    # When the service is unparked
    saved = savings(state, NOW, HALF_VCPU_1GB, prices)

    # Then those prices are used: 20 task-hours * 0.5 USD
    assert saved.usd == 10.0


def test_a_service_parked_with_zero_tasks_saved_nothing() -> None:
    # Given a service that ran no task when it was parked
    state = parked(Capacity(desired=0, min=0, max=4), at=NOW - timedelta(hours=10))

    # When it is unparked
    saved = savings(state, NOW, HALF_VCPU_1GB, FargatePrices())

    # Then the hours count, but no task-hour and no dollar was saved
    assert saved.hours == 10.0
    assert (saved.task_hours, saved.usd) == (0.0, 0.0)


def test_savings_never_go_negative_when_the_clock_is_behind_parked_at() -> None:
    # Given a parked_at an hour in the future (clock skew between invocations)
    state = parked(scalable(desired=2), at=NOW + timedelta(hours=1))

    # When it is unparked now
    saved = savings(state, NOW, HALF_VCPU_1GB, FargatePrices())

    # Then nothing was saved, rather than a negative amount
    assert (saved.hours, saved.task_hours, saved.usd) == (0.0, 0.0, 0.0)


# -- groups ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tags", "groups"),
    [
        pytest.param({SCHEDULE: "nightly"}, {"nightly"}, id="one group"),
        pytest.param({SCHEDULE: "nightly,weekend"}, {"nightly", "weekend"}, id="commas"),
        pytest.param({SCHEDULE: "nightly weekend"}, {"nightly", "weekend"}, id="spaces"),
        pytest.param(
            {SCHEDULE: " nightly ,  weekend\tcheckout "},
            {"nightly", "weekend", "checkout"},
            id="commas and whitespace mixed",
        ),
        pytest.param({SCHEDULE: "nightly,,nightly"}, {"nightly"}, id="empty and repeated"),
        pytest.param({SCHEDULE: ""}, set(), id="empty tag"),
        pytest.param({SCHEDULE: " , "}, set(), id="only separators"),
        pytest.param({"autopilot:track": "tag:main"}, set(), id="no schedule tag"),
    ],
)
def test_schedule_groups_are_split_on_commas_or_whitespace(
    tags: Mapping[str, str], groups: set[str]
) -> None:
    # Given a service tagged with `tags`
    # When its schedule groups are read
    found = groups_of(tags)

    # Then each named group is found once, and no empty name
    assert found == groups

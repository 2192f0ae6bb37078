"""Holds: reasons to keep an accepted push away from a service, in a fixed order."""

from __future__ import annotations

import pytest

from autopilot.domain.deploy import deploy_hold
from autopilot.domain.state import ServiceState

SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
FIRING = ("prod-web-cpu-high", "prod-web-5xx")


def state(*, paused: bool = False, frozen: bool = False) -> ServiceState:
    return ServiceState(
        service_arn=SERVICE_ARN, paused=paused, frozen=frozen, frozen_reason="3 rollbacks"
    )


@pytest.mark.parametrize(
    ("quarantined", "paused", "frozen", "alarms", "code"),
    [
        (True, True, True, FIRING, "quarantined"),
        (True, False, False, (), "quarantined"),
        (False, True, True, FIRING, "paused"),
        (False, True, False, (), "paused"),
        (False, False, True, FIRING, "frozen"),
        (False, False, True, (), "frozen"),
        (False, False, False, FIRING, "alarm-firing"),
    ],
)
def test_the_first_hold_in_precedence_order_is_given(
    quarantined: bool, paused: bool, frozen: bool, alarms: tuple[str, ...], code: str
) -> None:
    # Given a push and a service with these reasons to hold it
    # When the holds are checked
    hold = deploy_hold(state(paused=paused, frozen=frozen), quarantined, alarms)

    # Then the most important one is given: quarantined, paused, frozen, alarm-firing
    assert hold is not None
    assert hold.code == code


def test_nothing_holds_a_push_to_a_healthy_service() -> None:
    # Given a clean digest, a running service, and no alarm in ALARM
    # When the holds are checked
    # Then there is none
    assert deploy_hold(state(), quarantined_digest=False, alarms_firing=()) is None


def test_an_alarm_hold_names_the_alarms_in_alarm() -> None:
    # Given two alarms in ALARM
    # When the holds are checked
    hold = deploy_hold(state(), quarantined_digest=False, alarms_firing=FIRING)

    # Then both are named
    assert hold is not None
    assert "prod-web-cpu-high" in hold.reason
    assert "prod-web-5xx" in hold.reason


@pytest.mark.parametrize(
    ("quarantined", "paused", "frozen", "how"),
    [
        (True, False, False, "autopilot release"),
        (False, True, False, "autopilot resume"),
        (False, False, True, "autopilot resume"),
    ],
)
def test_a_hold_an_operator_can_lift_says_how(
    quarantined: bool, paused: bool, frozen: bool, how: str
) -> None:
    # Given a push held by something an operator lifts
    # When the holds are checked
    hold = deploy_hold(state(paused=paused, frozen=frozen), quarantined, ())

    # Then the reason says which command lifts it
    assert hold is not None
    assert how in hold.reason

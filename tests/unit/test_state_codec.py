"""ServiceState to JSON and back: exactly what went in comes out; the version travels apart."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest

from autopilot.adapters.state_codec import dump_state, load_state
from autopilot.domain.state import Deployment, DeploymentState, KnownGood, ServiceState

REGISTRY = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
NOW = datetime(2026, 11, 20, 10, 30, 15, 123456, tzinfo=UTC)


def revision(number: int) -> str:
    return f"arn:aws:ecs:us-east-1:123456789012:task-definition/web:{number}"


def images(number: int) -> tuple[str, ...]:
    return (
        f"{REGISTRY}/log-router@sha256:{'f' * 64}",
        f"{REGISTRY}/web@sha256:{str(number) * 64}",
    )


def deployment(finished_at: datetime | None, state: DeploymentState) -> Deployment:
    return Deployment(
        action_id="d18b6402bc0804c9fd5784fbbd07f262",
        kind="deploy",
        deployment_id="ecs-svc/1234567890123456789",
        task_definition=revision(7),
        images=images(7),
        started_at=NOW - timedelta(minutes=12),
        state=state,
        finished_at=finished_at,
    )


def full_state(latest: Deployment | None) -> ServiceState:
    return ServiceState(
        service_arn=SERVICE_ARN,
        known_good=(
            KnownGood(revision(7), images(7), NOW, "deployment-completed"),
            KnownGood(revision(6), images(6), NOW - timedelta(days=2), "baseline"),
            KnownGood(
                revision(3),
                (),
                datetime(2026, 1, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))),
                "operator",
            ),
        ),
        latest=latest,
        rollbacks=(NOW - timedelta(minutes=50), NOW - timedelta(minutes=5)),
        paused=True,
        frozen=True,
        frozen_reason="3 rollbacks within an hour",
        version=41,
    )


@pytest.mark.parametrize(
    "state",
    [
        pytest.param(
            full_state(deployment(NOW - timedelta(minutes=2), DeploymentState.COMPLETED)),
            id="completed deployment",
        ),
        pytest.param(full_state(deployment(None, DeploymentState.IN_PROGRESS)), id="in progress"),
        pytest.param(full_state(deployment(NOW, DeploymentState.FAILED)), id="failed"),
        pytest.param(full_state(None), id="no deployment"),
        pytest.param(ServiceState(service_arn=SERVICE_ARN), id="fresh state"),
    ],
)
def test_a_state_survives_a_round_trip_exactly(state: ServiceState) -> None:
    # Given a state with every field set (datetimes, tuples, nested deployment)
    # When it is written and read back with its version
    loaded = load_state(dump_state(state), state.version)

    # Then it is the same state, field for field and type for type
    assert loaded == state
    assert isinstance(loaded.known_good, tuple)
    assert isinstance(loaded.rollbacks, tuple)
    if loaded.latest is not None:
        assert isinstance(loaded.latest.images, tuple)
        assert isinstance(loaded.latest.state, DeploymentState)


def test_datetimes_keep_their_time_zone() -> None:
    # Given a state whose datetimes carry time zones (one not UTC)
    state = full_state(deployment(NOW, DeploymentState.COMPLETED))

    # When it is written and read back
    loaded = load_state(dump_state(state), state.version)

    # Then each datetime is aware, with the same offset as before
    assert loaded.latest is not None
    assert loaded.latest.finished_at is not None
    assert loaded.latest.finished_at.utcoffset() == timedelta(0)
    assert loaded.known_good[2].recorded_at.utcoffset() == timedelta(hours=2)
    assert loaded.rollbacks[0].tzinfo is not None


def test_the_version_is_not_written_into_the_body() -> None:
    # Given a state at version 41
    state = full_state(None)

    # When it is written
    body = json.loads(dump_state(state))

    # Then the version is not in the JSON: it lives beside it, for the optimistic lock
    assert "version" not in body


def test_the_loaded_version_is_the_one_passed_in() -> None:
    # Given a state written at version 41
    text = dump_state(full_state(None))

    # When it is read at version 42 (the item's current version)
    loaded = load_state(text, 42)

    # Then the state carries 42
    assert loaded.version == 42


def test_the_same_state_is_always_written_the_same_way() -> None:
    # Given one state
    state = full_state(deployment(NOW, DeploymentState.COMPLETED))

    # When it is written twice
    # Then the text is identical (sorted keys): an unchanged state does not look changed
    assert dump_state(state) == dump_state(state)
    assert dump_state(state) == json.dumps(json.loads(dump_state(state)), sort_keys=True)

"""What a rollback does with ECS's own blue/green, linear or canary deployment in flight: stop
it when it deploys the bad revision from the good one, leave one already rolling back alone,
and otherwise roll back as any ECS service (UpdateService)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autopilot.domain.fleet import Container, Service
from autopilot.domain.service_deployments import (
    AlreadyRollingBack,
    ServiceDeployment,
    StopWithRollback,
    native_rollback,
)
from autopilot.records import replace

PREFIX = "arn:aws:ecs:us-east-1:123456789012"
NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


def revision(number: int) -> str:
    return f"{PREFIX}:task-definition/web:{number}"


def service(strategy: str = "BLUE_GREEN", *, runs: int = 8, controller: str = "ECS") -> Service:
    """prod/web, opted in, set to revision `runs` (during a deployment: the one being
    deployed)."""
    return Service(
        arn=f"{PREFIX}:service/prod/web",
        cluster_arn=f"{PREFIX}:cluster/prod",
        name="web",
        status="ACTIVE",
        task_definition_arn=revision(runs),
        containers=(Container("web", "web:8"),),
        deployment_controller=controller,
        strategy=strategy,
        tags={"autopilot:track": "tag:main"},
    )


def deployment(
    status: str = "IN_PROGRESS", *, source: int = 7, target: int = 8, minutes_ago: int = 5
) -> ServiceDeployment:
    return ServiceDeployment(
        arn=f"{PREFIX}:service-deployment/prod/web/sd-{target}-{minutes_ago}",
        status=status,
        target=revision(target),
        sources=(revision(source),),
        created_at=NOW - timedelta(minutes=minutes_ago),
    )


@pytest.mark.parametrize("strategy", ["BLUE_GREEN", "LINEAR", "CANARY"])
@pytest.mark.parametrize("status", ["PENDING", "IN_PROGRESS"])
def test_the_deployment_of_the_bad_revision_is_stopped_back_to_the_good_one(
    strategy: str, status: str
) -> None:
    # Given web:8 being deployed from web:7 with ECS's own strategy, and a rollback to web:7
    found = deployment(status)

    # When the rollback looks at the deployments in flight
    decision = native_rollback(service(strategy), revision(7), [found])

    # Then that deployment is stopped with rollback, back to web:7
    assert decision == StopWithRollback(found, revision(7))


@pytest.mark.parametrize("status", ["ROLLBACK_REQUESTED", "ROLLBACK_IN_PROGRESS", "STOP_REQUESTED"])
def test_a_deployment_already_rolling_back_is_left_to_finish(status: str) -> None:
    # Given ECS already taking web:8's deployment back to web:7 (a retry, ECS's own alarm
    # rollback, or a person)
    found = deployment(status)

    # When the rollback looks at it
    decision = native_rollback(service(), revision(7), [found])

    # Then nothing is sent: it is recorded as already rolling back, to where ECS goes
    assert decision == AlreadyRollingBack(found, revision(7))


def test_a_deployment_already_rolling_back_elsewhere_is_still_left_to_finish() -> None:
    # Given ECS rolling web:8's deployment back to web:6, while the rollback chose web:7
    found = deployment("ROLLBACK_IN_PROGRESS", source=6)

    # When the rollback looks at it
    decision = native_rollback(service(), revision(7), [found])

    # Then it is not extended by a new deployment: the service ends on web:6
    assert decision == AlreadyRollingBack(found, revision(6))


@pytest.mark.parametrize(
    ("svc", "deployments"),
    [
        pytest.param(service("ROLLING"), [deployment()], id="rolling-strategy"),
        pytest.param(
            service("BLUE_GREEN", controller="CODE_DEPLOY"), [deployment()], id="codedeploy"
        ),
        pytest.param(service(), [], id="deployment-completed"),
        pytest.param(service(), [deployment(target=9)], id="another-revision-deployed"),
        pytest.param(service(), [deployment(source=6)], id="from-another-revision"),
        pytest.param(service(), [deployment("SUCCESSFUL")], id="listed-but-completed"),
        pytest.param(replace(service(), tags={}), [deployment()], id="not-opted-in"),
    ],
)
def test_otherwise_it_rolls_back_as_any_ecs_service(
    svc: Service, deployments: list[ServiceDeployment]
) -> None:
    # Given no deployment of the bad revision that a stop would take back to web:7
    # When the rollback to web:7 looks at what is in flight
    decision = native_rollback(svc, revision(7), deployments)

    # Then it goes the UpdateService way
    assert decision is None


def test_of_several_deployments_of_the_bad_revision_the_newest_is_the_one() -> None:
    # Given an older deployment of web:8 ECS is rolling back, and a newer one in progress
    older = deployment("ROLLBACK_IN_PROGRESS", minutes_ago=30)
    newer = deployment("IN_PROGRESS", minutes_ago=2)

    # When the rollback looks at them (in any order)
    decision = native_rollback(service(), revision(7), [older, newer])

    # Then the newer one is stopped
    assert decision == StopWithRollback(newer, revision(7))


def test_how_a_service_deploys_is_named_by_its_strategy_or_its_controller() -> None:
    assert [service(s).rollout for s in ("ROLLING", "BLUE_GREEN", "LINEAR", "CANARY")] == [
        "ROLLING",
        "BLUE_GREEN",
        "LINEAR",
        "CANARY",
    ]
    assert service(controller="CODE_DEPLOY").rollout == "CODE_DEPLOY"
    assert [service(s).shifts_traffic for s in ("ROLLING", "BLUE_GREEN")] == [False, True]
    assert not replace(service(), deployment_controller="EXTERNAL").shifts_traffic

"""Reconciling the automation's latest deployment with what ECS and CodeDeploy show, and the
bake window that follows from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from autopilot.domain import reconcile
from autopilot.domain.fleet import Container, EcsDeployment, Service
from autopilot.domain.state import (
    IN_PROGRESS_CAP,
    Deployment,
    DeploymentState,
    KnownGood,
    ServiceState,
)

ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
OLD = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:4"
NEW = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:5"
NEW_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/web@sha256:" + "b" * 64
STARTED = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def service(
    *deployments: EcsDeployment,
    task_definition: str = NEW,
    desired: int = 2,
    controller: str = "ECS",
) -> Service:
    return Service(
        arn=ARN,
        cluster_arn="arn:aws:ecs:us-east-1:123456789012:cluster/prod",
        name="web",
        status="ACTIVE",
        task_definition_arn=task_definition,
        containers=(Container("web", NEW_IMAGE),),
        desired_count=desired,
        running_count=desired,
        deployments=deployments,
        deployment_controller=controller,
    )


def in_progress(via: str = "update-service", kind: str = "deploy") -> ServiceState:
    return ServiceState(
        service_arn=ARN,
        known_good=(KnownGood(OLD, (), STARTED - timedelta(days=1), "baseline"),),
        latest=Deployment(
            action_id="a1",
            kind=kind,
            deployment_id="ecs-svc/1",
            task_definition=NEW,
            images=(NEW_IMAGE,),
            started_at=STARTED,
            via=via,
        ),
    )


def ecs_deployment(rollout: str, *, at: datetime | None = None) -> EcsDeployment:
    return EcsDeployment(
        id="ecs-svc/1",
        status="PRIMARY",
        task_definition=NEW,
        rollout_state=rollout,
        running_count=2,
        desired_count=2,
        updated_at=at,
    )


def test_a_deployment_without_end_event_leaves_the_bake_window_after_the_cap() -> None:
    # Given an automated deploy still recorded as in progress (its end event never came)
    state = in_progress()

    # When an alarm comes within the cap, and nine days later
    # Then only the first is inside the bake window
    assert state.in_bake_window(STARTED + IN_PROGRESS_CAP - timedelta(minutes=1), 30)
    assert not state.in_bake_window(STARTED + timedelta(days=9), 30)


def test_ecs_showing_completed_closes_it_at_ecs_time_as_known_good() -> None:
    # Given an in-progress deploy, and ECS showing it COMPLETED at 10:12 (the event was lost)
    completed_at = STARTED + timedelta(minutes=12)
    shown = service(ecs_deployment("COMPLETED", at=completed_at))

    # When the state is reconciled nine days later
    found = reconcile.with_ecs(in_progress(), shown, STARTED + timedelta(days=9))

    # Then the deployment is completed when ECS says, and it is the newest known good
    assert found is not None
    latest = found.state.latest
    assert latest is not None
    assert latest.state is DeploymentState.COMPLETED
    assert latest.finished_at == completed_at
    assert found.state.known_good[0].task_definition == NEW
    # And an alarm nine days later is outside the bake window
    assert not found.state.in_bake_window(STARTED + timedelta(days=9), 30)


def test_ecs_showing_the_deployment_failed_marks_it_failed_without_a_known_good() -> None:
    # Given ECS shows the automation's deployment FAILED
    found = reconcile.with_ecs(in_progress(), service(ecs_deployment("FAILED")), STARTED)

    # Then it is failed, and the known-good list is unchanged
    assert found is not None
    assert found.state.latest is not None
    assert found.state.latest.state is DeploymentState.FAILED
    assert [k.task_definition for k in found.state.known_good] == [OLD]


def test_a_deployment_still_rolling_out_is_left_in_progress() -> None:
    assert (
        reconcile.with_ecs(in_progress(), service(ecs_deployment("IN_PROGRESS")), STARTED) is None
    )


def test_another_revision_deployed_meanwhile_supersedes_the_automations_deployment() -> None:
    # Given someone deployed web:6 by hand after the automation's web:5
    other = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:6"
    shown = service(
        EcsDeployment("ecs-svc/9", "PRIMARY", other, "IN_PROGRESS"), task_definition=other
    )

    # When reconciled
    found = reconcile.with_ecs(in_progress(), shown, STARTED + timedelta(minutes=5))

    # Then the automation's deployment is superseded: no bake window, no known good
    assert found is not None
    assert found.state.latest is not None
    assert found.state.latest.state is DeploymentState.SUPERSEDED
    assert not found.state.in_bake_window(STARTED + timedelta(minutes=6), 30)


def test_completed_while_parked_is_known_good_only_after_serving_the_bake_time() -> None:
    # Given a deploy that completed while the service ran 0 tasks (parked)
    parked = service(ecs_deployment("COMPLETED", at=STARTED), desired=0)
    found = reconcile.with_ecs(in_progress(), parked, STARTED)
    assert found is not None
    state = found.state
    assert [k.task_definition for k in state.known_good] == [OLD]
    assert not state.in_bake_window(STARTED + timedelta(hours=1), 30)

    # When the service is unparked the next morning
    unparked_at = STARTED + timedelta(hours=14)
    state = reconcile.started_serving(state, unparked_at)

    # Then an alarm 10 minutes later is inside the bake window (the revision is unproven)
    assert state.in_bake_window(unparked_at + timedelta(minutes=10), 30)
    running = service(ecs_deployment("COMPLETED", at=STARTED))
    assert reconcile.prove(state, running, unparked_at + timedelta(minutes=10), 30) == state
    # And once it has run for the bake time it becomes the newest known good
    proven = reconcile.prove(state, running, unparked_at + timedelta(minutes=31), 30)
    assert proven.known_good[0].task_definition == NEW
    assert proven.latest is not None
    assert not proven.latest.unproven


def test_proving_starts_the_clock_when_tasks_are_first_seen_running_without_an_unpark() -> None:
    # Given a revision completed while parked, and tasks started some other way (by hand)
    found = reconcile.with_ecs(
        in_progress(), service(ecs_deployment("COMPLETED"), desired=0), STARTED
    )
    assert found is not None
    seen = STARTED + timedelta(hours=3)

    # When a later action sees the service running tasks
    state = reconcile.prove(found.state, service(ecs_deployment("COMPLETED")), seen, 30)

    # Then its bake time starts then
    assert state.latest is not None
    assert state.latest.serving_since == seen


def test_the_end_of_a_blue_green_deployment_we_stopped_is_a_completed_rollback() -> None:
    # Given the automation stopped a CodeDeploy deployment with rollback
    state = in_progress(via="codedeploy-stop", kind="rollback")

    # When CodeDeploy shows it Stopped (or Failed)
    for status in ("Stopped", "Failed"):
        found = reconcile.with_codedeploy(state, status, STARTED + timedelta(minutes=3))

        # Then the rollback is completed, not a failure
        assert found is not None
        assert found.state.latest is not None
        assert found.state.latest.state is DeploymentState.COMPLETED


def test_a_blue_green_deploy_codedeploy_reports_failed_is_failed() -> None:
    found = reconcile.with_codedeploy(in_progress(via="codedeploy"), "Failed", STARTED)
    assert found is not None
    assert found.state.latest is not None
    assert found.state.latest.state is DeploymentState.FAILED

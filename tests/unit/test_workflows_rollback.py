"""The rollback workflow's branches, against in-memory fakes (no moto)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

import pytest

from autopilot.adapters.codedeploy import appspec
from autopilot.domain.fleet import task_definition_label
from autopilot.domain.ledger import Outcome, action_id
from autopilot.domain.state import Deployment, DeploymentState, KnownGood, ServiceState
from autopilot.models.actions import RollbackRequest
from autopilot.records import replace
from autopilot.workflows.rollback_action import rollback
from tests.fakes.world import T0, World, digest, ecr_image, fargate_task_definition


@dataclass
class Fleet:
    world: World
    arn: str
    revisions: list[str]  # web:1, web:2, web:3 (the service runs the last)
    deployment: str  # the deployment of web:3

    def image(self, build: int) -> str:
        return ecr_image("web", digest(f"web#{build}"))

    def good(self, build: int, source: str = "deployment-completed") -> KnownGood:
        return KnownGood(self.revisions[build - 1], (self.image(build),), T0, source)

    def latest(self, state: DeploymentState = DeploymentState.IN_PROGRESS) -> Deployment:
        finished = T0 - timedelta(minutes=5) if state is not DeploymentState.IN_PROGRESS else None
        return Deployment(
            action_id="deploy-3",
            kind="deploy",
            deployment_id=self.deployment,
            task_definition=self.revisions[2],
            images=(self.image(3),),
            started_at=T0 - timedelta(minutes=20),
            state=state,
            finished_at=finished,
        )


def _fleet(tags: Mapping[str, str] | None = None) -> Fleet:
    """prod/web ran builds 1 and 2; the automation is deploying build 3."""
    world = World()
    for build in (1, 2, 3):
        world.push("web", str(build), "main", at=T0 - timedelta(days=4 - build))
    arn = world.add_service(
        "prod",
        "web",
        {"web": ecr_image("web", digest("web#1"))},
        desired=3,
        tags={"autopilot:track": "tag:main", **(tags or {})},
    )
    revisions = [world.ecs.describe_service(arn).task_definition_arn]
    deployment = ""
    for build in (2, 3):
        revisions.append(
            world.ecs.register_task_definition(
                fargate_task_definition("web", {"web": ecr_image("web", digest(f"web#{build}"))}),
                [],
            )
        )
        deployment = world.ecs.update_service(world.ecs.describe_service(arn), revisions[-1])
    return Fleet(world, arn, revisions, deployment)


def _request(
    fleet: Fleet, *, automatic: bool = True, to_revision: str | None = None
) -> RollbackRequest:
    trigger = "alarm-event" if automatic else "operator-request"
    return RollbackRequest(
        action_id=action_id(trigger, fleet.arn, "rollback"),
        service_arn=fleet.arn,
        trigger="alarm" if automatic else "operator",
        trigger_id=trigger,
        trigger_time=T0,
        automatic=automatic,
        alarm="web-5xx" if automatic else "",
        to_revision=to_revision,
    )


def _runs(fleet: Fleet) -> str:
    return task_definition_label(fleet.world.ecs.describe_service(fleet.arn).task_definition_arn)


@pytest.mark.parametrize(
    ("tags", "state", "code"),
    [
        ({"autopilot:rollback": "off"}, ServiceState("?"), "rollback-off"),
        ({}, ServiceState("?", paused=True), "paused"),
        ({}, ServiceState("?", frozen=True, frozen_reason="3 rollbacks"), "frozen"),
    ],
)
def test_an_alarm_only_notifies_when_the_service_must_not_be_rolled_back_on_its_own(
    tags: dict[str, str], state: ServiceState, code: str
) -> None:
    """Given a rollout of build 3 in its bake window, when its alarm fires on a service with
    rollback off, paused or frozen, then a person is told, and the service is unchanged."""
    fleet = _fleet(tags)
    fleet.world.ledger.save_state(
        replace(state, service_arn=fleet.arn, known_good=(fleet.good(2),), latest=fleet.latest())
    )

    entry = rollback(fleet.world.context(), _request(fleet))

    assert (entry.outcome, entry.code) == (Outcome.NOTIFIED, code)
    assert _runs(fleet) == "web:3"
    assert [n.severity for n in fleet.world.notifier.sent] == ["warning"]
    assert fleet.world.ledger.quarantined() == {}


def test_an_alarm_after_ecs_failed_the_deployment_leaves_the_rollback_to_ecs() -> None:
    fleet = _fleet()
    fleet.world.ledger.save_state(
        ServiceState(
            fleet.arn,
            known_good=(fleet.good(2),),
            latest=fleet.latest(DeploymentState.FAILED),
        )
    )

    entry = rollback(fleet.world.context(), _request(fleet))

    assert (entry.outcome, entry.code) == (Outcome.NOTIFIED, "failed")
    assert _runs(fleet) == "web:3"


def test_an_alarm_on_a_revision_someone_else_deployed_only_notifies() -> None:
    """Given the automation's last deployment was web:2 but the service runs web:3 (a person
    deployed it), when an alarm fires, then the automation does not touch it."""
    fleet = _fleet()
    mine = Deployment("deploy-2", "deploy", "ecs-svc/1", fleet.revisions[1], (), T0)
    fleet.world.ledger.save_state(
        ServiceState(fleet.arn, known_good=(fleet.good(1, "baseline"),), latest=mine)
    )

    entry = rollback(fleet.world.context(), _request(fleet))

    assert (entry.outcome, entry.code) == (Outcome.NOTIFIED, "not-automated")
    assert _runs(fleet) == "web:3"


def test_an_operator_names_a_revision_by_number_and_the_replaced_digest_is_quarantined() -> None:
    """Given prod/web on web:3, when an operator rolls back to revision 1, then the service
    deploys web:1, build 3's digest is quarantined, and the state says it was a rollback."""
    fleet = _fleet()

    entry = rollback(fleet.world.context(), _request(fleet, automatic=False, to_revision="1"))

    assert entry.outcome is Outcome.ROLLED_BACK
    assert _runs(fleet) == "web:1"
    assert set(fleet.world.ledger.quarantined()) == {digest("web#3")}
    latest = fleet.world.ledger.state(fleet.arn).latest
    assert latest is not None
    assert (latest.kind, latest.deployment_id) == ("rollback", entry.deployment_id)
    assert entry.deployment_id in fleet.world.ecs.deployment_ids(fleet.arn)


def test_an_operator_asking_for_the_revision_that_runs_changes_nothing() -> None:
    fleet = _fleet()

    entry = rollback(fleet.world.context(), _request(fleet, automatic=False, to_revision="web:3"))

    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "already-running")
    assert fleet.world.ledger.quarantined() == {}


def test_without_a_known_good_revision_an_operator_is_told_to_name_one() -> None:
    fleet = _fleet()

    entry = rollback(fleet.world.context(), _request(fleet, automatic=False))

    assert (entry.outcome, entry.code) == (Outcome.NOTIFIED, "no-known-good")
    assert "autopilot rollback prod/web [--to REVISION]" in fleet.world.notifier.sent[0].text
    assert _runs(fleet) == "web:3"


def test_the_third_automatic_rollback_within_an_hour_freezes_the_service() -> None:
    """Given two automatic rollbacks in the last hour, when a third one happens, then the
    service is frozen and the rollback notification says how to resume it."""
    fleet = _fleet()
    earlier = (T0 - timedelta(minutes=50), T0 - timedelta(minutes=20))
    fleet.world.ledger.save_state(
        ServiceState(
            fleet.arn, known_good=(fleet.good(2),), latest=fleet.latest(), rollbacks=earlier
        )
    )

    entry = rollback(fleet.world.context(), _request(fleet))

    state = fleet.world.ledger.state(fleet.arn)
    assert entry.outcome is Outcome.ROLLED_BACK
    assert _runs(fleet) == "web:2"
    assert (state.frozen, state.frozen_reason) == (True, "3 rollbacks within an hour")
    assert "autopilot resume prod/web" in fleet.world.notifier.sent[-1].text


def test_a_blue_green_rollback_deploys_even_if_the_target_went_out_earlier_today() -> None:
    """Given prod/checkout (blue/green) deployed by CodeDeploy to build 1 four hours ago (known
    good) and to build 2 an hour ago, when an operator rolls back, then a new CodeDeploy
    deployment of build 1's revision starts (the service runs build 2 until it succeeds)."""
    world = World()
    for build, hours in (("1", 5), ("2", 2)):
        world.push("web", build, "main", at=T0 - timedelta(hours=hours))
    world.codedeploy.add_group("AppECS-prod-checkout", "DgpECS-prod-checkout", "prod", "checkout")
    balancer = {"targetGroupArn": "tg-blue", "containerName": "web", "containerPort": 8080}
    arn = world.add_service(
        "prod",
        "checkout",
        {"web": ecr_image("web", digest("web#0"))},
        desired=3,
        tags={"autopilot:track": "tag:main"},
        controller="CODE_DEPLOY",
        load_balancers=[balancer],
    )
    revisions, deployments = {}, {}
    for build, hours in (("1", 4), ("2", 1)):
        image = ecr_image("web", digest(f"web#{build}"))
        revisions[build] = world.ecs.register_task_definition(
            fargate_task_definition("checkout", {"web": image}), []
        )
        world.clock.now = T0 - timedelta(hours=hours)
        deployments[build] = world.codedeploy.create_deployment(
            "AppECS-prod-checkout",
            "DgpECS-prod-checkout",
            appspec(revisions[build], "web", 8080),
            "ECS Autopilot: main",
        )
        world.codedeploy.succeed(deployments[build])
    world.clock.now = T0
    good = KnownGood(
        revisions["1"], (ecr_image("web", digest("web#1")),), T0 - timedelta(hours=3), "baseline"
    )
    latest = Deployment(
        action_id="deploy-2",
        kind="deploy",
        deployment_id=deployments["2"],
        task_definition=revisions["2"],
        images=(ecr_image("web", digest("web#2")),),
        started_at=T0 - timedelta(hours=1),
        state=DeploymentState.COMPLETED,
        finished_at=T0 - timedelta(minutes=50),
        via="codedeploy",
    )
    world.ledger.save_state(ServiceState(arn, known_good=(good,), latest=latest))
    request = RollbackRequest(
        action_id=action_id("operator-request", arn, "rollback"),
        service_arn=arn,
        trigger="operator",
        trigger_id="operator-request",
        trigger_time=T0,
        automatic=False,
    )

    entry = rollback(world.context(), request)

    assert entry.outcome is Outcome.ROLLED_BACK
    assert entry.deployment_id not in deployments.values()
    assert world.codedeploy.deployments[entry.deployment_id].task_definition == revisions["1"]

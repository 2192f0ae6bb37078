"""The executor's canary action: a lifecycle hook's final verdict recorded with its figures,
told, and on a regression followed by the quarantine of the image the deployment brought."""

from __future__ import annotations

from datetime import timedelta

import pytest

from autopilot.domain.ledger import Outcome, action_id
from autopilot.domain.state import KnownGood, ServiceState
from autopilot.records import replace
from autopilot.workflows.canary_action import CanaryVerdictRequest, SideFigures
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.execute import execute
from tests.fakes.canary import (
    ALTERNATE_TG,
    DEPLOYMENT,
    GREEN_REVISION,
    PRIMARY_TG,
    FakeServiceRevisions,
    revision,
)
from tests.fakes.world import REGISTRY, T0, World, digest, ecr_image, fargate_task_definition

BLUE_DIGEST, GREEN_DIGEST = digest("cart#1"), digest("cart#2")
LOG_ROUTER = f"{REGISTRY}/log-router:2.1"
EXECUTION = "3a0345ba-b029-404b-890d-7da2a4b266aa"


@pytest.fixture
def world() -> World:
    """Given prod/cart on build 1 of cart (and a log router on a tag), and build 2 registered as
    the revision its blue/green deployment is judging (ECS rolled back: the service runs build 1
    again)."""
    world = World()
    world.add_service(
        "prod",
        "cart",
        {"cart": ecr_image("cart", BLUE_DIGEST), "log-router": LOG_ROUTER},
        tags={"autopilot:canary": "on"},
    )
    world.ecs.register_task_definition(
        fargate_task_definition(
            "cart", {"cart": ecr_image("cart", GREEN_DIGEST), "log-router": LOG_ROUTER}
        ),
        [],
    )
    return world


def context(world: World, *, dry_run: bool = False) -> tuple[ExecutorContext, FakeServiceRevisions]:
    revisions = FakeServiceRevisions()
    revisions.revisions[GREEN_REVISION] = revision(
        GREEN_REVISION,
        ALTERNATE_TG,
        {
            "cart": (ecr_image("cart", GREEN_DIGEST), GREEN_DIGEST),
            "log-router": (LOG_ROUTER, digest("log-router#2.1")),
        },
        task_definition="arn:aws:ecs:us-east-1:123456789012:task-definition/cart:2",
    )
    return replace(world.context(dry_run=dry_run), service_revisions=revisions), revisions


def verdict(
    code: str = "error-regression", outcome: str = "FAILED", answered: str | None = None
) -> CanaryVerdictRequest:
    service = "arn:aws:ecs:us-east-1:123456789012:service/prod/cart"
    figures = code != "not-analysed"
    return CanaryVerdictRequest(
        action_id=action_id(EXECUTION, service, "canary"),
        service_arn=service,
        trigger="ecs-lifecycle-hook",
        trigger_id=EXECUTION,
        trigger_time=T0,
        verdict=outcome,  # type: ignore[arg-type]
        answered=answered or outcome,  # type: ignore[arg-type]
        code=code,
        reason={
            "error-regression": "error rate 10.00% against blue's 0.22%: at least 8.90% (95% "
            "confidence), above 2 x blue's 0.27%",
            "no-worse": "no worse than blue: error rate 0.20% against 0.22%",
            "not-enough-traffic": "not enough traffic to judge in 30 min",
            "not-analysed": "could not analyse: the service's load balancer has no alternate "
            "target group (advancedConfiguration.alternateTargetGroupArn)",
        }[code],
        stage="POST_TEST_TRAFFIC_SHIFT",
        deployment=DEPLOYMENT,
        target_revision=GREEN_REVISION,
        window_start=T0 if figures else None,
        window_end=T0 + timedelta(minutes=10) if figures else None,
        blue=SideFigures(requests=9000, errors=20, p99_seconds=0.18, p95_seconds=0.09)
        if figures
        else None,
        green=SideFigures(requests=1000, errors=100, p99_seconds=0.6, p95_seconds=0.3)
        if figures
        else None,
        blue_target_group=PRIMARY_TG if figures else "",
        green_target_group=ALTERNATE_TG if figures else "",
    )


def test_a_failed_canary_is_recorded_with_its_numbers_told_and_its_digest_quarantined(
    world: World,
) -> None:
    ctx, _ = context(world)
    # Given build 2 was remembered as known good (an earlier deploy of it)
    service = "arn:aws:ecs:us-east-1:123456789012:service/prod/cart"
    green_td = "arn:aws:ecs:us-east-1:123456789012:task-definition/cart:2"
    world.ledger.save_state(
        ServiceState(
            service,
            known_good=(KnownGood(green_td, (ecr_image("cart", GREEN_DIGEST),), T0, "baseline"),),
        )
    )

    # When the executor takes the hook's FAILED verdict
    entry = execute(ctx, verdict())

    # Then the ledger has the verdict with both sides' figures and the window
    assert (entry.kind, entry.outcome, entry.code) == ("canary", Outcome.FAILED, "error-regression")
    assert entry.window == "2026-11-24T14:00:00Z/2026-11-24T14:10:00Z"
    assert entry.blue == "requests=9000 errors=20 error_rate=0.22% p99_ms=180 p95_ms=90"
    assert entry.green == "requests=1000 errors=100 error_rate=10.00% p99_ms=600 p95_ms=300"
    assert entry.to_task_definition == green_td
    assert entry.deployment_id == DEPLOYMENT
    # and build 2's digest is quarantined as a rollback quarantines it, the log router's not
    assert entry.quarantine == (GREEN_DIGEST,)
    assert set(world.ledger.quarantined()) == {GREEN_DIGEST}
    assert world.ledger.state(service).known_good == ()
    # and on-call reads the verdict, the numbers, and how to release the digest
    [told] = world.notifier.sent
    assert told.subject == "[autopilot] canary FAILED on prod/cart (cart:2): deployment rolled back"
    assert told.severity == "critical"
    assert "ECS rolls the deployment back to the previous revision" in told.text
    assert "Blue (running): requests=9000 errors=20 error_rate=0.22%" in told.text
    assert "Green (new): requests=1000 errors=100 error_rate=10.00% p99_ms=600" in told.text
    assert f"autopilot release {GREEN_DIGEST}" in told.text


def test_the_same_verdict_recorded_twice_is_one_entry_and_one_notice(world: World) -> None:
    ctx, _ = context(world)
    first = execute(ctx, verdict())

    again = execute(ctx, verdict())

    assert again == first
    assert len(world.ledger.entries_of(first.action_id)) == 1
    assert len(world.notifier.sent) == 1


def test_a_passed_canary_is_recorded_and_told_and_quarantines_nothing(world: World) -> None:
    ctx, _ = context(world)

    entry = execute(ctx, verdict("no-worse", "SUCCEEDED"))

    assert (entry.outcome, entry.code) == (Outcome.COMPLETED, "no-worse")
    assert entry.green.startswith("requests=1000")
    assert world.ledger.quarantined() == {}
    [told] = world.notifier.sent
    assert told.subject == "[autopilot] canary passed on prod/cart (cart:2)"
    assert "ECS goes on with the deployment" in told.text


@pytest.mark.parametrize("code", ["not-enough-traffic", "not-analysed"])
def test_a_canary_not_judged_fails_and_quarantines_nothing(world: World, code: str) -> None:
    # Given a verdict that says nothing about the image
    ctx, _ = context(world)

    entry = execute(ctx, verdict(code))

    # Then it is recorded FAILED with its reason, told, and no digest is quarantined
    assert (entry.outcome, entry.code) == (Outcome.FAILED, code)
    assert world.ledger.quarantined() == {}
    [told] = world.notifier.sent
    if code == "not-analysed":
        assert told.subject == (
            "[autopilot] canary analysis could not run on prod/cart: deployment rolled back"
        )
        assert "no alternate target group" in told.text
        assert "autopilot:canary=off on prod/cart" in told.text
    else:
        assert "could not be judged" in told.subject


def test_a_dry_run_verdict_is_recorded_as_such_and_changes_nothing(world: World) -> None:
    ctx, _ = context(world, dry_run=True)

    entry = execute(ctx, verdict(answered="SUCCEEDED"))

    assert entry.outcome is Outcome.DRY_RUN
    assert entry.reason.startswith("dry run: ECS was told SUCCEEDED; the verdict was FAILED")
    assert world.ledger.quarantined() == {}


def test_a_revision_of_another_service_is_never_quarantined_from(world: World) -> None:
    # Given the message names a revision ECS shows under another service
    ctx, revisions = context(world)
    other = revisions.revisions[GREEN_REVISION]
    revisions.revisions[GREEN_REVISION] = replace(
        other, service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web"
    )

    entry = execute(ctx, verdict())

    assert entry.outcome is Outcome.FAILED
    assert world.ledger.quarantined() == {}
    [told] = world.notifier.sent
    assert "nothing was quarantined" in told.text


def test_a_failed_canary_of_a_service_gone_quarantines_nothing(world: World) -> None:
    # Given the service was deleted before the executor took the verdict: its other revisions,
    # blue's among them, cannot be read, so nothing tells a changed image from a sidecar
    ctx, _ = context(world)
    world.ecs.delete_service("arn:aws:ecs:us-east-1:123456789012:service/prod/cart", purged=True)

    # When the executor takes the hook's FAILED verdict
    entry = execute(ctx, verdict())

    # Then it is recorded and told, and no digest is quarantined (the log router's least of all)
    assert (entry.outcome, entry.quarantine) == (Outcome.FAILED, ())
    assert world.ledger.quarantined() == {}
    [told] = world.notifier.sent
    assert "nothing was quarantined" in told.text


def test_a_failed_canary_of_the_automations_deploy_makes_ecs_rollback_the_latest() -> None:
    # Given the automation's deploy of build 2 failed its canary and ECS is rolling it back
    from tests.chaos.scenarios import _canary_failed  # noqa: PLC0415 - the same story

    case = _canary_failed()
    assert case.request is not None

    # When the executor records the verdict
    execute(case.world.context(), case.request)

    # Then ECS's rollback is the service's latest deployment, timed from the verdict, so that
    # its end says when traffic was back on build 1
    latest = case.world.ledger.state(case.service_arn).latest
    assert latest is not None
    assert (latest.kind, latest.via, latest.triggered_at) == (
        "rollback",
        "already-rolling-back",
        T0,
    )
    assert latest.task_definition.endswith("/web:1")

"""Rolling a service back: only what the automation just deployed, only to a revision that
worked, and one rollback per incident."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

import pytest

from autopilot.domain.fleet import Container, Service
from autopilot.domain.rollback import (
    NotifyOnly,
    RollBack,
    RollbackDecision,
    decide_automatic_rollback,
    decide_operator_rollback,
    should_freeze,
)
from autopilot.domain.state import (
    Deployment,
    DeploymentState,
    KnownGood,
    ServiceState,
    digests_of,
    pinned_images,
)
from autopilot.records import replace

ACCOUNT = "123456789012"
REGION = "us-east-1"
REGISTRY = f"{ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com"
SERVICE_ARN = f"arn:aws:ecs:{REGION}:{ACCOUNT}:service/prod/web"
NOW = datetime(2026, 11, 20, 10, 30, tzinfo=UTC)
SIDECAR_DIGEST = "sha256:" + "f" * 64
TRACK_MAIN = {"autopilot:track": "tag:main"}
NOTHING_QUARANTINED: set[str] = set()


def digest(number: int) -> str:
    """The app image digest of task definition revision `number` (one hex digit per revision)."""
    return "sha256:" + f"{number:x}" * 64


def revision(number: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:{number}"


def images_of(number: int) -> tuple[str, ...]:
    """Revision `number` runs its own app image and the same log-router sidecar as the others."""
    return pinned_images(
        [f"{REGISTRY}/web@{digest(number)}", f"{REGISTRY}/log-router@{SIDECAR_DIGEST}"]
    )


def service(running: int = 7, tags: Mapping[str, str] = TRACK_MAIN) -> Service:
    """The prod/web service, running task definition revision `running`."""
    return Service(
        arn=SERVICE_ARN,
        cluster_arn=f"arn:aws:ecs:{REGION}:{ACCOUNT}:cluster/prod",
        name="web",
        status="ACTIVE",
        task_definition_arn=revision(running),
        containers=tuple(
            Container(name, image)
            for name, image in zip(("log-router", "app"), images_of(running), strict=True)
        ),
        desired_count=2,
        tags=tags,
    )


def known_good(number: int, source: str = "deployment-completed") -> KnownGood:
    return KnownGood(revision(number), images_of(number), NOW - timedelta(days=1), source)


def deployed(
    number: int,
    state: DeploymentState = DeploymentState.IN_PROGRESS,
    *,
    finished_at: datetime | None = None,
    kind: str = "deploy",
) -> Deployment:
    return Deployment(
        action_id=f"action-{number}",
        kind=kind,
        deployment_id=f"ecs-svc/{number}",
        task_definition=revision(number),
        images=images_of(number),
        started_at=NOW - timedelta(minutes=40),
        state=state,
        finished_at=finished_at,
    )


def completed(number: int, minutes_ago: int) -> Deployment:
    return deployed(
        number, DeploymentState.COMPLETED, finished_at=NOW - timedelta(minutes=minutes_ago)
    )


def state_with(
    *goods: int,
    latest: Deployment | None = None,
    rollbacks: tuple[datetime, ...] = (),
    paused: bool = False,
    frozen: bool = False,
    frozen_reason: str = "",
) -> ServiceState:
    return ServiceState(
        service_arn=SERVICE_ARN,
        known_good=tuple(known_good(n) for n in goods),
        latest=latest,
        rollbacks=rollbacks,
        paused=paused,
        frozen=frozen,
        frozen_reason=frozen_reason,
    )


def after_completed_deploy() -> ServiceState:
    """Revision 7 was deployed by the automation and completed 10 minutes ago: it is now
    itself the newest known-good revision, ahead of 6 and 5."""
    return state_with(7, 6, 5, latest=completed(7, minutes_ago=10))


def rolled_back(decision: RollbackDecision) -> RollBack:
    assert isinstance(decision, RollBack), f"expected a rollback, got {decision}"
    return decision


def outcome(decision: RollbackDecision) -> tuple[str, str]:
    """(type, code) of a decision that is not a rollback."""
    assert not isinstance(decision, RollBack), f"expected no rollback, got {decision}"
    return type(decision).__name__, decision.code


# Automatic rollback: which revision.


def test_an_alarm_during_a_deploy_rolls_back_to_the_revision_that_ran_before() -> None:
    # Given the automation is deploying revision 7, and 6 (what ran before) is known good
    state = state_with(6, 5, latest=deployed(7))

    # When an alarm fires for the service running 7
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then it rolls back to 6, and the app digest of 7 is the bad one
    rollback = rolled_back(decision)
    assert rollback.target == known_good(6)
    assert rollback.bad_digests == (digest(7),)


def test_an_alarm_in_the_bake_window_after_completion_skips_the_current_known_good() -> None:
    # Given revision 7 completed 10 minutes ago, so it is itself known_good[0]
    state = after_completed_deploy()
    assert state.known_good[0].task_definition == revision(7)

    # When an alarm fires within the bake window
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then the target is known_good[1] (revision 6), never the revision that is running
    rollback = rolled_back(decision)
    assert rollback.target == state.known_good[1]
    assert rollback.target.task_definition == revision(6)


def test_the_target_is_the_previous_known_good_not_the_previous_revision_number() -> None:
    # Given revision 7 just completed and the known-good revision before it is 4
    # (revisions 5 and 6 were never good, or were forgotten)
    state = state_with(7, 4, latest=completed(7, minutes_ago=10))

    # When an alarm fires within the bake window
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then it goes back to 4, not to "7 minus one"
    assert rolled_back(decision).target.task_definition == revision(4)


def test_a_known_good_revision_with_a_quarantined_digest_is_passed_over() -> None:
    # Given 7 just completed, and the app digest of 6 is quarantined
    state = after_completed_deploy()

    # When an alarm fires
    decision = decide_automatic_rollback(service(running=7), state, NOW, {digest(6)})

    # Then the target is the next clean one, 5
    rollback = rolled_back(decision)
    assert rollback.target == known_good(5)
    assert rollback.bad_digests == (digest(7),)


def test_bad_digests_leave_out_what_the_target_also_runs() -> None:
    # Given 7 just completed; it shares its sidecar digest with 6
    state = after_completed_deploy()

    # When an alarm fires
    rollback = rolled_back(
        decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)
    )

    # Then only the digest that 6 does not run is bad; the shared sidecar is not blamed
    assert SIDECAR_DIGEST in rollback.target.digests
    assert SIDECAR_DIGEST not in rollback.bad_digests
    assert set(rollback.bad_digests) == digests_of(deployed(7).images) - known_good(6).digests


@pytest.mark.parametrize(
    ("state", "quarantined"),
    [
        pytest.param(state_with(latest=deployed(7)), set(), id="no known good at all"),
        pytest.param(
            state_with(7, latest=completed(7, minutes_ago=5)), set(), id="only the current one"
        ),
        pytest.param(state_with(6, 5, latest=deployed(7)), {digest(6), digest(5)}, id="all bad"),
        pytest.param(state_with(6, latest=deployed(7)), {SIDECAR_DIGEST}, id="shared bad sidecar"),
    ],
)
def test_without_a_clean_known_good_revision_it_only_notifies(
    state: ServiceState, quarantined: set[str]
) -> None:
    # Given no known-good revision other than the current one that is free of quarantine
    # When an alarm fires during the bake window
    decision = decide_automatic_rollback(service(running=7), state, NOW, quarantined)

    # Then nobody is rolled anywhere; a person is told
    assert outcome(decision) == ("NotifyOnly", "no-known-good")


# Automatic rollback: when not to.


@pytest.mark.parametrize(
    ("tags", "code"),
    [
        ({"autopilot:track": "main"}, "invalid-config"),
        ({**TRACK_MAIN, "autopilot:rollback": "maybe"}, "invalid-config"),
        ({**TRACK_MAIN, "autopilot:bake-minutes": "half an hour"}, "invalid-config"),
        ({"team": "storefront"}, "not-opted-in"),
        ({"autopilot:track": "off"}, "tracking-off"),
    ],
)
def test_a_service_the_automation_does_not_manage_is_skipped(
    tags: dict[str, str], code: str
) -> None:
    # Given a service that is badly configured, not opted in, or with tracking off
    svc = service(running=7, tags=tags)

    # When an alarm fires in the bake window of what would otherwise be rolled back
    decision = decide_automatic_rollback(svc, after_completed_deploy(), NOW, NOTHING_QUARANTINED)

    # Then it is skipped with that reason
    assert outcome(decision) == ("Skip", code)


@pytest.mark.parametrize(
    "latest",
    [
        pytest.param(deployed(6, kind="rollback"), id="rollback in progress"),
        pytest.param(
            deployed(
                6,
                DeploymentState.COMPLETED,
                kind="rollback",
                finished_at=NOW - timedelta(minutes=2),
            ),
            id="rollback completed",
        ),
    ],
)
def test_after_a_rollback_further_alarms_do_not_roll_back_again(latest: Deployment) -> None:
    # Given the service was just rolled back from 7 to 6
    state = state_with(6, 5, latest=latest, rollbacks=(NOW - timedelta(minutes=3),))

    # When the same alarm fires again, another alarm fires, or the alarm flaps
    decisions = [
        decide_automatic_rollback(service(running=6), state, NOW + timedelta(minutes=m), set())
        for m in (0, 1, 2)
    ]

    # Then none of them rolls back again; an operator decides what happens next
    assert [outcome(d) for d in decisions] == [("Skip", "already-rolled-back")] * 3


def test_already_rolled_back_wins_over_a_freeze_the_rollback_caused() -> None:
    # Given a rollback that froze the service
    state = state_with(6, latest=deployed(6, kind="rollback"), frozen=True, frozen_reason="storm")

    # When another alarm fires
    decision = decide_automatic_rollback(service(running=6), state, NOW, NOTHING_QUARANTINED)

    # Then it is a silent skip, not one more notification per alarm
    assert outcome(decision) == ("Skip", "already-rolled-back")


@pytest.mark.parametrize("value", ["off", "OFF", "false", "no"])
def test_rollback_off_only_notifies(value: str) -> None:
    # Given a service that asked not to be rolled back automatically
    svc = service(running=7, tags={**TRACK_MAIN, "autopilot:rollback": value})

    # When an alarm fires in the bake window
    decision = decide_automatic_rollback(svc, after_completed_deploy(), NOW, NOTHING_QUARANTINED)

    # Then a person is told and nothing is rolled back
    assert outcome(decision) == ("NotifyOnly", "rollback-off")


def test_a_paused_service_is_not_rolled_back_on_its_own() -> None:
    # Given a paused service in its bake window
    state = replace(after_completed_deploy(), paused=True)

    # When an alarm fires
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then a person is told
    assert outcome(decision) == ("NotifyOnly", "paused")


def test_a_frozen_service_is_not_rolled_back_on_its_own_and_the_reason_is_given() -> None:
    # Given a frozen service in its bake window
    state = replace(after_completed_deploy(), frozen=True, frozen_reason="3 rollbacks in an hour")

    # When an alarm fires
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then a person is told why
    assert outcome(decision) == ("NotifyOnly", "frozen")
    assert isinstance(decision, NotifyOnly)
    assert "3 rollbacks in an hour" in decision.reason


@pytest.mark.parametrize(
    ("running", "latest"),
    [
        pytest.param(8, completed(7, minutes_ago=5), id="someone deployed 8 by hand"),
        pytest.param(7, None, id="the automation never deployed"),
    ],
)
def test_a_revision_the_automation_did_not_deploy_is_not_rolled_back(
    running: int, latest: Deployment | None
) -> None:
    # Given the service runs a revision other than the automation's latest deploy
    state = state_with(7, 6, latest=latest)

    # When an alarm fires
    decision = decide_automatic_rollback(service(running=running), state, NOW, set())

    # Then a person is told; the automation does not undo someone else's change
    assert outcome(decision) == ("NotifyOnly", "not-automated")


def test_a_failed_deploy_is_left_to_ecs() -> None:
    # Given the automation's deploy of 7 failed (and the service still shows 7)
    state = state_with(
        6, latest=deployed(7, DeploymentState.FAILED, finished_at=NOW - timedelta(minutes=1))
    )

    # When an alarm fires
    decision = decide_automatic_rollback(service(running=7), state, NOW, NOTHING_QUARANTINED)

    # Then only a notification: ECS's own rollback handles failures
    assert outcome(decision) == ("NotifyOnly", "failed")


@pytest.mark.parametrize(
    ("tags", "minutes_ago", "rolls_back"),
    [
        pytest.param(TRACK_MAIN, 30, True, id="default 30: at the boundary"),
        pytest.param(TRACK_MAIN, 31, False, id="default 30: a minute later"),
        pytest.param({**TRACK_MAIN, "autopilot:bake-minutes": "60"}, 45, True, id="60: at 45"),
        pytest.param({**TRACK_MAIN, "autopilot:bake-minutes": "10"}, 11, False, id="10: at 11"),
        pytest.param({**TRACK_MAIN, "autopilot:bake-minutes": "0"}, 1, False, id="0: at 1"),
    ],
)
def test_only_an_alarm_within_the_bake_window_rolls_back(
    tags: dict[str, str], minutes_ago: int, rolls_back: bool
) -> None:
    # Given revision 7 completed some minutes ago
    state = state_with(7, 6, latest=completed(7, minutes_ago=minutes_ago))
    svc = service(running=7, tags=tags)

    # When an alarm fires now
    decision = decide_automatic_rollback(svc, state, NOW, NOTHING_QUARANTINED)

    # Then it rolls back only inside the service's bake window, else a person is told
    if rolls_back:
        assert rolled_back(decision).target == known_good(6)
    else:
        assert outcome(decision) == ("NotifyOnly", "outside-bake-window")


def test_a_deploy_in_progress_is_in_the_bake_window_even_with_zero_bake_minutes() -> None:
    # Given a 0-minute bake and a deploy still running
    svc = service(running=7, tags={**TRACK_MAIN, "autopilot:bake-minutes": "0"})
    state = state_with(6, latest=deployed(7))

    # When an alarm fires
    decision = decide_automatic_rollback(svc, state, NOW, NOTHING_QUARANTINED)

    # Then it rolls back
    assert rolled_back(decision).target == known_good(6)


@pytest.mark.parametrize(
    ("state", "tags", "code"),
    [
        pytest.param(
            replace(after_completed_deploy(), paused=True),
            {"autopilot:rollback": "off"},
            "rollback-off",
            id="rollback off before paused",
        ),
        pytest.param(
            replace(after_completed_deploy(), paused=True, frozen=True),
            {},
            "paused",
            id="paused before frozen",
        ),
        pytest.param(
            replace(after_completed_deploy(), frozen=True, latest=None),
            {},
            "frozen",
            id="frozen before not-automated",
        ),
        pytest.param(
            replace(after_completed_deploy(), latest=completed(6, minutes_ago=90)),
            {},
            "not-automated",
            id="not-automated before outside-bake-window",
        ),
        pytest.param(
            state_with(
                latest=deployed(7, DeploymentState.FAILED, finished_at=NOW - timedelta(hours=2))
            ),
            {},
            "failed",
            id="failed before outside-bake-window and no-known-good",
        ),
        pytest.param(
            state_with(latest=completed(7, minutes_ago=90)),
            {},
            "outside-bake-window",
            id="outside-bake-window before no-known-good",
        ),
    ],
)
def test_reasons_not_to_roll_back_are_checked_in_a_fixed_order(
    state: ServiceState, tags: dict[str, str], code: str
) -> None:
    # Given a service with several reasons not to roll back at once
    svc = service(running=7, tags={**TRACK_MAIN, **tags})

    # When an alarm fires
    decision = decide_automatic_rollback(svc, state, NOW, NOTHING_QUARANTINED)

    # Then the first reason in precedence order is given
    assert outcome(decision) == ("NotifyOnly", code)


# Operator rollback.


def test_an_operator_rollback_ignores_pause_freeze_and_the_bake_window() -> None:
    # Given a paused, frozen service whose deploy completed a day ago
    state = state_with(
        7, 6, latest=completed(7, minutes_ago=24 * 60), paused=True, frozen=True, frozen_reason="x"
    )
    svc = service(running=7)

    # When an operator asks for a rollback
    decision = decide_operator_rollback(
        svc, state, NOTHING_QUARANTINED, digests_of([c.image for c in svc.containers])
    )

    # Then it rolls back to the previous known-good revision
    rollback = rolled_back(decision)
    assert rollback.target == known_good(6)
    assert rollback.bad_digests == (digest(7),)


def test_an_operator_rollback_blames_what_the_service_runs_not_the_latest_deploy() -> None:
    # Given someone deployed 8 by hand after the automation's 7
    state = state_with(7, 6, latest=completed(7, minutes_ago=60))
    svc = service(running=8)

    # When an operator asks for a rollback
    decision = decide_operator_rollback(
        svc, state, NOTHING_QUARANTINED, digests_of([c.image for c in svc.containers])
    )

    # Then it goes to the newest known good and the running digest is the bad one
    rollback = rolled_back(decision)
    assert rollback.target == known_good(7)
    assert rollback.bad_digests == (digest(8),)


def test_an_operator_rollback_passes_over_quarantined_revisions() -> None:
    # Given 7 runs, and 6 contains a quarantined digest
    state = after_completed_deploy()

    # When an operator asks for a rollback without naming a revision
    decision = decide_operator_rollback(
        service(running=7), state, {digest(6)}, frozenset({digest(7), SIDECAR_DIGEST})
    )

    # Then it goes to 5
    assert rolled_back(decision).target == known_good(5)


def test_an_operator_rollback_without_a_known_good_revision_only_notifies() -> None:
    # Given a service with nothing known good but what it runs
    state = state_with(7)

    # When an operator asks for a rollback
    decision = decide_operator_rollback(
        service(running=7), state, NOTHING_QUARANTINED, frozenset({digest(7)})
    )

    # Then there is nothing to roll back to
    assert outcome(decision) == ("NotifyOnly", "no-known-good")


def test_an_operator_can_name_the_revision_to_return_to() -> None:
    # Given a service running 7 and an operator naming revision 3 (not in known_good)
    requested = known_good(3, source="operator")
    state = after_completed_deploy()

    # When the rollback is decided
    decision = decide_operator_rollback(
        service(running=7),
        state,
        NOTHING_QUARANTINED,
        frozenset({digest(7), SIDECAR_DIGEST}),
        requested,
    )

    # Then that revision is the target, and what 3 does not run is bad
    assert rolled_back(decision) == RollBack(requested, (digest(7),))


def test_an_operators_named_revision_is_used_even_when_it_is_quarantined() -> None:
    # Given an operator names revision 6, whose digest is quarantined
    requested = known_good(6, source="operator")

    # When the rollback is decided
    decision = decide_operator_rollback(
        service(running=7),
        after_completed_deploy(),
        {digest(6)},
        frozenset({digest(7)}),
        requested,
    )

    # Then the operator's explicit choice stands
    assert rolled_back(decision).target == requested


def test_an_operator_naming_the_running_revision_is_told_it_already_runs() -> None:
    # Given an operator names revision 7, which the service already runs
    requested = known_good(7, source="operator")

    # When the rollback is decided
    decision = decide_operator_rollback(
        service(running=7),
        after_completed_deploy(),
        NOTHING_QUARANTINED,
        frozenset({digest(7)}),
        requested,
    )

    # Then nothing is done
    assert outcome(decision) == ("Skip", "already-running")


# Freezing after a storm of rollbacks.


def rollbacks(*minutes_ago: int) -> ServiceState:
    return state_with(rollbacks=tuple(NOW - timedelta(minutes=m) for m in minutes_ago))


@pytest.mark.parametrize(
    ("state", "freezes"),
    [
        pytest.param(rollbacks(50, 20, 0), True, id="three within the hour"),
        pytest.param(rollbacks(59, 30, 0), True, id="the newest counts with two before it"),
        pytest.param(rollbacks(61, 20, 0), False, id="one of three is older than an hour"),
        pytest.param(rollbacks(20, 0), False, id="two within the hour"),
        pytest.param(rollbacks(240, 180, 120, 0), False, id="many, but spread out"),
        pytest.param(rollbacks(), False, id="none"),
    ],
)
def test_a_service_freezes_after_the_limit_of_rollbacks_within_an_hour(
    state: ServiceState, freezes: bool
) -> None:
    # Given the rollbacks so far, the newest one (now) included
    # When the freeze rule is checked with a limit of 3
    # Then it freezes only with 3 rollbacks within the last hour
    assert should_freeze(state, NOW, 3) is freezes

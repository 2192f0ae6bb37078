"""What the automation remembers about a service: known-good revisions, the latest deployment,
rollbacks, and the bake window."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from autopilot.domain.state import (
    KNOWN_GOOD_KEPT,
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


def digest(revision: int) -> str:
    """The app image digest that revision `revision` runs (one hex digit per revision)."""
    return "sha256:" + f"{revision:x}" * 64


def revision(number: int) -> str:
    return f"arn:aws:ecs:{REGION}:{ACCOUNT}:task-definition/web:{number}"


def app(sha: str) -> str:
    return f"{REGISTRY}/web@{sha}"


def sidecar(sha: str = SIDECAR_DIGEST) -> str:
    return f"{REGISTRY}/log-router@{sha}"


def known_good(
    number: int, *, at: datetime = NOW, source: str = "deployment-completed"
) -> KnownGood:
    return KnownGood(
        task_definition=revision(number),
        images=pinned_images([app(digest(number)), sidecar()]),
        recorded_at=at,
        source=source,
    )


def deployment(
    number: int,
    state: DeploymentState = DeploymentState.IN_PROGRESS,
    *,
    kind: str = "deploy",
    finished_at: datetime | None = None,
) -> Deployment:
    return Deployment(
        action_id=f"action-{number}",
        kind=kind,
        deployment_id=f"ecs-svc/{number}",
        task_definition=revision(number),
        images=pinned_images([app(digest(number)), sidecar()]),
        started_at=NOW - timedelta(hours=1),
        state=state,
        finished_at=finished_at,
    )


def state_with(*goods: KnownGood, latest: Deployment | None = None) -> ServiceState:
    return ServiceState(service_arn=SERVICE_ARN, known_good=goods, latest=latest)


def revisions(state: ServiceState) -> list[str]:
    return [good.task_definition for good in state.known_good]


# Known-good revisions.


def test_a_remembered_revision_goes_first() -> None:
    # Given a state that knows revisions 5 and 6, newest first
    state = state_with(known_good(6), known_good(5))

    # When revision 7 completes
    state = state.remember_good(known_good(7))

    # Then it is the newest known-good revision
    assert revisions(state) == [revision(7), revision(6), revision(5)]


def test_remembering_a_known_revision_again_moves_it_to_the_front_without_a_duplicate() -> None:
    # Given a state that knows revisions 7, 6 and 5
    earlier = NOW - timedelta(days=1)
    state = state_with(known_good(7, at=earlier), known_good(6, at=earlier), known_good(5))

    # When revision 5 is remembered again (rolled back to, and it ran well)
    state = state.remember_good(known_good(5, at=NOW, source="operator"))

    # Then it is first, once, with the new record; the others keep their order
    assert revisions(state) == [revision(5), revision(7), revision(6)]
    assert state.known_good[0].recorded_at == NOW
    assert state.known_good[0].source == "operator"


def test_only_the_newest_known_good_revisions_are_kept() -> None:
    # Given a state already holding as many known-good revisions as it keeps
    state = state_with(*(known_good(n) for n in range(KNOWN_GOOD_KEPT, 0, -1)))
    assert len(state.known_good) == KNOWN_GOOD_KEPT

    # When one more is remembered
    state = state.remember_good(known_good(KNOWN_GOOD_KEPT + 1))

    # Then the oldest is dropped and the count stays capped
    assert len(state.known_good) == KNOWN_GOOD_KEPT
    assert revisions(state)[0] == revision(KNOWN_GOOD_KEPT + 1)
    assert revision(1) not in revisions(state)


def test_remember_good_leaves_the_original_state_alone() -> None:
    # Given a state
    state = state_with(known_good(6))

    # When a revision is remembered
    state.remember_good(known_good(7))

    # Then the state it was called on is unchanged (states are values)
    assert revisions(state) == [revision(6)]


def test_forgetting_a_digest_drops_every_revision_that_contains_it() -> None:
    # Given revisions 7, 6 and 5, where 6 and 5 ran the same bad app image
    bad = digest(6)
    six_again = replace(known_good(5), images=pinned_images([app(bad), sidecar()]))
    state = state_with(known_good(7), known_good(6), six_again)

    # When that digest is forgotten
    state = state.forget_digests(frozenset({bad}))

    # Then only the revision without it is left
    assert revisions(state) == [revision(7)]


def test_forgetting_any_one_of_several_digests_is_enough_to_drop_a_revision() -> None:
    # Given revisions 7, 6 and 5, which all share the sidecar image
    state = state_with(known_good(7), known_good(6), known_good(5))

    # When the shared sidecar digest and one unrelated digest are forgotten
    state = state.forget_digests({SIDECAR_DIGEST, "sha256:" + "0" * 64})

    # Then every revision containing the sidecar is gone
    assert state.known_good == ()


def test_forgetting_unknown_digests_keeps_every_revision_and_the_rest_of_the_state() -> None:
    # Given a paused state with a latest deployment
    state = replace(state_with(known_good(7), known_good(6), latest=deployment(7)), paused=True)

    # When digests that no revision contains are forgotten
    after = state.forget_digests(frozenset({"sha256:" + "0" * 64}))

    # Then nothing changes
    assert after == state


# Rollbacks.


def test_rollbacks_since_includes_the_boundary_and_drops_older_ones() -> None:
    # Given rollbacks 2 hours, 1 hour and 10 minutes ago
    hour_ago = NOW - timedelta(hours=1)
    ten_minutes_ago = NOW - timedelta(minutes=10)
    state = replace(state_with(), rollbacks=(NOW - timedelta(hours=2), hour_ago, ten_minutes_ago))

    # When the rollbacks since an hour ago are asked for
    recent = state.rollbacks_since(hour_ago)

    # Then the one exactly an hour ago counts, the older one does not
    assert recent == (hour_ago, ten_minutes_ago)


# The bake window.

BAKE = 30


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        pytest.param(deployment(7), True, id="deploy in progress"),
        pytest.param(
            deployment(7, DeploymentState.COMPLETED, finished_at=NOW - timedelta(minutes=10)),
            True,
            id="deploy completed 10 minutes ago",
        ),
        pytest.param(
            deployment(7, DeploymentState.COMPLETED, finished_at=NOW - timedelta(minutes=BAKE)),
            True,
            id="deploy completed exactly bake minutes ago",
        ),
        pytest.param(
            deployment(
                7,
                DeploymentState.COMPLETED,
                finished_at=NOW - timedelta(minutes=BAKE, seconds=1),
            ),
            False,
            id="deploy completed a second past the window",
        ),
        pytest.param(
            deployment(7, DeploymentState.FAILED, finished_at=NOW - timedelta(minutes=1)),
            False,
            id="deploy failed",
        ),
        pytest.param(deployment(6, kind="rollback"), False, id="rollback in progress"),
        pytest.param(
            deployment(
                6,
                DeploymentState.COMPLETED,
                kind="rollback",
                finished_at=NOW - timedelta(minutes=1),
            ),
            False,
            id="rollback completed a minute ago",
        ),
        pytest.param(None, False, id="no deployment"),
    ],
)
def test_the_bake_window_is_open_only_while_the_latest_deploy_runs_or_just_completed(
    latest: Deployment | None, expected: bool
) -> None:
    # Given a state with this latest deployment
    state = state_with(known_good(6), latest=latest)

    # When the bake window is checked at a fixed time
    in_window = state.in_bake_window(NOW, BAKE)

    # Then it is open only for a running or freshly completed automated deploy
    assert in_window is expected


def test_a_zero_minute_bake_window_still_covers_a_deploy_in_progress() -> None:
    # Given a deploy still in progress and a service baking for 0 minutes
    state = state_with(latest=deployment(7))

    # When the bake window is checked
    # Then it is open while the deploy runs
    assert state.in_bake_window(NOW, 0)


def test_a_zero_minute_bake_window_closes_as_soon_as_the_deploy_completes() -> None:
    # Given a deploy that completed a second ago, and a 0-minute bake
    state = state_with(
        latest=deployment(7, DeploymentState.COMPLETED, finished_at=NOW - timedelta(seconds=1))
    )

    # When the bake window is checked
    # Then it is closed
    assert not state.in_bake_window(NOW, 0)


@pytest.mark.parametrize(
    ("latest", "expected"),
    [
        (deployment(7, DeploymentState.COMPLETED, finished_at=NOW), NOW),
        (deployment(7), None),
        (deployment(7, DeploymentState.FAILED, finished_at=NOW), None),
        (None, None),
    ],
)
def test_completed_at_is_when_the_latest_deployment_completed_if_it_did(
    latest: Deployment | None, expected: datetime | None
) -> None:
    # Given a state with this latest deployment
    state = state_with(latest=latest)

    # When its completion time is asked for
    # Then only a completed deployment has one
    assert state.completed_at() == expected


# Digests.


def test_known_good_digests_come_from_its_pinned_images() -> None:
    # Given a known-good revision with an app and a sidecar pinned by digest
    good = known_good(7)

    # When its digests are read
    # Then both are there
    assert good.digests == frozenset({digest(7), SIDECAR_DIGEST})


def test_digests_of_reads_digests_and_ignores_tags_and_unreadable_images() -> None:
    # Given images pinned by digest, by tag and digest, by tag only, and unreadable
    images = [
        app(digest(7)),
        f"{REGISTRY}/log-router:2.31@{SIDECAR_DIGEST}",
        f"{REGISTRY}/web:main",
        "not an image",
    ]

    # When their digests are read
    # Then only the pinned ones count
    assert digests_of(images) == frozenset({digest(7), SIDECAR_DIGEST})


def test_pinned_images_keeps_only_images_pinned_by_digest_sorted() -> None:
    # Given a mix of pinned and tagged images, out of order
    images = (app(digest(7)), f"{REGISTRY}/web:main", sidecar(), "nginx:1.25")

    # When the pinned ones are picked
    # Then they are kept, sorted, and the tagged ones are dropped
    assert pinned_images(images) == (sidecar(), app(digest(7)))

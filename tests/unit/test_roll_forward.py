"""An operator's `rollback --to` a newer revision rolls forward: what it leaves is not shown
bad, so it is quarantined only with `--quarantine`."""

from __future__ import annotations

from autopilot.domain.rollback import decide_operator_rollback
from autopilot.models.actions import RollbackRequest
from tests.unit.test_rollback import (
    NOTHING_QUARANTINED,
    after_completed_deploy,
    digest,
    known_good,
    rolled_back,
    service,
)


def test_rolling_forward_quarantines_nothing_by_default() -> None:
    # Given a service running 7 and an operator naming the newer revision 9
    requested = known_good(9, source="operator")

    # When the roll-forward is decided without --quarantine
    decision = decide_operator_rollback(
        service(running=7),
        after_completed_deploy(),
        NOTHING_QUARANTINED,
        frozenset({digest(7)}),
        requested,
    )

    # Then it goes to 9 and 7's image stays deployable
    assert rolled_back(decision).target == requested
    assert rolled_back(decision).bad_digests == ()


def test_rolling_forward_with_quarantine_quarantines_what_it_leaves() -> None:
    # Given the same roll-forward, with --quarantine
    decision = decide_operator_rollback(
        service(running=7),
        after_completed_deploy(),
        NOTHING_QUARANTINED,
        frozenset({digest(7)}),
        known_good(9, source="operator"),
        quarantine_forward=True,
    )

    # Then 7's image is quarantined
    assert rolled_back(decision).bad_digests == (digest(7),)


def test_rolling_back_to_an_older_revision_still_quarantines() -> None:
    # Given --to an older revision, without --quarantine
    decision = decide_operator_rollback(
        service(running=7),
        after_completed_deploy(),
        NOTHING_QUARANTINED,
        frozenset({digest(7)}),
        known_good(3, source="operator"),
    )

    # Then what it leaves is bad, as before
    assert rolled_back(decision).bad_digests == (digest(7),)


def test_the_request_carries_the_operators_choice_and_defaults_to_no() -> None:
    fields = {
        "action_id": "a",
        "service_arn": "arn:aws:ecs:us-east-1:123456789012:service/shop/web",
        "trigger": "operator",
        "trigger_id": "me",
        "trigger_time": "2026-11-20T10:00:00Z",
        "automatic": False,
        "to_revision": "9",
    }
    assert RollbackRequest.parse(fields).quarantine is False
    assert RollbackRequest.parse({**fields, "quarantine": True}).quarantine is True

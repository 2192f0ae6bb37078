"""Ledger action ids: one per trigger, service and kind of action, stable across redeliveries."""

from __future__ import annotations

import re

import pytest

from autopilot.domain.ledger import action_id

TRIGGER = "3f1c0a52-7c5e-4d0e-9a57-2a9d8e0b6c11"
SERVICE = "arn:aws:ecs:eu-west-1:123456789012:service/prod/web"


def test_action_id_is_stable_for_the_same_trigger_service_and_kind() -> None:
    # Given one event delivered twice for the same service
    # When the action id is computed each time
    first = action_id(TRIGGER, SERVICE, "deploy")
    second = action_id(TRIGGER, SERVICE, "deploy")

    # Then both deliveries map to the same action, a fixed-length hex id
    assert first == second
    assert re.fullmatch(r"[0-9a-f]{32}", first)


def test_action_id_does_not_change_between_processes_or_releases() -> None:
    # Given the inputs of an action recorded earlier (ids are stored in the ledger and used
    # as SQS deduplication ids, so a redelivery after a cold start or deploy must match)
    # When the id is computed now
    recomputed = action_id(TRIGGER, SERVICE, "deploy")

    # Then it is the id recorded then
    assert recomputed == "d18b6402bc0804c9fd5784fbbd07f262"


@pytest.mark.parametrize(
    ("trigger", "service", "kind"),
    [
        ("1b4e28ba-2fa1-11d2-883f-0016d3cca427", SERVICE, "deploy"),
        (TRIGGER, "arn:aws:ecs:eu-west-1:123456789012:service/prod/api", "deploy"),
        (TRIGGER, "arn:aws:ecs:eu-west-1:123456789012:service/staging/web", "deploy"),
        (TRIGGER, SERVICE, "rollback"),
        (SERVICE, TRIGGER, "deploy"),
    ],
)
def test_action_id_differs_when_trigger_service_or_kind_differs(
    trigger: str, service: str, kind: str
) -> None:
    # Given the action for one trigger, service and kind
    reference = action_id(TRIGGER, SERVICE, "deploy")

    # When any of the three differs
    other = action_id(trigger, service, kind)

    # Then it is another action
    assert other != reference

"""ECS task placement failures end to end: `autopilot local send` with the event in the shape
AWS documents, against a moto server (moto emits no ECS service action events)."""

from __future__ import annotations

from pathlib import Path

from tests.e2e.harness import Moto
from tests.e2e.test_local_send_rollback import sample

LEGACY = "arn:aws:ecs:us-east-1:123456789012:service/prod/web-legacy"


def test_a_placement_failure_is_told_once_an_hour_and_only_for_opted_in_services(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    moto.tmp = tmp_path
    # Given the demo fleet (prod/web opted in), and ECS's placement failure event for prod/web
    # When it is sent
    first = moto.send("events/ecs_service_placement_failure.json")

    # Then the failure is recorded as notified, and on-call is told, with ECS's reason
    assert first.code == 0, first.stderr
    assert first.outcome("prod/web") == "notified"
    [told] = [n for n in first.of_type("notification") if "prod/web" in n["subject"]]
    assert "cannot place tasks" in told["subject"]

    # When ECS reports it again minutes later (another event)
    again = moto.send(sample(moto, "ecs_service_placement_failure.json", "again", {}))

    # Then nobody is told again
    assert again.code == 0, again.stderr
    assert not [n for n in again.of_type("notification") if "prod/web" in n["subject"]]

    # When ECS reports a placement failure of prod/web-legacy, which did not opt in
    legacy = moto.send(
        sample(moto, "ecs_service_placement_failure.json", "legacy", {}, resources=[LEGACY])
    )

    # Then the event is ignored: no action, no notification
    assert legacy.code == 0, legacy.stderr
    [ignored] = legacy.of_type("ignored")
    assert "no opted-in service" in ignored["reason"]
    assert legacy.of_type("notification") == []

"""Schedule documents through `autopilot local send`, end to end, against a moto server."""

from __future__ import annotations

from autopilot.local import fleet
from tests.e2e.harness import ROOT, Moto

EVENTS = ROOT / "events"
STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"


def capacity(moto: Moto, arn: str) -> tuple[int, tuple[int, int, bool] | None]:
    with moto.app.aws_environment():
        return fleet.desired_count(arn), fleet.scalable_target(arn)


def test_the_park_and_unpark_documents_restore_the_group_exactly(
    moto: Moto, services: dict[str, str]
) -> None:
    # Given staging/web running 2 tasks and scaling between 1 and 4
    before = capacity(moto, STAGING_WEB)

    # When the documented park document is sent
    parked = moto.send(EVENTS / "schedule_park.json")

    # Then both members of the nightly group are parked, one line each
    assert parked.code == 0, parked.stderr
    assert {line["service"]: line["outcome"] for line in parked.of_type("action")} == {
        "staging/web": "applied",
        "staging/worker": "applied",
    }
    assert capacity(moto, STAGING_WEB) == (0, (0, 0, True))

    # When the unpark document is sent
    unparked = moto.send(EVENTS / "schedule_unpark.json")

    # Then the capacity is back exactly, and the ledger line carries the parked hours
    assert capacity(moto, STAGING_WEB) == before
    [web] = [line for line in unparked.of_type("action") if line["service"] == "staging/web"]
    assert "hours_parked" in web


def test_the_peak_document_sets_capacity_and_schedules_its_own_end(
    moto: Moto, services: dict[str, str]
) -> None:
    # When the documented peak document is sent
    result = moto.send(EVENTS / "schedule_scale.json")

    # Then prod/api runs at least 6 tasks within 6..30, and its end is scheduled in UTC
    assert result.outcome("prod/api") == "applied"
    api = services["prod/api"]
    desired, target = capacity(moto, api)
    assert desired == 6
    assert target is not None
    assert target[:2] == (6, 30)
    moto.app.ensure_resources()
    [restore] = moto.app.schedules()
    assert restore["expression"] == "at(2026-11-27T22:00:00)"
    assert restore["input"]["action"] == "restore"

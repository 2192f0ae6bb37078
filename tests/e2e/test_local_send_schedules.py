"""Schedule documents through `autopilot local send`, end to end, against a moto server."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from autopilot.adapters.ledger import Ledger
from autopilot_tools.local import fleet
from tests.e2e.harness import ROOT, Moto

EVENTS = ROOT / "events"
STAGING_WEB = "arn:aws:ecs:us-east-1:123456789012:service/staging/web"
STAGING_WORKER = "arn:aws:ecs:us-east-1:123456789012:service/staging/worker"


def capacity(moto: Moto, arn: str) -> tuple[int, tuple[int, int, bool] | None]:
    with moto.app.aws_environment():
        return fleet.desired_count(arn), fleet.scalable_target(arn)


def kinds_recorded(moto: Moto, arn: str) -> list[tuple[str, str]]:
    """(kind, outcome) of every ledger entry of the service, newest first."""
    moto.app.ensure_resources()  # the resources' names, in this process
    with moto.app.aws_environment():
        history = Ledger(moto.app.physical("LedgerTable")["Ref"], 1).history(arn)
    return [(e.kind, e.outcome.value) for e in history]


def document(tmp: Path, name: str, **fields: object) -> Path:
    """A copy of events/schedule_<name>.json with some fields replaced (None: left out),
    written to `tmp`."""
    body = {**json.loads((EVENTS / f"schedule_{name}.json").read_text()), **fields}
    body = {k: v for k, v in body.items() if v is not None}
    path = tmp / f"{name}-{len(list(tmp.iterdir()))}.json"
    path.write_text(json.dumps(body))
    return path


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


def test_a_park_scheduler_delivers_again_with_a_new_execution_id_changes_nothing_new(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given the park schedule's delivery, and Scheduler's retry of that same firing (same
    # schedule and scheduled time; a new execution id, as Scheduler gives every attempt)
    first = EVENTS / "schedule_park.json"
    retry = document(tmp_path, "park", execution_id="5d0f0c3e-9b7a-4e21-a8c4-7f61d2e0b9aa")

    # When both are sent
    parked = moto.send(first)
    again = moto.send(retry)

    # Then the retry is the same trigger: the same actions, already done, so the retry
    # reports the very entries of the first (SQS deduplication drops it within five minutes;
    # later, and under moto, the ledger does), and no second park is recorded
    assert parked.code == 0, parked.stderr
    assert again.code == 0, again.stderr

    def entry(line: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in line.items() if k not in {"replay", "reason"}}

    assert [entry(line) for line in again.of_type("action")] == [
        entry(line) for line in parked.of_type("action")
    ]
    # And `local send` labels them as the replay they are
    assert all(line["replay"] is True for line in again.of_type("action"))
    schedule = json.loads(first.read_text())["schedule_arn"]
    assert {line["trigger_id"] for line in parked.of_type("action")} == {
        f"{schedule}@2026-11-20T19:00:00Z"
    }
    assert kinds_recorded(moto, STAGING_WEB) == [("park", "applied")]
    assert kinds_recorded(moto, STAGING_WORKER) == [("park", "applied")]


def test_the_peak_document_sets_capacity_and_schedules_its_own_end(
    moto: Moto, services: dict[str, str]
) -> None:
    # When the documented peak document (4 hours from now) is sent
    sent_at = datetime.now(UTC).replace(microsecond=0)
    result = moto.send(EVENTS / "schedule_scale.json")
    done_at = datetime.now(UTC)

    # Then prod/api runs at least 6 tasks within 6..30
    assert result.outcome("prod/api") == "applied", result.stderr
    api = services["prod/api"]
    desired, target = capacity(moto, api)
    assert desired == 6
    assert target is not None
    assert target[:2] == (6, 30)
    # And its end is scheduled in UTC, 4 hours on, delivering the restore to that service
    moto.app.ensure_resources()
    [restore] = moto.app.schedules()
    end = datetime.strptime(restore["expression"], "at(%Y-%m-%dT%H:%M:%S)").replace(tzinfo=UTC)
    assert sent_at + timedelta(hours=4) <= end <= done_at + timedelta(hours=4)
    assert restore["input"]["action"] == "restore"
    assert restore["input"]["service_arn"] == api
    assert restore["input"]["schedule_arn"] == "<aws.scheduler.schedule-arn>"


def test_a_peak_whose_end_has_passed_is_refused_and_changes_nothing(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given prod/api's capacity, and a peak document whose end was an hour ago
    api = services["prod/api"]
    before = capacity(moto, api)
    ended = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    late = document(tmp_path, "scale", hours=None, until=ended)

    # When it is sent
    result = moto.send(late)

    # Then it is refused with its reason, nothing changed, and no schedule was created
    assert result.code == 0, result.stderr
    assert result.outcome("prod/api") == "until-passed"
    assert capacity(moto, api) == before
    moto.app.ensure_resources()
    assert moto.app.schedules() == []
    assert kinds_recorded(moto, api) == [("scale", "skipped")]

"""Every file in events/ does something an operator can see, against a fresh `autopilot local
seed`: the tour events/README.md describes, run exactly as written there."""

from __future__ import annotations

import json
from typing import Any

from tests.e2e.harness import ROOT, Moto, Result

EVENTS = ROOT / "events"

# (file, service, what its line says): in the order of events/README.md's tour. The outcome is
# the action's code when it has one, else its outcome; `ignored` for an event refused with a
# reason. Schedule documents carry no event id: their lines are found by the action's kind.
TOUR: tuple[tuple[str, str, str], ...] = (
    ("ecr_image_push.json", "prod/web", "deployed"),
    ("ecr_image_push.json", "staging/web", "deployed"),
    ("ecr_image_push_semver.json", "prod/api", "deployed"),
    ("ecr_image_push_untagged.json", "", "ignored"),
    ("ecr_image_push_failed.json", "", "ignored"),
    ("ecr_image_delete.json", "", "ignored"),
    ("ecr_image_scan.json", "prod/payments", "scan-blocked"),
    ("inspector2_scan.json", "prod/payments", "scan-blocked"),
    ("ecs_deployment_completed.json", "prod/web", "not-ours"),
    ("ecs_deployment_failed.json", "prod/web", "not-ours"),
    ("codedeploy_deployment_success.json", "prod/payments", "not-ours"),
    ("codedeploy_deployment_failure.json", "prod/payments", "not-ours"),
    ("ecs_hook_awaiting_action.json", "prod/web", "nothing-waiting"),
    ("ecs_service_placement_failure.json", "prod/web", "notified"),
    ("cloudwatch_alarm_state_change.json", "prod/web", "rolled-back"),
    ("cloudwatch_alarm_metric_math.json", "prod/web", "already-rolled-back"),
    ("cloudwatch_alarm_composite.json", "prod/web", "already-rolled-back"),
    ("cloudwatch_alarm_ok.json", "prod/web", "nothing-held"),
    ("cloudwatch_alarm_target_tracking.json", "", "ignored"),
    ("schedule_park.json", "staging/web", "applied"),
    ("schedule_park.json", "staging/worker", "applied"),
    ("schedule_unpark.json", "staging/web", "applied"),
    ("schedule_scale.json", "prod/api", "applied"),
    ("ecs_api_call_update_service.json", "prod/web", "unchanged"),
    ("ecs_api_call_tag_resource.json", "prod/web-legacy", "not-opted-in"),
    ("ecs_api_call_untag_resource.json", "prod/web", "unchanged"),
    ("fleet_reindex.json", "", "reindexed"),
    # ECS's invocations of the canary lifecycle hook (prod/cart mid-deployment): what it answers
    ("ecs_lifecycle_hook_post_test_traffic_shift.json", "prod/cart", "IN_PROGRESS"),
    ("ecs_lifecycle_hook_post_test_traffic_shift_callback.json", "prod/cart", "SUCCEEDED"),
    ("ecs_lifecycle_hook_post_test_traffic_shift_callback.json", "prod/cart", "no-worse"),
    ("ecs_lifecycle_hook_production_traffic_shift_rollback.json", "prod/cart", "SUCCEEDED"),
)
# What the fleet index function says of a service (its result line), or of a reindex.
INDEX_FILES = {
    "ecs_api_call_update_service.json",
    "ecs_api_call_tag_resource.json",
    "ecs_api_call_untag_resource.json",
    "fleet_reindex.json",
}
SCHEDULE_KINDS = {
    "schedule_park.json": "park",
    "schedule_unpark.json": "unpark",
    "schedule_scale.json": "scale",
}


def said(result: Result, file: str, service: str, expected: str = "") -> str | None:
    """What the send printed about `file` (and `service`), as the tour's third column."""
    body = json.loads((EVENTS / file).read_text())
    event_id = body.get("id", "")
    if "lifecycleStage" in body:
        return _hook_said(result, body, service, expected)
    if file in INDEX_FILES:
        return _index_said(result, event_id, service)
    for line in result.lines:
        mine = (
            line.get("kind") == SCHEDULE_KINDS[file]
            if file in SCHEDULE_KINDS
            else event_id in {line.get("event"), line.get("trigger_id")}
        )
        if not mine:
            continue
        if line["type"] == "ignored" and not service:
            return "ignored"
        if line["type"] == "action" and line["service"] == service:
            return str(line.get("code") or line["outcome"])
    return None


def _hook_said(result: Result, body: dict[str, Any], service: str, expected: str) -> str | None:
    """The hook's answer to ECS (`hookStatus`: the tour writes it in capitals), or else the
    code of the verdict the executor recorded. A call back shares its first call's execution:
    of their answers, the one the tour names, if given."""
    execution, stage = body["executionId"], body["lifecycleStage"]
    mine = [line for line in result.lines if line.get("service") == service]
    if expected.isupper():
        answers = [
            str(line.get("hookStatus"))
            for line in mine
            if line["type"] == "hook" and (line["execution"], line["stage"]) == (execution, stage)
        ]
        return expected if expected in answers else next(iter(answers), None)
    for line in mine:
        if line["type"] == "action" and line.get("trigger_id") == execution:
            return str(line.get("code") or line["outcome"])
    return None


def _index_said(result: Result, event_id: str, service: str) -> str | None:
    for line in result.of_type("result"):
        if line["function"] != "FleetIndexFunction" or line["event"] != event_id:
            continue
        if not service and "reindexed" in line:
            return "reindexed"
        for status in ("indexed", "removed", "unchanged", "not_opted_in"):
            if any(arn.endswith(f":service/{service}") for arn in line.get(status, [])):
                return status.replace("_", "-")
    return None


def test_every_sample_event_has_a_visible_outcome_against_a_fresh_seed(moto: Moto) -> None:
    # Given a fresh `autopilot local seed`, and build 2 of web pushed without its event
    assert moto.autopilot("local", "seed").code == 0
    pushed = moto.autopilot("local", "push", "web", "main", "--no-event")
    assert pushed.of_type("pushed")[0]["build"] == 2

    # When every sample is sent, in the tour's order
    files = list(dict.fromkeys(file for file, _, _ in TOUR))
    result = moto.send(*[f"events/{file}" for file in files])

    # Then each prints what it did, and the whole tour succeeds
    assert result.code == 0, result.stderr
    seen = [
        (file, service, said(result, file, service, expected)) for file, service, expected in TOUR
    ]
    assert seen == list(TOUR)
    assert "Traceback" not in result.stderr


def test_the_tour_covers_every_file_in_events(moto: Moto) -> None:
    # Given the samples folder
    samples = {path.name for path in EVENTS.glob("*.json")}

    # When the tour and the refused sample are set aside
    toured = {file for file, _, _ in TOUR} | {"ecr_pull_through_cache.json"}

    # Then nothing is left out
    assert samples == toured


def test_the_pull_through_cache_sample_is_refused_in_one_line(moto: Moto) -> None:
    # Given a fresh seed
    assert moto.autopilot("local", "seed").code == 0

    # When the pull-through-cache sample (with AWS's impossible date) is sent
    result = moto.send("events/ecr_pull_through_cache.json")

    # Then it is refused with one line naming the date, and exit code 1
    assert result.code == 1
    assert "2023-02-29T02:36:48Z" in result.stderr
    assert "Traceback" not in result.stderr

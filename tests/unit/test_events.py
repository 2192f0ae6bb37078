"""EventBridge events at the edge: the documented sample events parse, and only pushes and scans
that something can follow turn into work."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult
from autopilot.models.base import Invalid, Model
from autopilot.models.events import (
    AlarmStateChangeEvent,
    CodeDeployStateChangeEvent,
    EcrImageActionEvent,
    EcsDeploymentStateChangeEvent,
    EcsHookStateChangeEvent,
    EventBridgeEvent,
    IgnoredEvent,
    ImageScanEvent,
    ScheduleDocument,
    image_push,
    scanned_images,
)
from autopilot.models.lifecycle_hook import LifecycleHookInvocation
from autopilot.workflows.fleet_index import EcsApiCallEvent
from autopilot.workflows.placement_action import EcsServiceActionEvent

EVENTS = Path(__file__).resolve().parents[2] / "events"
WEB_DIGEST = "sha256:6bd9f88b6968b1959768ce8f3737bf0a317fb697390af293308504b6558bf925"
PAYMENTS_DIGEST = "sha256:bb6b6d1d10f7f9dd7c92f4f2b4b0e25ed9d8bf50b0bcd5548355f09d0fe495ee"
PROD_WEB = {"ClusterName": "prod", "ServiceName": "web"}


def sample(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return body


def push_event(**detail: object) -> EcrImageActionEvent:
    """The documented push sample, with some detail fields replaced (None removes one)."""
    body = sample("ecr_image_push.json")
    body["detail"].update(detail)
    body["detail"] = {k: v for k, v in body["detail"].items() if v is not None}
    return EcrImageActionEvent.parse(body)


def scan_event(name: str = "ecr_image_scan.json", /, **detail: object) -> ImageScanEvent:
    body = sample(name)
    body["detail"].update(detail)
    return ImageScanEvent.parse(body)


# Every sample file parses with its model.

SCHEDULE_DOCUMENTS = ["schedule_park.json", "schedule_unpark.json", "schedule_scale.json"]
# What the reindex schedule delivers to the fleet index function.
INDEX_DOCUMENTS = ["fleet_reindex.json"]
# AWS's samples that no function takes, kept to check what the local runner answers.
UNTAKEN_SAMPLES = ["ecr_pull_through_cache.json"]
# What ECS invokes the canary lifecycle hook with (not EventBridge events: no envelope).
HOOK_INVOCATIONS = [
    "ecs_lifecycle_hook_post_test_traffic_shift.json",
    "ecs_lifecycle_hook_post_test_traffic_shift_callback.json",
    "ecs_lifecycle_hook_production_traffic_shift_rollback.json",
]
SAMPLES: list[tuple[str, type[Model]]] = [
    ("ecs_service_placement_failure.json", EcsServiceActionEvent),
    ("ecr_image_push.json", EcrImageActionEvent),
    ("ecr_image_push_semver.json", EcrImageActionEvent),
    ("ecr_image_delete.json", EcrImageActionEvent),
    ("ecr_image_push_failed.json", EcrImageActionEvent),
    ("ecr_image_push_untagged.json", EcrImageActionEvent),
    ("ecr_image_scan.json", ImageScanEvent),
    ("inspector2_scan.json", ImageScanEvent),
    ("ecs_deployment_completed.json", EcsDeploymentStateChangeEvent),
    ("ecs_deployment_failed.json", EcsDeploymentStateChangeEvent),
    ("ecs_hook_awaiting_action.json", EcsHookStateChangeEvent),
    ("codedeploy_deployment_success.json", CodeDeployStateChangeEvent),
    ("codedeploy_deployment_failure.json", CodeDeployStateChangeEvent),
    ("cloudwatch_alarm_state_change.json", AlarmStateChangeEvent),
    ("cloudwatch_alarm_metric_math.json", AlarmStateChangeEvent),
    ("cloudwatch_alarm_composite.json", AlarmStateChangeEvent),
    ("cloudwatch_alarm_ok.json", AlarmStateChangeEvent),
    ("cloudwatch_alarm_target_tracking.json", AlarmStateChangeEvent),
    ("ecs_api_call_update_service.json", EcsApiCallEvent),
    ("ecs_api_call_tag_resource.json", EcsApiCallEvent),
    ("ecs_api_call_untag_resource.json", EcsApiCallEvent),
]


@pytest.mark.parametrize(("name", "model"), SAMPLES)
def test_each_sample_event_parses_with_its_model(name: str, model: type[Model]) -> None:
    # Given a documented sample event
    body = sample(name)

    # When it is parsed with the model for its detail-type
    event = model.parse(body)

    # Then it parses, keeping the envelope's id and source
    assert isinstance(event, model)
    assert getattr(event, "id", None) == body["id"]
    assert getattr(event, "source", None) == body["source"]


def test_every_sample_file_is_covered() -> None:
    # Given the sample events directory
    # When its JSON files are listed
    names = {path.name for path in EVENTS.glob("*.json")}

    # Then each one is in the table above (a new sample needs a model and a line there)
    documents = set(SCHEDULE_DOCUMENTS) | set(INDEX_DOCUMENTS) | set(HOOK_INVOCATIONS)
    assert names == {name for name, _ in SAMPLES} | documents | set(UNTAKEN_SAMPLES)


@pytest.mark.parametrize("name", HOOK_INVOCATIONS)
def test_each_lifecycle_hook_sample_parses_in_the_documented_shape(name: str) -> None:
    # Given a sample of what ECS sends the canary hook
    body = sample(name)

    # When it is parsed as the hook parses it
    invocation = LifecycleHookInvocation.parse(body)

    # Then the deployment's facts are under executionDetails, naming prod/cart
    assert invocation.executionDetails.serviceArn.endswith(":service/prod/cart")
    assert invocation.executionId == body["executionId"]


def test_the_documented_pull_through_cache_sample_has_a_time_that_does_not_exist() -> None:
    # Given AWS's pull-through-cache sample, kept exactly as documented
    body = sample("ecr_pull_through_cache.json")

    # When its envelope is parsed the way every handler parses one
    # Then its time (29 February 2023) is refused
    with pytest.raises(Invalid, match="time"):
        EventBridgeEvent.parse(body)


@pytest.mark.parametrize("name", SCHEDULE_DOCUMENTS)
def test_each_sample_schedule_document_parses(name: str) -> None:
    # Given a schedule document as Scheduler delivers it (no EventBridge envelope)
    # When it is parsed
    document = ScheduleDocument.parse(sample(name))

    # Then it names its action and group
    assert document.action in {"park", "unpark", "scale"}
    assert document.group


@pytest.mark.parametrize(
    ("name", "model"),
    [
        ("ecr_image_push.json", EcsDeploymentStateChangeEvent),
        ("ecs_deployment_completed.json", EcrImageActionEvent),
        ("cloudwatch_alarm_state_change.json", ImageScanEvent),
        ("inspector2_scan.json", AlarmStateChangeEvent),
    ],
)
def test_an_event_does_not_parse_as_another_kind(name: str, model: type[Model]) -> None:
    # Given a sample of one detail-type
    # When it is parsed with another's model
    # Then it is refused
    with pytest.raises(Invalid, match=r"Invalid enum value .* - at `\$.detail-type`"):
        model.parse(sample(name))


def test_the_deployment_events_carry_what_tracking_needs() -> None:
    # Given the ECS deployment samples
    completed = EcsDeploymentStateChangeEvent.parse(sample("ecs_deployment_completed.json"))
    failed = EcsDeploymentStateChangeEvent.parse(sample("ecs_deployment_failed.json"))

    # When they are read
    # Then the service ARN, event name, deployment id and reason are there
    assert completed.resources == ["arn:aws:ecs:us-east-1:123456789012:service/prod/web"]
    assert completed.detail.eventName == "SERVICE_DEPLOYMENT_COMPLETED"
    assert completed.detail.deploymentId == "ecs-svc/1234567890123456789"
    assert failed.detail.eventName == "SERVICE_DEPLOYMENT_FAILED"
    assert "circuit breaker" in failed.detail.reason


@pytest.mark.parametrize(
    ("name", "state", "deployment_id"),
    [
        ("codedeploy_deployment_success.json", "SUCCESS", "d-7XQ2KJ4B1"),
        ("codedeploy_deployment_failure.json", "FAILURE", "d-9MZ4TW6C3"),
    ],
)
def test_the_codedeploy_events_carry_application_group_deployment_and_state(
    name: str, state: str, deployment_id: str
) -> None:
    # Given a CodeDeploy sample
    # When it is parsed
    event = CodeDeployStateChangeEvent.parse(sample(name))

    # Then the deployment it is about and its state are there
    assert event.detail.application == "AppECS-prod-payments"
    assert event.detail.deploymentGroup == "DgpECS-prod-payments"
    assert event.detail.deploymentId == deployment_id
    assert event.detail.state == state


# Alarms.


@pytest.mark.parametrize(
    ("name", "dimensions"),
    [
        ("cloudwatch_alarm_state_change.json", [PROD_WEB]),
        ("cloudwatch_alarm_ok.json", [PROD_WEB]),
        ("cloudwatch_alarm_metric_math.json", [PROD_WEB, PROD_WEB]),
        ("cloudwatch_alarm_composite.json", []),
    ],
)
def test_alarm_dimensions_are_those_of_every_metric_stat_entry(
    name: str, dimensions: list[dict[str, str]]
) -> None:
    # Given an alarm sample: single metric, metric math (an expression and two metrics),
    # or composite (a rule over other alarms, no metrics)
    event = AlarmStateChangeEvent.parse(sample(name))

    # When its dimensions are read
    # Then every metricStat entry contributes its own; expressions and rules none
    assert event.detail.dimensions() == dimensions


def test_an_alarm_event_names_the_alarm_its_state_and_arn() -> None:
    # Given the single-metric sample
    event = AlarmStateChangeEvent.parse(sample("cloudwatch_alarm_state_change.json"))

    # When it is read
    # Then the alarm's name, ARN and new state are there
    assert event.detail.alarmName == "prod-web-cpu-high"
    assert event.alarm_arn == "arn:aws:cloudwatch:us-east-1:123456789012:alarm:prod-web-cpu-high"
    assert event.detail.state.value == "ALARM"
    assert event.detail.previousState is not None
    assert event.detail.previousState.value == "OK"


def test_a_composite_alarm_keeps_its_rule() -> None:
    # Given the composite sample
    event = AlarmStateChangeEvent.parse(sample("cloudwatch_alarm_composite.json"))

    # When it is read
    # Then its rule is kept and it has no metrics
    assert event.detail.configuration.alarmRule is not None
    assert 'ALARM("prod-web-cpu-high")' in event.detail.configuration.alarmRule
    assert event.detail.configuration.metrics == []


# Pushes.


def test_a_successful_tagged_push_becomes_an_image_push() -> None:
    # Given the documented push sample
    event = EcrImageActionEvent.parse(sample("ecr_image_push.json"))

    # When the push is read from it
    push = image_push(event)

    # Then every field comes from the event
    assert push == ImagePush(
        event_id="22b23c5b-918c-4193-a1ec-32e2983bfd4d",
        time=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        account="123456789012",
        region="us-east-1",
        repository="web",
        digest=WEB_DIGEST,
        tag="main",
    )


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("ecr_image_delete.json", "not a push"),
        ("ecr_image_push_failed.json", "FAILURE"),
        ("ecr_image_push_untagged.json", "no tag"),
    ],
)
def test_samples_that_are_not_deployable_pushes_are_ignored(name: str, why: str) -> None:
    # Given a deletion, a failed push or an untagged push
    event = EcrImageActionEvent.parse(sample(name))

    # When the push is read from it
    # Then it is ignored, saying why
    with pytest.raises(IgnoredEvent, match=why):
        image_push(event)


@pytest.mark.parametrize(
    ("detail", "why"),
    [
        ({"image-tag": ""}, "no tag"),
        ({"image-digest": None}, "no image digest"),
        ({"action-type": "REPLICATE"}, "not a push"),
    ],
)
def test_a_push_without_a_tag_or_digest_is_ignored(detail: dict[str, object], why: str) -> None:
    # Given a push event with an empty tag, no digest, or another action
    event = push_event(**detail)

    # When the push is read from it
    # Then it is ignored: there is nothing to deploy
    with pytest.raises(IgnoredEvent, match=why):
        image_push(event)


def test_a_push_with_media_types_is_still_a_push() -> None:
    # Given a push that carries the media-type fields real events have
    event = push_event(
        **{
            "manifest-media-type": "application/vnd.oci.image.manifest.v1+json",
            "artifact-media-type": "application/vnd.oci.image.config.v1+json",
        }
    )

    # When the push is read from it
    # Then it is read like any other
    assert image_push(event).tag == "main"


# Scans.


def test_an_ecr_basic_scan_gives_each_tagged_image_and_the_result() -> None:
    # Given the basic scan sample for payments:main
    event = scan_event()

    # When the scanned images are read
    pushes, result = scanned_images(event)

    # Then the image comes once per tag, and the result carries the counts as sent
    assert [(p.repository, p.digest, p.tag) for p in pushes] == [
        ("payments", PAYMENTS_DIGEST, "main")
    ]
    assert pushes[0].event_id == event.id
    assert result == ScanResult("COMPLETE", {"HIGH": 1, "MEDIUM": 3, "LOW": 5})


def test_an_inspector2_scan_is_read_like_an_ecr_scan() -> None:
    # Given the enhanced scanning sample: repository by ARN, INITIAL_SCAN_COMPLETE, a TOTAL
    event = scan_event("inspector2_scan.json")

    # When the scanned images are read
    pushes, result = scanned_images(event)

    # Then the repository is its name, the scan is complete, and TOTAL is not a severity
    assert [p.repository for p in pushes] == ["payments"]
    assert result.status == "COMPLETE"
    assert dict(result.counts) == {"HIGH": 1, "MEDIUM": 3}


def test_a_repository_arn_with_a_namespace_keeps_the_whole_name() -> None:
    # Given an Inspector2 scan of a namespaced repository
    event = scan_event(
        "inspector2_scan.json",
        **{"repository-name": "arn:aws:ecr:us-east-1:123456789012:repository/team/web"},
    )

    # When the scanned images are read
    pushes, _ = scanned_images(event)

    # Then the repository name keeps its namespace
    assert pushes[0].repository == "team/web"


@pytest.mark.parametrize(
    ("name", "source", "repository"),
    [
        ("ecr_image_scan.json", "repository/web", "repository/web"),
        ("ecr_image_scan.json", "base-repository/web", "base-repository/web"),
        (
            "inspector2_scan.json",
            "arn:aws:ecr:us-east-1:123456789012:repository/base-repository/web",
            "base-repository/web",
        ),
    ],
)
def test_a_repository_name_containing_repository_slash_is_kept_whole(
    name: str, source: str, repository: str
) -> None:
    # Given a scan of a repository whose own name contains "repository/"
    event = scan_event(name, **{"repository-name": source})

    # When the scanned images are read
    pushes, _ = scanned_images(event)

    # Then the repository is that name, not its last path segment
    assert pushes[0].repository == repository


def test_an_image_with_several_tags_is_followed_once_per_tag() -> None:
    # Given a scanned image carrying two tags
    event = scan_event(**{"image-tags": ["main", "1.4.2"]})

    # When the scanned images are read
    pushes, _ = scanned_images(event)

    # Then each tag is a push of the same digest
    assert [(p.tag, p.digest) for p in pushes] == [
        ("main", PAYMENTS_DIGEST),
        ("1.4.2", PAYMENTS_DIGEST),
    ]


@pytest.mark.parametrize("status", ["FAILED", "UNSUPPORTED_IMAGE", "ACTIVE"])
def test_a_scan_that_did_not_complete_keeps_its_status(status: str) -> None:
    # Given a scan event whose scan did not complete
    event = scan_event(**{"scan-status": status})

    # When the scanned images are read
    _, result = scanned_images(event)

    # Then the status is kept, so the gate holds the image
    assert result.status == status


def test_a_scan_of_an_untagged_image_is_ignored() -> None:
    # Given a scan of an image without tags
    event = scan_event(**{"image-tags": []})

    # When the scanned images are read
    # Then there is nothing to follow
    with pytest.raises(IgnoredEvent, match="no tag"):
        scanned_images(event)

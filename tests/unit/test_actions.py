"""Messages on the actions queue: each request kind survives the queue and comes back as itself."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from autopilot.domain.fleet import ImagePush
from autopilot.domain.scan import ScanResult
from autopilot.models.actions import (
    ActionRequest,
    DeployRequest,
    OperatorRequest,
    RollbackRequest,
    TrackRequest,
    parse_action,
)

SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
ACTION_ID = "d18b6402bc0804c9fd5784fbbd07f262"
DIGEST = "sha256:" + "6bd9f88b6968b195" * 4
TRIGGER_TIME = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
PUSH = ImagePush(
    event_id="22b23c5b-918c-4193-a1ec-32e2983bfd4d",
    time=TRIGGER_TIME,
    account="123456789012",
    region="us-east-1",
    repository="web",
    digest=DIGEST,
    tag="main",
)


def deploy(scan: ScanResult | None = None) -> DeployRequest:
    return DeployRequest(
        action_id=ACTION_ID,
        service_arn=SERVICE_ARN,
        trigger="ecr-scan" if scan else "ecr-push",
        trigger_id="evt-42",
        trigger_time=TRIGGER_TIME,
        push=PUSH,
        scan=scan,
    )


def track(result: str, reason: str = "") -> TrackRequest:
    return TrackRequest.parse(
        {
            "action_id": ACTION_ID,
            "service_arn": SERVICE_ARN,
            "trigger": "ecs-deployment",
            "trigger_id": "evt-43",
            "trigger_time": TRIGGER_TIME,
            "deployment_id": "ecs-svc/1234567890123456789",
            "result": result,
            "reason": reason,
        }
    )


def rollback(
    *, automatic: bool, alarm: str = "", to_revision: str | None = None
) -> RollbackRequest:
    return RollbackRequest(
        action_id=ACTION_ID,
        service_arn=SERVICE_ARN,
        trigger="alarm" if automatic else "operator",
        trigger_id="evt-44",
        trigger_time=TRIGGER_TIME,
        automatic=automatic,
        alarm=alarm,
        to_revision=to_revision,
    )


def operator(kind: str, digest: str | None = None) -> OperatorRequest:
    return OperatorRequest.parse(
        {
            "action_id": ACTION_ID,
            "service_arn": SERVICE_ARN,
            "trigger": "operator",
            "trigger_id": "req-1",
            "trigger_time": TRIGGER_TIME,
            "kind": kind,
            "digest": digest,
            "operator": "alice",
        }
    )


REQUESTS: list[ActionRequest] = [
    deploy(),
    deploy(ScanResult("COMPLETE", {"HIGH": 1, "MEDIUM": 3})),
    deploy(ScanResult("IN_PROGRESS")),
    track("completed"),
    track("failed", reason="ECS deployment circuit breaker: task failed to start."),
    track("stopped"),
    rollback(automatic=True, alarm="prod-web-cpu-high"),
    rollback(automatic=False, to_revision="web:6"),
    rollback(automatic=False),
    operator("pause"),
    operator("resume"),
    operator("release", digest=DIGEST),
]


@pytest.mark.parametrize("request_", REQUESTS, ids=lambda r: f"{r.kind}")
def test_each_request_kind_round_trips_through_json(request_: ActionRequest) -> None:
    # Given a request as a planner or an operator builds it
    # When it is sent as JSON and parsed back on the other side
    parsed = parse_action(request_.to_json())

    # Then it is the same request, of the same class
    assert type(parsed) is type(request_)
    assert parsed == request_


@pytest.mark.parametrize(
    ("kind", "cls"),
    [
        ("deploy", DeployRequest),
        ("track", TrackRequest),
        ("rollback", RollbackRequest),
        ("pause", OperatorRequest),
        ("resume", OperatorRequest),
        ("release", OperatorRequest),
    ],
)
def test_the_kind_picks_the_request_class(kind: str, cls: type[ActionRequest]) -> None:
    # Given a message of this kind
    message = next(r for r in REQUESTS if r.kind == kind)

    # When it is parsed
    parsed = parse_action(message.to_json())

    # Then it is the class for that kind
    assert isinstance(parsed, cls)
    assert parsed.kind == kind


def test_a_deploy_request_keeps_the_push_and_the_scan_as_domain_values() -> None:
    # Given a deploy request carrying a scan result
    request_ = deploy(ScanResult("COMPLETE", {"HIGH": 1}))

    # When it is sent and parsed back
    parsed = parse_action(request_.to_json())

    # Then push and scan are the domain's own types, with the trigger time still aware
    assert isinstance(parsed, DeployRequest)
    assert isinstance(parsed.push, ImagePush)
    assert parsed.push == PUSH
    assert isinstance(parsed.scan, ScanResult)
    assert parsed.scan.counts == {"HIGH": 1}
    assert parsed.trigger_time == TRIGGER_TIME
    assert parsed.trigger_time.tzinfo is not None


@pytest.mark.parametrize("kind", ["deploy-now", "", "PAUSE"])
def test_an_unknown_kind_is_refused(kind: str) -> None:
    # Given a message whose kind no request has
    body = json.loads(operator("pause").to_json())
    body["kind"] = kind

    # When it is parsed
    # Then it is refused
    with pytest.raises(ValueError, match="kind"):
        parse_action(json.dumps(body))

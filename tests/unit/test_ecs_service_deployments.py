"""The ECS adapter against ECS's own blue/green answers, replayed over HTTP (tests/unit/aws_wire.py)
so that botocore parses them as it parses AWS's: the strategy a service deploys with, its
service deployments with their revisions' task definitions, and the stop with rollback."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest

from autopilot.adapters.ecs import EcsGateway
from autopilot.domain.errors import ConflictError, PermanentFailureError
from autopilot.domain.service_deployments import ONGOING, ServiceDeployment
from tests.unit.aws_wire import RECORDED, Replay, error, json_answer, recorded

PREFIX = "arn:aws:ecs:us-east-1:123456789012"
WEB = f"{PREFIX}:service/prod/web"
DEPLOYMENT = f"{PREFIX}:service-deployment/prod/web/r9i43YFjvgF_xlg7m2eJ1r"
IN_FLIGHT = ServiceDeployment(
    arn=DEPLOYMENT,
    status="IN_PROGRESS",
    target=f"{PREFIX}:task-definition/web:43",
    sources=(f"{PREFIX}:task-definition/web:42",),
    created_at=datetime.fromtimestamp(1763999999.5, UTC),
    lifecycle_stage="TEST_TRAFFIC_SHIFT",
)
# Each recorded answer, and the operation that answers it.
ANSWERS = {
    "ecs_blue_green_service.json": "DescribeServices",
    "ecs_task_definition_web_43.json": "DescribeTaskDefinition",
    "ecs_list_service_deployments.json": "ListServiceDeployments",
    "ecs_service_deployment_in_progress.json": "DescribeServiceDeployments",
    "ecs_service_deployment_rolling_back.json": "DescribeServiceDeployments",
    "ecs_service_deployment_missing.json": "DescribeServiceDeployments",
    "ecs_service_revisions.json": "DescribeServiceRevisions",
    "ecs_stop_service_deployment.json": "StopServiceDeployment",
}


def _blue_green(replay: Replay) -> EcsGateway:
    """The adapter, having described prod/web mid-deployment (BLUE_GREEN)."""
    replay.queue("DescribeServices", recorded("ecs_blue_green_service.json"))
    replay.queue("DescribeTaskDefinition", recorded("ecs_task_definition_web_43.json"))
    return EcsGateway(replay.client("ecs"))


def _sent(replay: Replay, operation: str) -> list[dict[str, Any]]:
    return [json.loads(body) for name, body in replay.calls if name == operation]


def _unknown_fields(shape: Any, value: Any, path: str) -> list[str]:
    if shape.type_name == "structure":
        found = [f"{path}.{k}" for k in value if k not in shape.members]
        for key, item in value.items():
            if key in shape.members:
                found += _unknown_fields(shape.members[key], item, f"{path}.{key}")
        return found
    if shape.type_name == "list":
        return [f for item in value for f in _unknown_fields(shape.member, item, f"{path}[]")]
    if shape.type_name == "string" and shape.enum and value not in shape.enum:
        return [f"{path}={value}"]
    return []


@pytest.mark.parametrize(("answer", "operation"), ANSWERS.items())
def test_the_recorded_answers_are_in_the_shapes_of_the_ecs_api(answer: str, operation: str) -> None:
    # Given botocore's model of the ECS API (AWS's own, shipped with the SDK)
    model = boto3.client("ecs", region_name="us-east-1").meta.service_model
    output = model.operation_model(operation).output_shape

    # When a recorded answer is read against its operation's output shape
    body = json.loads((RECORDED / answer).read_text())

    # Then every field and enum value in it is one the API defines
    assert _unknown_fields(output, body, operation) == []


def test_a_service_says_which_strategy_it_deploys_with() -> None:
    # Given DescribeServices of a BLUE_GREEN service with a 10-minute bake time
    replay = Replay()

    # When the adapter describes it
    service = _blue_green(replay).describe_service(WEB)

    # Then the strategy and bake time are the service's, and it shifts traffic itself
    assert (service.strategy, service.bake_time_minutes) == ("BLUE_GREEN", 10)
    assert service.shifts_traffic
    assert service.rollout == "BLUE_GREEN"


def test_a_service_without_a_strategy_deploys_rolling() -> None:
    # Given a service whose deploymentConfiguration names no strategy (ECS's default)
    replay = Replay().queue("DescribeServices", recorded("ecs_active_and_missing.json"))
    replay.queue("DescribeTaskDefinition", recorded("ecs_task_definition.json"))

    # When the adapter describes it
    [web] = EcsGateway(replay.client("ecs")).describe_services([WEB])

    # Then it is a ROLLING service, with no bake time
    assert (web.strategy, web.bake_time_minutes, web.shifts_traffic) == ("ROLLING", None, False)


def test_the_deployment_in_flight_is_found_with_its_revisions_task_definitions() -> None:
    # Given ECS lists one deployment in flight, and describes it and its two revisions
    replay = Replay()
    ecs = _blue_green(replay)
    service = ecs.describe_service(WEB)
    replay.queue("ListServiceDeployments", recorded("ecs_list_service_deployments.json"))
    replay.queue("DescribeServiceDeployments", recorded("ecs_service_deployment_in_progress.json"))
    replay.queue("DescribeServiceRevisions", recorded("ecs_service_revisions.json"))

    # When the adapter asks for the service's ongoing deployments
    found = ecs.service_deployments(service, ONGOING)

    # Then it is that deployment, from web:42 to web:43
    assert found == [IN_FLIGHT]
    # asked by cluster, service and the not-completed statuses; then by ARNs
    [listed] = _sent(replay, "ListServiceDeployments")
    assert listed == {
        "cluster": f"{PREFIX}:cluster/prod",
        "service": WEB,
        "status": sorted(ONGOING),
    }
    assert _sent(replay, "DescribeServiceDeployments") == [{"serviceDeploymentArns": [DEPLOYMENT]}]
    [revisions] = _sent(replay, "DescribeServiceRevisions")
    assert len(revisions["serviceRevisionArns"]) == 2


def test_every_page_of_the_listing_is_read() -> None:
    # Given ListServiceDeployments answers in two pages, the second one empty
    replay = Replay()
    ecs = _blue_green(replay)
    service = ecs.describe_service(WEB)
    first = json.loads((RECORDED / "ecs_list_service_deployments.json").read_text())
    replay.queue("ListServiceDeployments", json_answer({**first, "nextToken": "page-2"}))
    replay.queue("ListServiceDeployments", json_answer({"serviceDeployments": []}))
    replay.queue("DescribeServiceDeployments", recorded("ecs_service_deployment_in_progress.json"))
    replay.queue("DescribeServiceRevisions", recorded("ecs_service_revisions.json"))

    # When the ongoing deployments are asked for
    found = ecs.service_deployments(service, ONGOING)

    # Then the second page was asked for with the token, and the deployment is found
    assert [p.get("nextToken") for p in _sent(replay, "ListServiceDeployments")] == [None, "page-2"]
    assert found == [IN_FLIGHT]


def test_a_service_deployment_is_read_again_by_its_arn() -> None:
    # Given ECS shows the deployment rolling back since a stop, and does not know another ARN
    replay = Replay()
    replay.queue("DescribeServiceDeployments", recorded("ecs_service_deployment_rolling_back.json"))
    replay.queue("DescribeServiceRevisions", recorded("ecs_service_revisions.json"))
    replay.queue("DescribeServiceDeployments", recorded("ecs_service_deployment_missing.json"))
    ecs = EcsGateway(replay.client("ecs"))

    # When each is read
    rolling_back, missing = ecs.service_deployment(DEPLOYMENT), ecs.service_deployment(DEPLOYMENT)

    # Then the first says so, with when its rollback started; the other is None
    assert rolling_back is not None
    assert rolling_back.status == "ROLLBACK_IN_PROGRESS"
    assert rolling_back.rollback_started_at == datetime.fromtimestamp(1764000300.0, UTC)
    assert missing is None


def test_a_stop_asks_for_a_rollback() -> None:
    # Given ECS accepts the stop
    replay = Replay().queue("StopServiceDeployment", recorded("ecs_stop_service_deployment.json"))

    # When the adapter stops the deployment
    EcsGateway(replay.client("ecs")).stop_service_deployment(DEPLOYMENT)

    # Then it asked for a ROLLBACK (not an ABORT) of exactly that deployment
    assert _sent(replay, "StopServiceDeployment") == [
        {"serviceDeploymentArn": DEPLOYMENT, "stopType": "ROLLBACK"}
    ]


@pytest.mark.parametrize(
    ("code", "raised"),
    [
        ("ConflictException", ConflictError),
        ("InvalidParameterException", PermanentFailureError),
        ("ServiceDeploymentNotFoundException", PermanentFailureError),
        ("UnsupportedFeatureException", PermanentFailureError),
    ],
)
def test_a_refused_stop_is_a_conflict_to_retry_or_a_request_never_to_repeat(
    code: str, raised: type[Exception]
) -> None:
    # Given ECS refuses the stop: the deployment's state changed (it completed meanwhile), or
    # the request itself is wrong
    replay = Replay().queue("StopServiceDeployment", error(code))

    # When / Then the adapter says which: a retry re-reads the deployment; the other never
    # succeeds
    with pytest.raises(raised):
        EcsGateway(replay.client("ecs")).stop_service_deployment(DEPLOYMENT)

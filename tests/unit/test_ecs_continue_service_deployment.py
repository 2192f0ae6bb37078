"""The adapter against ECS's wire format (answers replayed through a real boto3 client): a paused
deployment's PAUSE hook is read from DescribeServiceDeployments, ContinueServiceDeployment is
sent with the hook and the action, and a refusal is never retried."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import boto3
import pytest

from autopilot.adapters.ecs import EcsGateway
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.service_deployments import HookDetail
from tests.unit.aws_wire import RECORDED, Replay, error, recorded
from tests.unit.test_ecs_service_deployments import DEPLOYMENT, _unknown_fields

HOOK = "ecs-pause-e7tK9G_WRJqNF_EOMjztDXfKenlJuEUVjsNStf4WLKw"


@pytest.mark.parametrize(
    ("answer", "operation"),
    [
        ("ecs_service_deployment_paused.json", "DescribeServiceDeployments"),
        ("ecs_continue_service_deployment.json", "ContinueServiceDeployment"),
    ],
)
def test_the_recorded_answers_are_in_the_shapes_of_the_ecs_api(answer: str, operation: str) -> None:
    model = boto3.client("ecs", region_name="us-east-1").meta.service_model
    body = json.loads((RECORDED / answer).read_text())
    assert _unknown_fields(model.operation_model(operation).output_shape, body, operation) == []


def test_a_paused_deployment_shows_its_stage_and_its_hook() -> None:
    # Given ECS shows the deployment paused at its PAUSE hook
    replay = Replay()
    replay.queue("DescribeServiceDeployments", recorded("ecs_service_deployment_paused.json"))
    replay.queue("DescribeServiceRevisions", recorded("ecs_service_revisions.json"))

    # When the adapter reads it again by its ARN
    found = EcsGateway(replay.client("ecs")).service_deployment(DEPLOYMENT)

    # Then the stage and the hook are ECS's
    assert found is not None
    assert found.lifecycle_stage == "POST_TEST_TRAFFIC_SHIFT"
    assert found.hooks == (
        HookDetail(
            HOOK, "PAUSE", "AWAITING_ACTION", datetime.fromtimestamp(1764014640.0, UTC), "ROLLBACK"
        ),
    )


@pytest.mark.parametrize("action", ["CONTINUE", "ROLLBACK"])
def test_an_answer_names_the_deployment_the_hook_and_the_action(action: str) -> None:
    # Given ECS accepts the answer
    replay = Replay()
    replay.queue("ContinueServiceDeployment", recorded("ecs_continue_service_deployment.json"))

    # When the adapter answers the hook
    EcsGateway(replay.client("ecs")).continue_service_deployment(DEPLOYMENT, HOOK, action)

    # Then exactly that was sent
    sent = [json.loads(body) for name, body in replay.calls if name == "ContinueServiceDeployment"]
    assert sent == [{"serviceDeploymentArn": DEPLOYMENT, "hookId": HOOK, "action": action}]


@pytest.mark.parametrize(
    "code",
    [
        "ClientException",
        "InvalidParameterException",
        "ServiceDeploymentNotFoundException",
        "UnsupportedFeatureException",
    ],
)
def test_a_refused_answer_is_never_repeated(code: str) -> None:
    # Given ECS refuses the answer (the hook no longer awaits action, or the request is wrong)
    replay = Replay().queue("ContinueServiceDeployment", error(code))

    # When / Then the adapter says it will never succeed
    with pytest.raises(PermanentFailureError) as refused:
        EcsGateway(replay.client("ecs")).continue_service_deployment(DEPLOYMENT, HOOK, "CONTINUE")
    assert refused.value.code == "continue-refused"

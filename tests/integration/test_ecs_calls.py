"""The ECS calls an action costs, counted where botocore sends them (`before-call`), per function.

ECS throttles its APIs account-wide: every call the automation makes is one the teams' own
deploys and consoles cannot. Task definition revisions never change, so what one function read
(adapters/revisions.py) the next does not read again; the service itself is always read afresh
by the executor, which re-decides on what ECS shows now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.revisions import Revision, RevisionCache
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.session import send
from tests.integration.conftest import create_native_blue_green_service

WEB = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
FOLLOWERS = 2  # prod/web and staging/web follow web:main in the demo fleet
ROLLING_DEPLOY = Counter(
    {"DescribeServices": FOLLOWERS, "RegisterTaskDefinition": FOLLOWERS, "UpdateService": FOLLOWERS}
)


class EcsCalls:
    """Every ECS call the application's own client makes, by operation, until `take`n."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def __call__(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def take(self) -> Counter[str]:
        taken, self.calls = Counter(self.calls), []
        return taken


@pytest.fixture
def ecs_calls(app: LocalApp, services: dict[str, str]) -> Iterator[EcsCalls]:
    """Given the demo fleet, and the functions' ECS client counting its calls."""
    counter = EcsCalls()
    with app.aws_environment():
        client = clients.ecs()
    client.meta.events.register("before-call.ecs.*", counter)
    yield counter
    client.meta.events.unregister("before-call.ecs.*", counter)


def push_event(app: LocalApp, build: int) -> dict[str, Any]:
    with app.aws_environment():
        digest = fleet.push_image("web", "main", build)
    return sample_events.ecr_push("web", "main", digest)


def test_a_rolling_deploy_costs_the_executor_three_ecs_calls_per_service(
    app: LocalApp, ecs_calls: EcsCalls
) -> None:
    # Given a push of build 2 planned: the planner reads the services and the revisions they run
    app.invoke("EcrPushFunction", push_event(app, 2))
    planned = ecs_calls.take()
    assert planned["DescribeTaskDefinition"] >= FOLLOWERS

    # When the executor deploys it to both services that follow web:main
    app.drain()

    # Then each deploy cost DescribeServices, RegisterTaskDefinition and UpdateService: the
    # revision the service runs was not described again (the planner's read is in the ledger
    # table), nor the one registered (ECS's answer to the registration is kept)
    assert ecs_calls.take() == ROLLING_DEPLOY


def test_the_next_push_costs_the_planner_no_task_definition_read(
    app: LocalApp, ecs_calls: EcsCalls
) -> None:
    # Given build 2 deployed: both services run revisions the executor registered
    app.invoke("EcrPushFunction", push_event(app, 2))
    app.drain()
    ecs_calls.take()

    # When build 3 is pushed, planned and deployed
    app.invoke("EcrPushFunction", push_event(app, 3))
    planned = ecs_calls.take()
    app.drain()

    # Then the planner read the services only (the registered revisions, and their tags, are
    # as ECS answered the registration moments ago), and each deploy is three calls again
    assert "DescribeTaskDefinition" not in planned
    assert ecs_calls.take() == ROLLING_DEPLOY


def test_a_rollback_costs_the_executor_two_ecs_calls(app: LocalApp, ecs_calls: EcsCalls) -> None:
    # Given build 2 deployed and completed, and build 3 rolling out on prod/web
    send(app, [push_event(app, 2)])
    with app.aws_environment():
        latest = Ledger(app.physical("LedgerTable")["Ref"], 1).state(WEB).latest
    assert latest is not None
    send(app, [sample_events.ecs_deployment(WEB, latest.deployment_id)])
    send(app, [push_event(app, 3)])
    ecs_calls.take()

    # When prod/web's CPU alarm fires
    app.invoke("AlarmsFunction", sample_events.alarm("prod-web-cpu-high", "prod", "web", "ALARM"))
    ecs_calls.take()
    rolled_back = app.drain()

    # Then the executor rolled it back with DescribeServices and UpdateService: the known-good
    # revision's images were read from the ledger table's copy, not from ECS
    assert [m.succeeded for m in rolled_back] == [True]
    with app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=[WEB])
    assert running["services"][0]["taskDefinition"].endswith("task-definition/web:2")
    assert ecs_calls.take() == Counter({"DescribeServices": 1, "UpdateService": 1})


class BrokenCache(RevisionCache):
    """The ledger table throttling every read and write of the revision cache."""

    def __init__(self) -> None:
        super().__init__("unused")
        self.attempts = 0

    def get(self, arn: str) -> Revision | None:
        self.attempts += 1
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "GetItem")

    def put(self, arn: str, revision: Revision) -> bool:
        self.attempts += 1
        raise ClientError({"Error": {"Code": "ThrottlingException"}}, "PutItem")


def test_a_failing_revision_cache_falls_back_to_ecs(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the revision cache failing every read and write
    cache = BrokenCache()
    with app.aws_environment():
        client = boto3.client("ecs")
        calls = EcsCalls()
        client.meta.events.register("before-call.ecs.*", calls)
        ecs = EcsGateway(client, revisions=cache)

        # When a service and the tags of its revision are read
        service = ecs.describe_service(WEB)
        definition, tags = ecs.task_definition(service.task_definition_arn)

    # Then ECS answered (once for the revision: the process keeps what it read), the cache was
    # tried, and nothing failed
    assert definition["taskDefinitionArn"] == service.task_definition_arn
    assert isinstance(tags, list)
    assert cache.attempts == 2  # one read (a miss), one write (not stored)
    assert calls.take() == Counter({"DescribeServices": 1, "DescribeTaskDefinition": 1})


def test_a_revision_is_stored_without_its_mutable_fields_and_read_back(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given a revision described once by a function with the revision cache
    with app.aws_environment():
        table = app.physical("LedgerTable")["Ref"]
        first = EcsGateway(boto3.client("ecs"), revisions=RevisionCache(table))
        arn = first.describe_service(WEB).task_definition_arn
        shown = first.task_definition(arn)

        # When another function (another process: nothing in memory) reads it
        calls = EcsCalls()
        client = boto3.client("ecs")
        client.meta.events.register("before-call.ecs.*", calls)
        second = EcsGateway(client, revisions=RevisionCache(table))
        content = second.revision(arn)
        again = second.task_definition(arn)

    # Then it came from the table, as ECS showed it, but for its status (which changes)
    assert calls.take() == Counter()
    assert "status" not in content
    assert content == {k: v for k, v in shown[0].items() if k not in {"status", "deregisteredAt"}}
    assert again[1] == shown[1]


def test_a_blue_green_rollback_mid_deployment_stops_it_in_five_ecs_calls(
    app: LocalApp, ecs_calls: EcsCalls
) -> None:
    # Given prod/checkout, deployed by ECS's own BLUE_GREEN strategy, rolling out build 2
    checkout = create_native_blue_green_service(app, fleet.image("web", 1))
    send(app, [push_event(app, 2)])
    ecs_calls.take()

    # When its alarm fires
    app.invoke("AlarmsFunction", sample_events.alarm("checkout-5xx", "prod", "checkout", "ALARM"))
    ecs_calls.take()
    rolled_back = app.drain()

    # Then the executor found the deployment in flight, read its revisions and stopped it:
    # nothing registered, no UpdateService
    assert [m.succeeded for m in rolled_back] == [True]
    assert ecs_calls.take() == Counter(
        {
            "DescribeServices": 1,
            "ListServiceDeployments": 1,
            "DescribeServiceDeployments": 1,
            "DescribeServiceRevisions": 1,
            "StopServiceDeployment": 1,
        }
    )
    with app.aws_environment():
        running = boto3.client("ecs").describe_services(cluster="prod", services=[checkout])
    assert running["services"][0]["taskDefinition"].endswith("task-definition/checkout:1")

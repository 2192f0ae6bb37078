"""What planning a push costs in AWS calls as the opted-in fleet grows, counted at botocore's
`before-call` hook (every request the handlers' clients make, retries aside), against moto."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import pytest

from autopilot.adapters import clients
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp


@contextmanager
def counted_calls() -> Iterator[Counter[str]]:
    """`Service.Operation` -> how many requests the application's clients made meanwhile."""
    calls: Counter[str] = Counter()

    def count(event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        calls[f"{service}.{operation}"] += 1

    clients.reset()  # clients made from here on carry the hook
    clients.session().events.register("before-call", count)
    yield calls
    clients.reset()


def add_unrelated_services(app: LocalApp, count: int) -> None:
    """`count` opted-in services in prod following repositories no push here touches."""
    with app.aws_environment():
        ecs = boto3.client("ecs")
        revisions = [
            ecs.register_task_definition(
                family=f"other-{n}",
                containerDefinitions=[
                    {"name": "app", "image": f"{fleet.REGISTRY}/other-{n}:main", "memory": 256}
                ],
            )["taskDefinition"]["taskDefinitionArn"]
            for n in range(5)
        ]
        for n in range(count):
            ecs.create_service(
                cluster="prod",
                serviceName=f"other-{n}",
                taskDefinition=revisions[n % 5],
                desiredCount=1,
                tags=[{"key": "autopilot:track", "value": "tag:main"}],
            )


def push(app: LocalApp, repository: str, build: int) -> dict[str, Any]:
    with app.aws_environment():
        return sample_events.ecr_push(
            repository, "main", fleet.push_image(repository, "main", build)
        )


@pytest.mark.parametrize("unrelated", [25, 125, 1_000])
def test_planning_a_push_costs_the_same_whatever_the_size_of_the_fleet(
    app: LocalApp, services: dict[str, str], unrelated: int
) -> None:
    # Given the demo fleet plus `unrelated` opted-in services on other repositories, indexed
    add_unrelated_services(app, unrelated)
    assert app.invoke("FleetIndexFunction", {"action": "reindex"})["status"] == "handled"
    event = push(app, "web", 2)

    # When the push planner handles web:main's push event
    with counted_calls() as calls:
        result = app.invoke("EcrPushFunction", event)

    # Then it reads the index (the built marker, one Query), the two candidates' tags (one
    # GetResources), and describes them (one DescribeServices per cluster; each running
    # revision from the revision cache the reindex filled minutes ago, not from ECS): 3 calls,
    # plus 3 per service deployed (prod/web and staging/web), whatever the fleet's size
    assert [d["decision"] for d in result["decisions"]] == ["queued", "queued"]
    assert calls == {
        "dynamodb.GetItem": 3,
        "dynamodb.Query": 1,
        "resource-groups-tagging-api.GetResources": 1,
        "ecs.DescribeServices": 2,
        "sqs.SendMessage": 2,
    }


def test_a_push_of_a_repository_no_service_uses_asks_ecs_nothing(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the demo fleet, indexed, and a repository none of its services uses
    add_unrelated_services(app, 25)
    app.invoke("FleetIndexFunction", {"action": "reindex"})
    with app.aws_environment():
        boto3.client("ecr").create_repository(repositoryName="docs")
    event = push(app, "docs", 1)

    # When its push is planned
    with counted_calls() as calls:
        result = app.invoke("EcrPushFunction", event)

    # Then the index answers alone: no ECS call, no tagging call
    assert result["decisions"] == []
    assert calls == {"dynamodb.GetItem": 1, "dynamodb.Query": 1}


def test_the_first_push_builds_the_index_and_reads_no_unmanaged_service(
    app: LocalApp, services: dict[str, str]
) -> None:
    # Given the demo fleet, never indexed
    event = push(app, "web", 2)

    # When the first push is planned
    described: list[str] = []
    with counted_calls():
        clients.session().events.register(
            "provide-client-params.ecs.DescribeServices",
            lambda params, **_: described.extend(params["services"]),
        )
        result = app.invoke("EcrPushFunction", event)

    # Then it builds the index from the opted-in services, deploys from it, and never
    # describes the service that did not opt in
    assert {d["service"] for d in result["decisions"]} == {"prod/web", "staging/web"}
    assert services["prod/web-legacy"] not in described
    assert set(described) == {arn for label, arn in services.items() if label != "prod/web-legacy"}

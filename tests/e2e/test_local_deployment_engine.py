"""The local ECS deploys: pushes go out through ECS's own stages on the runner's clock
(`autopilot local tick`), ECS's events reach the automation on their own, and nothing is sent
by hand. A bad image is bad by its own properties in the local fleet (here: tasks that exit at
start), never by a switch. Canary analysis and approvals have files of their own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

from autopilot_tools.local import fleet
from tests.e2e.harness import Moto, clock, web_service
from tests.e2e.test_local_send_canary import T0, cart, minutes, push_cart
from tests.e2e.test_local_send_rollback import push

__all__ = ["cart"]  # the fixture, shared


def test_an_unanswered_approval_times_out_into_a_rollback(moto: Moto, cart: str) -> None:
    # Given build 2 of cart (CANARY, an approval gate of 60 minutes) waiting for approval
    push_cart(moto, 2)
    assert moto.tick(minutes(1)).code == 0

    # When nobody answers within the hook's 60 minutes
    expired = moto.tick(minutes(62))

    # Then ECS takes the hook's timeout action: a rollback, traffic never left cart:1
    assert [d["status"] for d in expired.of_type("deployment")] == [
        "ROLLBACK_IN_PROGRESS",
        "ROLLBACK_SUCCESSFUL",
    ]
    with moto.app.aws_environment():
        assert fleet.running_images(cart)[fleet.CART].endswith(fleet.digest_of(fleet.CART, 1))
        assert fleet.production_weights() == {"cart-primary": 100, "cart-alternate": 0}
    # and nothing is quarantined: nobody said the image was bad
    status = moto.autopilot("status", "--json", env=clock(minutes(63)))
    assert status.lines[0]["quarantined"] == []


def test_the_circuit_breaker_fails_a_deployment_whose_tasks_exit_and_rolls_it_back(
    moto: Moto, services: dict[str, str], tmp_path: Path
) -> None:
    # Given prod/shop (rolling, with the circuit breaker and rollback) follows web:main
    moto.tmp = tmp_path
    breaker = {"deploymentCircuitBreaker": {"enable": True, "rollback": True}}
    shop = web_service(moto, "shop", breaker)
    with moto.app.aws_environment():
        [created] = boto3.client("ecs").describe_services(cluster="prod", services=[shop])[
            "services"
        ]
    definition = created["taskDefinition"]
    reindex = tmp_path / "reindex.json"
    reindex.write_text('{"action": "reindex"}')
    moto.send(reindex, env=clock(T0))

    # When build 66 (its tasks exit at start) is pushed, and a minute passes
    deployed = moto.send(push(moto, 66), env=clock(T0))
    assert deployed.outcome("prod/shop") == "deployed"
    failed = moto.tick(minutes(1))
    rolled_back = moto.tick(minutes(2))

    # Then ECS's circuit breaker fails it, the automation records the failure and quarantines
    # the digest, and ECS rolls the service back to its last revision
    [tracked] = [
        a for a in failed.of_type("action") if a["kind"] == "track" and a["service"] == "prod/shop"
    ]
    assert (tracked["outcome"], tracked["code"]) == ("failed", "deployment-failed")
    assert "circuit breaker" in tracked["reason"]
    with moto.app.aws_environment():
        [shown] = boto3.client("ecs").describe_services(cluster="prod", services=["shop"])[
            "services"
        ]
    assert shown["taskDefinition"] == definition
    # and a minute later the rollback's own deployment has its tasks up, and is over
    assert [d["status"] for d in rolled_back.of_type("deployment")] == ["ROLLBACK_SUCCESSFUL"]
    [primary] = _deployments_of(moto, "shop")
    assert (primary["taskDefinition"], primary["rolloutState"]) == (definition, "COMPLETED")
    again = moto.send(push(moto, 66), env=clock(minutes(3)))
    assert again.outcome("prod/shop") == "quarantined"


def _deployments_of(moto: Moto, service: str) -> list[dict[str, Any]]:
    with moto.app.aws_environment():
        [shown] = boto3.client("ecs").describe_services(cluster="prod", services=[service])[
            "services"
        ]
    return list(shown["deployments"])

"""Canary analysis end to end: `autopilot local send` hands ECS's lifecycle hook invocation (in
the shape the ECS Developer Guide prints) to the canary hook, against a moto server whose ALB
metrics come from a synthetic load: each target group's error rate and latency are properties
of the image its revision runs. Nothing in the automation is told which build is bad."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import pytest

from autopilot_tools.local.fleet import (
    CART,
    cart_load_balancing,
    digest_of,
    lifecycle_hook_invocation,
    publish_load,
    seed_cart_alone,
)
from autopilot_tools.local.sample_events import ecr_push
from tests.e2e.harness import Moto, Result

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)  # when ECS first invoked the hook
TEN_MINUTES_ON = {"AUTOPILOT_LOCAL_NOW": "2026-12-01T09:10:00Z"}


@pytest.fixture
def cart(moto: Moto, services: dict[str, str], tmp_path: Path) -> str:
    """Given the demo fleet and prod/cart (build 1 of cart, `autopilot:canary=on`, blue/green
    behind the ALB `shop`)."""
    moto.tmp = tmp_path
    with moto.app.aws_environment():
        return seed_cart_alone()


def push(moto: Moto) -> Result:
    """CI pushes cart's next build as `main`: the automation deploys it to prod/cart (ECS starts
    a blue/green deployment: a new service revision, in the target group blue is not on)."""
    pushed = moto.autopilot("local", "push", CART, "main")
    assert pushed.code == 0, pushed.stderr
    assert pushed.outcome("prod/cart") == "deployed"
    return pushed


def load(blue: tuple[int, int], green: tuple[int, int], minutes: int = 10) -> None:
    """(build, requests a minute) served by blue and by green from T0."""
    found = cart_load_balancing()
    revisions = boto3.client("ecs")
    service = revisions.describe_services(cluster="prod", services=[CART])["services"][0]
    green_group = _green_target_group(service["serviceArn"], service["taskDefinition"])
    blue_group = found.primary if green_group == found.alternate else found.alternate
    publish_load(
        found.load_balancer,
        {
            blue_group: (digest_of(CART, blue[0]), blue[1]),
            green_group: (digest_of(CART, green[0]), green[1]),
        },
        T0,
        minutes,
    )


def _green_target_group(service_arn: str, task_definition: str) -> str:
    from autopilot_tools.local.moto_canary import revision_arn  # noqa: PLC0415

    [revision] = boto3.client("ecs").describe_service_revisions(
        serviceRevisionArns=[revision_arn(service_arn, task_definition)]
    )["serviceRevisions"]
    [resolved] = revision["resolvedConfiguration"]["loadBalancers"]
    return str(resolved["targetGroupArn"])


def invocation_file(moto: Moto, cart: str, name: str, **options: Any) -> Path:
    with moto.app.aws_environment():
        event = lifecycle_hook_invocation(cart, **options)
    path = moto.tmp / f"{name}.json"
    path.write_text(json.dumps(event))
    return path


def test_a_good_build_passes_its_canary_and_the_verdict_is_recorded_and_told(
    moto: Moto, cart: str
) -> None:
    # Given build 2 (healthy) deployed blue/green, serving test traffic next to build 1
    push(moto)
    with moto.app.aws_environment():
        load(blue=(1, 900), green=(2, 100))

    # When ECS first invokes the hook
    first = moto.send(
        invocation_file(moto, cart, "first"), env={"AUTOPILOT_LOCAL_NOW": "2026-12-01T09:00:00Z"}
    )

    # Then it waits, handing ECS the start to pass back
    assert first.code == 0, first.stderr
    [waiting] = first.of_type("hook")
    assert waiting["hookStatus"] == "IN_PROGRESS"
    assert waiting["callBackDelay"] == 60
    assert waiting["hookDetails"] == {"autopilotCanaryStartedAt": "2026-12-01T09:00:00Z"}

    # When ECS calls back ten minutes later with those details
    later = moto.send(invocation_file(moto, cart, "later", started=T0), env=TEN_MINUTES_ON)

    # Then the deployment goes on, and the verdict is in the ledger with its figures
    assert later.code == 0, later.stderr
    [answered] = later.of_type("hook")
    assert answered["hookStatus"] == "SUCCEEDED"
    [recorded] = [a for a in later.of_type("action") if a["kind"] == "canary"]
    assert (recorded["outcome"], recorded["code"]) == ("completed", "no-worse")
    assert recorded["window"] == "2026-12-01T09:00:00Z/2026-12-01T09:10:00Z"
    assert recorded["blue"].startswith("requests=9000 errors=20 error_rate=0.22%")
    assert recorded["green"].startswith("requests=1000 errors=0 error_rate=0.00%")
    [told] = later.of_type("notification")
    assert told["subject"] == "[autopilot] canary passed on prod/cart (cart:2)"


def test_a_bad_build_fails_its_canary_and_its_digest_is_refused_next_time(
    moto: Moto, cart: str
) -> None:
    # Given build 2 went out, then build 3 (bad: more 5XX, slower), now green in the target
    # group build 1 left (ECS moves green between the pair at each deployment)
    push(moto)
    push(moto)
    with moto.app.aws_environment():
        load(blue=(2, 900), green=(3, 100))

    # When ECS calls back ten minutes into the analysis
    judged = moto.send(invocation_file(moto, cart, "judged", started=T0), env=TEN_MINUTES_ON)

    # Then ECS is told FAILED (it rolls back), the verdict and its numbers are recorded, and
    # build 3's digest is quarantined
    assert judged.code == 0, judged.stderr
    [answered] = judged.of_type("hook")
    assert answered["hookStatus"] == "FAILED"
    [recorded] = [a for a in judged.of_type("action") if a["kind"] == "canary"]
    assert (recorded["outcome"], recorded["code"]) == ("failed", "error-regression")
    assert recorded["green"].startswith("requests=1000 errors=80 error_rate=8.00%")
    bad = digest_of(CART, 3)
    [told] = judged.of_type("notification")
    assert (
        told["subject"] == "[autopilot] canary FAILED on prod/cart (cart:3): deployment rolled back"
    )
    assert f"autopilot release {bad}" in told["text"]

    # When ECS has rolled back to build 2 and the same image is pushed again
    with moto.app.aws_environment():
        ecs = boto3.client("ecs")
        build2 = ecs.describe_task_definition(taskDefinition="cart:2")["taskDefinition"]
        ecs.update_service(cluster="prod", service=cart, taskDefinition=build2["taskDefinitionArn"])
    again_file = moto.tmp / "again.json"
    again_file.write_text(json.dumps(ecr_push(CART, "main", bad), default=str))
    again = moto.send(again_file)

    # Then it is refused: quarantined after the canary
    assert again.code == 0, again.stderr
    assert again.outcome("prod/cart") == "quarantined"


def test_too_little_traffic_keeps_ecs_waiting(moto: Moto, cart: str) -> None:
    # Given green gets five requests a minute (min-requests is 200)
    push(moto)
    with moto.app.aws_environment():
        load(blue=(1, 900), green=(2, 5))

    # When ECS calls back ten minutes in
    waiting = moto.send(invocation_file(moto, cart, "waiting", started=T0), env=TEN_MINUTES_ON)

    # Then it waits again from the same start, and nothing is recorded yet
    assert waiting.code == 0, waiting.stderr
    [answered] = waiting.of_type("hook")
    assert answered["hookStatus"] == "IN_PROGRESS"
    assert answered["hookDetails"] == {"autopilotCanaryStartedAt": "2026-12-01T09:00:00Z"}
    assert [a for a in waiting.of_type("action") if a["kind"] == "canary"] == []


def test_a_malformed_invocation_is_answered_failed(moto: Moto, cart: str) -> None:
    # Given the invocation in the older guide's flat shape (no executionDetails)
    with moto.app.aws_environment():
        event = lifecycle_hook_invocation(cart)
    flat = {
        **{k: v for k, v in event.items() if k != "executionDetails"},
        **event["executionDetails"],
    }
    flat["executionDetails"] = {}
    path = moto.tmp / "flat.json"
    path.write_text(json.dumps(flat))

    # When it is sent
    result = moto.send(path)

    # Then the hook answers FAILED (ECS rolls back) and says why on stderr
    [answered] = result.of_type("hook")
    assert answered["hookStatus"] == "FAILED"
    assert "malformed lifecycle hook invocation" in result.stderr

"""Canary analysis end to end, on the local ECS: prod/cart deploys with ECS's CANARY strategy
behind the ALB `shop`; `autopilot local tick` moves the deployment through its stages on the
runner's clock, ECS's engine invokes the canary hook at PRODUCTION_TRAFFIC_SHIFT, and the ALB's
metrics come from a synthetic load split by the listener rules' weights. Each image's error
rate and latency are its own properties in the local fleet: nothing tells the automation which
build is bad, and no alarm is configured."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from autopilot_tools.local import fleet
from autopilot_tools.local.fleet import lifecycle_hook_invocation
from tests.e2e.harness import Moto, Result, clock
from tests.e2e.test_local_send_rollback import sample

T0 = datetime.now(UTC).replace(second=0, microsecond=0)


def minutes(n: int) -> datetime:
    return T0 + timedelta(minutes=n)


@pytest.fixture
def cart(moto: Moto, services: dict[str, str], tmp_path: Path) -> str:
    """Given prod/cart deploying with ECS's CANARY strategy (10% for 5 minutes) behind the ALB
    shop, approval after test traffic, the stack's canary hook at PRODUCTION_TRAFFIC_SHIFT,
    known to the fleet index."""
    moto.tmp = tmp_path
    with moto.app.aws_environment():
        arn = fleet.seed_cart_alone(gated=True)
    reindex = tmp_path / "reindex.json"
    reindex.write_text('{"action": "reindex"}')
    assert moto.send(reindex, env=clock(T0)).code == 0
    return arn


def push_cart(moto: Moto, build: int) -> Result:
    """CI pushes build N of cart as `main` (the builds before it pushed without an event)."""
    with moto.app.aws_environment():
        for earlier in range(2, build):
            fleet.push_image(fleet.CART, f"build-{earlier}", earlier)
    pushed = moto.autopilot("local", "push", fleet.CART, "main", env=clock(T0))
    assert pushed.code == 0, pushed.stderr
    assert pushed.outcome("prod/cart") == "deployed"
    return pushed


def approve_and_judge(moto: Moto) -> Result:
    """Test traffic reaches green, on-call approves, 10% of production goes to green and the
    canary hook is called back a minute later."""
    waiting = moto.tick(minutes(1))
    assert [a["outcome"] for a in waiting.of_type("action")] == ["notified"]
    approved = moto.autopilot("approve", "prod/cart", env=clock(minutes(1)))
    assert approved.code == 0, approved.stderr
    first = moto.tick(minutes(2))
    [asked] = first.of_type("hook")
    assert (asked["stage"], asked["hookStatus"]) == ("PRODUCTION_TRAFFIC_SHIFT", "IN_PROGRESS")
    return moto.tick(minutes(3))


def test_a_bad_canary_is_caught_by_analysis_and_production_goes_back_to_blue(
    moto: Moto, cart: str
) -> None:
    # Given build 3 of cart (a bad image: more 5XX, slower) pushed, with no alarm anywhere
    push_cart(moto, 3)

    # When it is approved and its canary has served a minute of production
    judged = approve_and_judge(moto)

    # Then the hook answers FAILED with the figures, ECS rolls back in the same minute, and
    # ECS's event for it reaches the automation on its own
    assert judged.code == 0, judged.stderr
    # (ECS calls the hook again while it rolls back, green at 0%: not judged, it goes on)
    answer, while_rolling_back = judged.of_type("hook")
    assert answer["hookStatus"] == "FAILED"
    assert while_rolling_back["hookStatus"] == "SUCCEEDED"
    [verdict] = [a for a in judged.of_type("action") if a["kind"] == "canary"]
    assert (verdict["outcome"], verdict["code"]) == ("failed", "error-regression")
    assert verdict["green"].startswith("requests=200 ")
    [rolled] = [d for d in judged.of_type("deployment") if d["status"] == "ROLLBACK_SUCCESSFUL"]
    assert rolled["at"] == minutes(3).isoformat().replace("+00:00", "Z")
    # and the end of ECS's rollback is recorded: traffic back on cart:1 0 s after the verdict
    back = judged.action("prod/cart", "track")
    assert (back["outcome"], back["code"]) == ("completed", "rollback-completed")
    assert back["seconds_to_traffic_back"] == "0.0"
    with moto.app.aws_environment():
        assert fleet.production_weights() == {"cart-primary": 100, "cart-alternate": 0}
        assert fleet.running_images(cart)[fleet.CART].endswith(fleet.digest_of(fleet.CART, 1))

    # And the bad image's next push is refused
    again = moto.send(push_event(moto, fleet.digest_of(fleet.CART, 3)), env=clock(minutes(4)))
    assert again.outcome("prod/cart") == "quarantined"


def test_a_good_canary_is_promoted_and_ecs_reports_the_deployment_completed(
    moto: Moto, cart: str
) -> None:
    # Given build 2 of cart (healthy) pushed
    push_cart(moto, 2)

    # When it is approved, judged, and the canary bake and the deployment bake are over
    judged = approve_and_judge(moto)
    done = moto.tick(minutes(13))

    # Then the canary passed, production moved to green, and ECS's completion was recorded
    [verdict] = [a for a in judged.of_type("action") if a["kind"] == "canary"]
    assert (verdict["outcome"], verdict["code"]) == ("completed", "no-worse")
    stages = [d.get("stage") for d in done.of_type("deployment")]
    assert stages[-4:] == ["POST_PRODUCTION_TRAFFIC_SHIFT", "BAKE_TIME", "CLEAN_UP", None]
    [tracked] = [a for a in done.of_type("action") if a["kind"] == "track"]
    assert tracked["outcome"] == "completed"
    with moto.app.aws_environment():
        assert fleet.production_weights() == {"cart-primary": 0, "cart-alternate": 100}


def test_too_little_traffic_keeps_ecs_waiting_from_the_same_start(moto: Moto, cart: str) -> None:
    # Given prod/cart asks for far more requests than a minute of its canary gets
    with moto.app.aws_environment():
        boto3.client("ecs").tag_resource(
            resourceArn=cart,
            tags=[{"key": "autopilot:canary", "value": "min-requests=100000 max-minutes=30"}],
        )
    push_cart(moto, 2)

    # When ECS calls the hook back a minute into the canary
    waiting = approve_and_judge(moto)

    # Then it waits again from the same start, and nothing is recorded yet
    assert waiting.code == 0, waiting.stderr
    [answered] = waiting.of_type("hook")
    assert answered["hookStatus"] == "IN_PROGRESS"
    started = minutes(2).isoformat().replace("+00:00", "Z")
    assert answered["hookDetails"] == {"autopilotCanaryStartedAt": started}
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


def push_event(moto: Moto, digest: str) -> Path:
    return sample(
        moto,
        "ecr_image_push.json",
        f"push-{digest[7:15]}",
        {"repository-name": fleet.CART, "image-digest": digest, "image-tag": "main"},
    )

"""Approval gates against the in-memory fakes: a deploy to a service tagged autopilot:approve=on
goes out only when its PAUSE hook will hold it; what waits is told once per hook; approve and
reject answer the hook ECS shows (reject quarantines the digest), nothing waiting is a clear
no-op, and a retry after a lost answer records what happened instead of answering again."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from typing import Any, TypeVar, cast

from botocore.exceptions import ReadTimeoutError

from autopilot.domain.fleet import PauseHook, task_definition_label
from autopilot.domain.ledger import Outcome, action_id
from autopilot.models.actions import ApprovalRequest, ApprovalWaitingRequest, DeployRequest
from autopilot.records import replace
from autopilot.workflows.approval_action import answer
from autopilot.workflows.approval_waiting_action import tell_waiting
from autopilot.workflows.deploy_action import deploy
from tests.fakes.world import T0, World, digest, ecr_image

G = TypeVar("G")
GATED = {"autopilot:track": "tag:main", "autopilot:approve": "on"}
HOOK = PauseHook(("POST_TEST_TRAFFIC_SHIFT",), 60, "ROLLBACK")
OPERATOR = "AROAEXAMPLE:alice"


def _world(
    strategy: str = "BLUE_GREEN", hooks: tuple[PauseHook, ...] = (HOOK,)
) -> tuple[World, str]:
    """prod/web runs build 1 with a PAUSE hook after test traffic; build 2 was pushed."""
    world = World()
    world.push("web", "1", "main", at=T0 - timedelta(days=2))
    arn = world.add_service(
        "prod",
        "web",
        {"web": ecr_image("web", digest("web#1"))},
        tags=GATED,
        strategy=strategy,
        pause_hooks=hooks,
    )
    return world, arn


def _deploy(world: World, arn: str, event_id: str = "push-1") -> Any:
    push = replace(world.push("web", "2", "main", at=T0 - timedelta(minutes=1)), event_id=event_id)
    return deploy(
        world.context(),
        DeployRequest(
            action_id=action_id(push.event_id, arn, "deploy"),
            service_arn=arn,
            trigger="ecr-push",
            trigger_id=push.event_id,
            trigger_time=push.time,
            push=push,
        ),
    )


def _request(arn: str, kind: str, request_id: str = "r1") -> ApprovalRequest:
    return ApprovalRequest(
        action_id=action_id(request_id, arn, kind),
        service_arn=arn,
        trigger="operator",
        trigger_id=request_id,
        trigger_time=T0,
        requested_by=OPERATOR,
        kind=kind,  # type: ignore[arg-type]
    )


def _hook_event(arn: str, event_id: str = "hook-1") -> ApprovalWaitingRequest:
    return ApprovalWaitingRequest(
        action_id=action_id(event_id, arn, "approval-waiting"),
        service_arn=arn,
        trigger="ecs-hook",
        trigger_id=event_id,
        trigger_time=T0,
    )


def _runs(world: World, arn: str) -> str:
    return task_definition_label(world.ecs.describe_service(arn).task_definition_arn)


def test_a_gated_blue_green_deploy_goes_out_and_waits_at_its_pause_hook() -> None:
    # Given a BLUE_GREEN service tagged autopilot:approve=on with a PAUSE hook (ROLLBACK)
    world, arn = _world()

    # When build 2 is pushed
    entry = _deploy(world, arn)

    # Then it is deployed, and ECS holds it at the hook
    assert entry.outcome is Outcome.DEPLOYED
    assert world.ecs.service_deployment_statuses(arn) == ("IN_PROGRESS",)


def test_the_tag_without_a_pause_hook_refuses_the_deploy_and_says_what_to_add() -> None:
    # Given the tag on a BLUE_GREEN service that has no PAUSE hook
    world, arn = _world(hooks=())

    # When a push arrives
    entry = _deploy(world, arn)

    # Then nothing is deployed, and on-call is told what to add
    assert entry.outcome is Outcome.SKIPPED
    assert entry.code == "no-approval-gate"
    assert _runs(world, arn) == "web:1"
    [told] = world.notifier.sent
    assert "no PAUSE hook" in told.text
    assert "autopilot:approve off" in told.text


def test_a_pause_whose_timeout_continues_refuses_the_deploy() -> None:
    # Given a PAUSE hook whose timeout action ships the deployment
    world, arn = _world(hooks=(PauseHook(("POST_TEST_TRAFFIC_SHIFT",), 60, "CONTINUE"),))

    # When a push arrives
    entry = _deploy(world, arn)

    # Then it is refused: an unanswered pause would ship
    assert entry.code == "no-approval-gate"
    assert "an unanswered pause would ship" in entry.reason
    assert _runs(world, arn) == "web:1"


def test_a_rolling_service_tagged_for_approval_is_refused() -> None:
    # Given a ROLLING service tagged autopilot:approve=on
    world, arn = _world(strategy="ROLLING", hooks=())

    # When a push arrives
    entry = _deploy(world, arn)

    # Then it is refused: ROLLING has no lifecycle hooks
    assert entry.code == "no-approval-gate"
    assert "ROLLING, which has no ECS lifecycle hooks" in entry.reason


def test_what_waits_is_told_once_per_hook_with_the_commands() -> None:
    # Given build 2 paused at the hook
    world, arn = _world()
    _deploy(world, arn)
    world.notifier.sent.clear()

    # When the hook's event is planned, and ECS sends a second event for the same hook
    first = tell_waiting(world.context(), _hook_event(arn, "hook-1"))
    calls: list[str] = []
    second = tell_waiting(world.context(wrap=_Wrap(calls)), _hook_event(arn, "hook-2"))

    # Then one notification: which revision and digest, where, until when, what then, how
    assert first.outcome is Outcome.NOTIFIED
    assert first.hook_id.startswith("ecs-pause-")
    assert second.code == "already-told"
    assert "revision" not in calls  # told already: no task definition read again
    [told] = world.notifier.sent
    assert "web:2" in told.subject
    assert digest("web#2") in told.text
    assert "POST_TEST_TRAFFIC_SHIFT" in told.text
    assert (T0 + timedelta(minutes=60)).isoformat(timespec="minutes") in told.text
    assert "(ROLLBACK)" in told.text
    assert "autopilot approve prod/web" in told.text
    assert "autopilot reject prod/web" in told.text


def test_a_hook_event_with_nothing_paused_tells_nobody() -> None:
    # Given a gated service with no deployment in flight
    world, arn = _world()

    # When a hook event arrives for it
    entry = tell_waiting(world.context(), _hook_event(arn))

    # Then nothing is told
    assert entry.code == "nothing-waiting"
    assert world.notifier.sent == []


def test_approve_continues_the_paused_deployment_and_records_who() -> None:
    # Given build 2 paused at the hook
    world, arn = _world()
    _deploy(world, arn)

    # When an operator approves
    entry = answer(world.context(), _request(arn, "approve"))

    # Then ECS continued it past the hook, and the ledger says who approved
    assert entry.outcome is Outcome.APPLIED
    assert world.ecs.service_deployment_statuses(arn) == ("IN_PROGRESS",)
    assert world.ecs.hook_statuses(arn) == ("SUCCEEDED",)
    assert entry.requested_by == OPERATOR
    assert f"approved by {OPERATOR}" in entry.reason
    assert _runs(world, arn) == "web:2"


def test_reject_rolls_back_and_quarantines_the_digest() -> None:
    # Given build 2 paused at the hook
    world, arn = _world()
    _deploy(world, arn)

    # When an operator rejects it
    entry = answer(world.context(), _request(arn, "reject"))

    # Then ECS rolls back to web:1 and build 2's digest is quarantined
    assert entry.outcome is Outcome.ROLLED_BACK
    assert world.ecs.service_deployment_statuses(arn) == ("ROLLBACK_REQUESTED",)
    assert _runs(world, arn) == "web:1"
    assert set(world.ledger.quarantined()) == {digest("web#2")}
    assert f"rejected by {OPERATOR}" in entry.reason

    # And the next push of that digest is refused
    again = _deploy(world, arn, "push-again")
    assert again.code == "quarantined"


def test_nothing_waiting_is_a_clear_answer_with_no_call() -> None:
    # Given a gated service with nothing paused
    world, arn = _world()
    calls: list[str] = []
    ctx = world.context(wrap=_Wrap(calls))

    # When an operator approves
    entry = answer(ctx, _request(arn, "approve"))

    # Then the answer says nothing waits, and ContinueServiceDeployment was not called
    assert entry.code == "nothing-waiting"
    assert "nothing is waiting for approval on prod/web" in entry.reason
    assert "continue_service_deployment" not in calls


def test_a_service_that_did_not_opt_in_is_never_answered() -> None:
    # Given a paused deployment on a service that no longer carries autopilot:track
    world, arn = _world()
    _deploy(world, arn)
    world.ecs.untag_service(arn, ["autopilot:track"])

    # When a message asks to approve it
    entry = answer(world.context(), _request(arn, "approve"))

    # Then it is refused, and the deployment still waits
    assert entry.code == "not-opted-in"
    assert world.ecs.service_deployment_statuses(arn) == ("IN_PROGRESS",)


def test_a_retry_after_a_lost_answer_records_the_approval_without_calling_again() -> None:
    # Given build 2 paused, and an approve whose ContinueServiceDeployment went through but
    # whose answer was lost
    world, arn = _world()
    _deploy(world, arn)
    calls: list[str] = []
    lossy = world.context(wrap=_Wrap(calls, lose="continue"))
    request = _request(arn, "approve")
    with contextlib.suppress(ReadTimeoutError):
        answer(lossy, request)
    assert world.ecs.hook_statuses(arn) == ("SUCCEEDED",)

    # When the action is retried
    calls.clear()
    entry = answer(world.context(wrap=_Wrap(calls)), request)

    # Then ECS's view is recorded, and the hook is not answered again
    assert entry.outcome is Outcome.APPLIED
    assert "confirmed on retry" in entry.reason
    assert "continue_service_deployment" not in calls


def test_a_retry_finds_the_pause_ended_otherwise_and_does_not_approve() -> None:
    # Given an approve whose intent was recorded, and then the pause timed out into a rollback
    world, arn = _world()
    _deploy(world, arn)
    calls: list[str] = []
    failing = world.context(wrap=_Wrap(calls, lose="continue", before=True))
    request = _request(arn, "approve")
    with contextlib.suppress(ReadTimeoutError):
        answer(failing, request)
    intent = world.ledger.find(arn, T0, request.action_id)
    assert intent is not None
    world.ecs.stop_service_deployment(intent.deployment_id)

    # When the action is retried
    calls.clear()
    entry = answer(world.context(wrap=_Wrap(calls)), request)

    # Then nothing is sent, and the entry says how the pause ended
    assert entry.outcome is Outcome.SKIPPED
    assert entry.code == "hook-ended"
    assert "continue_service_deployment" not in calls


def test_a_reject_refused_because_the_pause_timed_out_into_a_rollback_still_quarantines() -> None:
    # Given build 2 paused, and its pause timing out into a rollback just as the reject is sent
    world, arn = _world()
    _deploy(world, arn)
    request = _request(arn, "reject")

    def timed_out_first(gateway: G, name: str) -> G:
        return cast("G", _TimedOutFirst(gateway) if name == "ecs" else gateway)

    # When the executor answers it, and ECS refuses: the hook no longer awaits action
    entry = answer(world.context(wrap=timed_out_first), request)

    # Then ECS's rollback is recorded as what the reject asked for, and the digest the person
    # rejected stays out
    assert entry.outcome is Outcome.ROLLED_BACK
    assert set(world.ledger.quarantined()) == {digest("web#2")}
    again = _deploy(world, arn, "push-again")
    assert again.code == "quarantined"


class _TimedOutFirst:
    """ECS, where the PAUSE hook times out into a rollback just before it is answered."""

    def __init__(self, gateway: Any) -> None:
        self._gateway = gateway

    def __getattr__(self, name: str) -> Any:
        return getattr(self._gateway, name)

    def continue_service_deployment(self, deployment: str, hook_id: str, action: str) -> None:
        self._gateway.stop_service_deployment(deployment)
        self._gateway.continue_service_deployment(deployment, hook_id, action)


class _Wrap:
    """Puts a `_Recording` between the workflow and every gateway."""

    def __init__(self, calls: list[str], lose: str = "", *, before: bool = False) -> None:
        self._calls, self._lose, self._before = calls, lose, before

    def __call__(self, gateway: G, name: str) -> G:
        return cast("G", _Recording(gateway, self._calls, self._lose, before=self._before))


class _Recording:
    """A gateway that records calls by name; `lose` makes the first call with that prefix fail
    as a timeout, after taking effect (or `before` it does)."""

    def __init__(self, gateway: Any, calls: list[str], lose: str = "", *, before: bool = False):
        self._gateway, self._calls, self._lose, self._before = gateway, calls, lose, before

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._gateway, name)
        if not callable(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            if self._lose and name.startswith(self._lose):
                self._lose = ""
                if not self._before:
                    method(*args, **kwargs)
                raise ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com/")
            return method(*args, **kwargs)

        return call

"""`autopilot approve` and `autopilot reject`: the command queues a request naming only the
service (the executor reads the paused deployment and its hook from ECS), prints the executor's
entry, and exits 0 when the hook was answered, 1 when nothing waits."""

from __future__ import annotations

import json

import pytest
from msgspec.structs import replace

from autopilot.models.actions import ApprovalRequest
from autopilot.workflows.approval_action import answer
from autopilot_tools.cli import main as cli
from autopilot_tools.cli.operator import Backend
from tests.fakes.world import World
from tests.unit.test_workflows_approvals import _deploy, _world


def _backend(world: World) -> Backend:
    def run_queue() -> None:
        for message in world.queue.messages:
            assert isinstance(message, ApprovalRequest)
            answer(world.context(), replace(message, requested_by="AROAEXAMPLE:alice"))
        world.queue.messages.clear()

    return Backend(
        ledger=world.ledger,  # type: ignore[arg-type]
        queue=world.queue,  # type: ignore[arg-type]
        ecs=world.ecs,  # type: ignore[arg-type]
        tagging=world.tagging,  # type: ignore[arg-type]
        operator="AROAEXAMPLE:alice",
        run_queue=run_queue,
    )


def _paused_world() -> World:
    """prod/web (BLUE_GREEN, PAUSE hook, approval on) deploying build 2, paused at the hook."""
    world, arn = _world()
    _deploy(world, arn)
    return world


@pytest.mark.parametrize(
    ("command", "outcome"), [("approve", "applied"), ("reject", "rolled-back")]
)
def test_answering_a_paused_deployment_exits_0_with_the_entry(
    command: str,
    outcome: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # Given prod/web paused at its PAUSE hook
    world = _paused_world()
    monkeypatch.setattr(
        cli, "_operate", lambda args: cli._run_operator_command(args, _backend(world))
    )

    # When the operator answers it
    code = cli.main([command, "prod/web", "--json"])

    # Then exit 0, and the line is the executor's entry naming the hook
    assert code == 0
    line = json.loads(capsys.readouterr().out)
    assert line["kind"] == command
    assert line["outcome"] == outcome


def test_nothing_waiting_exits_1_saying_so(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Given prod/web with nothing paused (its deployment was approved already)
    world = _paused_world()
    monkeypatch.setattr(
        cli, "_operate", lambda args: cli._run_operator_command(args, _backend(world))
    )
    assert cli.main(["approve", "prod/web"]) == 0
    capsys.readouterr()

    # When the operator approves again
    code = cli.main(["approve", "prod/web"])

    # Then exit 1, and the line says nothing waits
    assert code == cli.EXIT_FAILED
    assert "nothing is waiting for approval on prod/web" in capsys.readouterr().out

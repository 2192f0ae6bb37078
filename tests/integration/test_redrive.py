"""An action given up after every attempt waits in the actions dead-letter queue; an operator's
redrive puts it back in line, and the executor takes it up where it stopped."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.queues import DeadLetteredActions
from autopilot.domain.ledger import Outcome
from autopilot_tools.local.runner import LocalApp
from tests.integration.test_deploy_on_push import (
    STAGING_WEB,
    WEB,
    ledger_history,
    push,
    service_task_definition,
)


def test_a_redriven_deploy_finishes_where_it_stopped_and_only_that_service_is_redriven(
    app: LocalApp, services: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given ECS refuses every UpdateService while web:main is pushed: both deploys give up
    real_update = EcsGateway.update_service

    def broken(self: EcsGateway, service: Any, task_definition_arn: str) -> str:
        raise ClientError({"Error": {"Code": "ServerException"}}, "UpdateService")

    monkeypatch.setattr(EcsGateway, "update_service", broken)
    app.invoke("EcrPushFunction", push(app, "web", "main", 2))
    app.drain()
    assert app.queue_depth("ActionsDeadLetterQueue") == 2
    [gave_up] = ledger_history(app, WEB)
    assert (gave_up.outcome, gave_up.code) == (Outcome.FAILED, "gave-up")

    # When ECS is back and an operator redrives prod/web's actions only
    monkeypatch.setattr(EcsGateway, "update_service", real_update)
    with app.aws_environment():
        moved = DeadLetteredActions(
            app.physical("ActionsDeadLetterQueue")["Ref"], app.physical("ActionsQueue")["Ref"]
        ).redrive(WEB)
    app.drain()

    # Then prod/web's deploy finished on the revision the first attempt registered (no second
    # registration), and staging/web's still waits for a person
    assert moved == [WEB]
    [done] = ledger_history(app, WEB)
    assert (done.outcome, done.code) == (Outcome.DEPLOYED, "")
    assert done.to_task_definition == gave_up.to_task_definition
    assert service_task_definition(app, WEB)["taskDefinition"]["revision"] == 2
    assert app.queue_depth("ActionsDeadLetterQueue") == 1
    assert [e.outcome for e in ledger_history(app, STAGING_WEB)] == [Outcome.FAILED]

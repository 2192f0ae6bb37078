"""The runner's side of the local deployment engine (`ecs_engine`, in the moto server's
process): ask it to advance to the runner's clock, publish the load it describes as the ALB
publishes its metrics, and hand back what the hook functions answered."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from http import HTTPStatus
from typing import Any

from autopilot_tools.local import ecs_engine
from autopilot_tools.local.runner import LocalRunnerError


class EngineClient:
    """The engine over the moto server's HTTP API, or in this process (moto in-process)."""

    def __init__(self, endpoint: str | None) -> None:
        self.endpoint = endpoint

    def advance(self, now: datetime) -> dict[str, Any]:
        if self.endpoint is None:
            return ecs_engine.advance(now).as_json()
        return self._post(ecs_engine.ADVANCE_PATH, {"now": now.isoformat()})

    def answer(self, execution_id: str, response: dict[str, Any]) -> bool:
        """Hand ECS a hook's answer; False when no invocation of that id waits for one."""
        if self.endpoint is None:
            return ecs_engine.answer(execution_id, response)
        body = {"executionId": execution_id, "response": response}
        return bool(self._post(ecs_engine.ANSWER_PATH, body).get("known"))

    def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310 - the local moto server, on loopback
            f"{self.endpoint}{path}",
            data=json.dumps(body, default=str).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
                answered: dict[str, Any] = json.loads(response.read() or b"{}")
                return answered
        except urllib.error.HTTPError as exc:
            if exc.code != HTTPStatus.NOT_FOUND:
                raise
            raise LocalRunnerError(
                f"the moto server at {self.endpoint} has no local ECS (a plain moto server?): "
                "start it with autopilot local server"
            ) from None


def publish(load: list[dict[str, Any]]) -> None:
    """The minutes of load the engine describes, as the ALB's metrics (inside the runner's
    AWS environment)."""
    from autopilot_tools.local.fleet import publish_load  # noqa: PLC0415 - boto3: local only

    for segment in load:
        start = datetime.fromisoformat(segment["start"].replace("Z", "+00:00"))
        served = {group: (digest, int(n)) for group, (digest, n) in segment["served"].items()}
        publish_load(segment["loadBalancer"], served, start, int(segment["minutes"]))

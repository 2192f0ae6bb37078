"""The runner's client of the local ECS: a moto server without it is named, in one line."""

from __future__ import annotations

import urllib.error
import urllib.request
from datetime import UTC, datetime
from typing import Any

import pytest

from autopilot_tools.local.deployments import EngineClient
from autopilot_tools.local.runner import LocalRunnerError


def test_a_moto_server_without_the_local_ecs_is_named_with_what_to_do(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Given a plain moto server: the engine's route is not there
    def not_found(request: urllib.request.Request, timeout: float) -> Any:
        raise urllib.error.HTTPError(request.full_url, 404, "NOT FOUND", {}, None)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib.request, "urlopen", not_found)

    # When the runner asks it to advance
    with pytest.raises(LocalRunnerError) as raised:
        EngineClient("http://127.0.0.1:5000").advance(datetime(2026, 12, 3, 15, 0, tzinfo=UTC))

    # Then the error says so, and what to run instead
    assert str(raised.value) == (
        "the moto server at http://127.0.0.1:5000 has no local ECS (a plain moto server?): "
        "start it with autopilot local server"
    )


def test_any_other_http_error_is_not_taken_for_a_missing_engine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(request: urllib.request.Request, timeout: float) -> Any:
        raise urllib.error.HTTPError(request.full_url, 500, "ERROR", {}, None)  # type: ignore[arg-type]

    monkeypatch.setattr(urllib.request, "urlopen", broken)
    with pytest.raises(urllib.error.HTTPError):
        EngineClient("http://127.0.0.1:5000").answer("execution", {"hookStatus": "SUCCEEDED"})

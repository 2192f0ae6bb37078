"""The edge of every function: what a malformed event is told, and what a cold start loads."""

from __future__ import annotations

import dataclasses
import importlib
import json
import pkgutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import autopilot.domain
from autopilot.entry import on_event
from autopilot.models.base import Invalid, reason
from autopilot.models.events import (
    AlarmStateChangeEvent,
    CostReportDocument,
    EcrImageActionEvent,
    ImageScanEvent,
    ScheduleDocument,
)
from autopilot.workflows.fleet_index import parse_index_event
from autopilot.workflows.placement_action import EcsServiceActionEvent
from autopilot.workflows.plan_deployment import parse_deployment_event
from autopilot.workflows.registry import parse_action

ROOT = Path(__file__).resolve().parents[2]
PUSH = json.loads((ROOT / "events" / "ecr_image_push.json").read_text())

# What no function may load before its first AWS call: the validation library it no longer
# uses, the asyncio that Powertools' batch utility brings, the development-only packages, and
# Jinja2 (the cost report loads it when it renders, after Cost Explorer answered).
NEVER_LOADED = (
    "pydantic",
    "jinja2",
    "pydantic_core",
    "asyncio",
    "aws_lambda_powertools.utilities.parser",
    "aws_lambda_powertools.utilities.batch",
    "autopilot_tools",
    "moto",
)


def _with_detail(**detail: Any) -> dict[str, Any]:
    return {**PUSH, "detail": {**PUSH["detail"], **detail}}


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        pytest.param(
            _with_detail(**{"image-digest": "sha256:zz"}),
            "detail.image-digest: Expected `str` matching regex '^sha256:[0-9a-f]{64}$'",
            id="bad digest",
        ),
        pytest.param(
            _with_detail(**{"repository-name": 7}),
            "detail.repository-name: Expected `str`, got `int`",
            id="wrong type",
        ),
        pytest.param(
            {k: v for k, v in PUSH.items() if k != "time"},
            "Object missing required field `time`",
            id="missing field",
        ),
        pytest.param(
            {**PUSH, "time": "2026-12-03T10:00:00"},
            "time: Expected `datetime` with a timezone component",
            id="naive time",
        ),
        pytest.param(["not", "an", "event"], "Expected `object`, got `array`", id="not an object"),
    ],
)
def test_a_malformed_event_is_rejected_with_where_and_what(event: Any, expected: str) -> None:
    # Given an ECR push event that is wrong in one place
    dead: list[str] = []

    # When the edge parses it
    result = on_event(
        event,
        EcrImageActionEvent.parse,
        lambda _: pytest.fail("a malformed event reached the work"),
        lambda _event, why: dead.append(why),
    )

    # Then it is rejected and dead-lettered, the field path first, then what is wrong
    assert result == {"status": "rejected", "reason": expected}
    assert dead == [expected]


@pytest.mark.parametrize(
    "parse",
    [
        EcrImageActionEvent.parse,
        ImageScanEvent.parse,
        AlarmStateChangeEvent.parse,
        ScheduleDocument.parse,
        CostReportDocument.parse,
        EcsServiceActionEvent.parse,
        parse_deployment_event,
        parse_index_event,
    ],
)
@pytest.mark.parametrize("event", [[], "reindex", 7, None], ids=["list", "string", "int", "null"])
def test_every_function_rejects_an_invocation_that_is_not_an_object(
    parse: Callable[[object], object], event: object
) -> None:
    # Given a function invoked by hand with JSON that is not an object
    dead: list[str] = []

    # When its edge parses it
    result = on_event(event, parse, lambda _: {}, lambda _event, why: dead.append(why))

    # Then it is rejected into the dead-letter queue with the reason, never a crash
    assert result["status"] == "rejected"
    assert dead == [result["reason"]]
    assert result["reason"].startswith("Expected `object`")


def test_a_documents_own_rule_is_reported_as_its_reason() -> None:
    # Given a park document without its group (a rule of the document, not of one field)
    # When it is parsed
    with pytest.raises(Invalid) as refused:
        ScheduleDocument.parse({"action": "park"})

    # Then the reason is the rule's own sentence
    assert reason(refused.value) == "park needs a group"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param('{"kind": "launch"}', "kind: Unknown action kind 'launch'", id="unknown kind"),
        pytest.param('{"kind": ', "Input data was truncated", id="not JSON"),
        pytest.param('{"action_id": "a"}', "Object missing required field `kind`", id="no kind"),
        pytest.param(
            json.dumps(
                {
                    "kind": "track",
                    "action_id": "a",
                    "service_arn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
                    "trigger": "ecs",
                    "trigger_id": "e",
                    "trigger_time": "2026-12-03T10:00:00Z",
                    "result": "completed",
                }
            ),
            "Object missing required field `deployment_id`",
            id="the kind's model refuses it",
        ),
    ],
)
def test_an_actions_queue_message_that_is_no_action_is_refused(body: str, expected: str) -> None:
    # Given a message on the actions queue that names no known action, or misses its fields
    # When the executor parses it
    with pytest.raises(Invalid) as refused:
        parse_action(body)

    # Then it is refused (the batch keeps it for a person), saying why
    assert reason(refused.value) == expected


@pytest.mark.parametrize("function", sorted(p.name for p in (ROOT / "functions").iterdir()))
def test_a_cold_start_loads_nothing_the_function_does_not_run(function: str) -> None:
    # Given a fresh interpreter with the layer, as Lambda starts one
    code = (
        "import sys, app, boto3; "
        "print('\\n'.join(sorted(m for m in sys.modules if m.split('.')[0] in "
        f"{sorted({m.split('.')[0] for m in NEVER_LOADED})!r})))"
    )

    # When the function's handler module is imported
    loaded = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT / "functions" / function,
        env={"PYTHONPATH": str(ROOT / "layers" / "autopilot"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()

    # Then none of what it never runs was loaded
    assert [m for m in loaded if m.startswith(NEVER_LOADED)] == []


def test_the_domains_records_are_structs_created_in_c() -> None:
    # Given every module of the domain, and the settings, which every function imports
    names = [f"autopilot.domain.{m.name}" for m in pkgutil.iter_modules(autopilot.domain.__path__)]
    modules = [importlib.import_module(name) for name in [*names, "autopilot.settings"]]

    # When their classes are looked at
    records = [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, type) and value.__module__ == module.__name__
        if dataclasses.is_dataclass(value)
    ]

    # Then none is a dataclass: a dataclass compiles its methods from source on import, about
    # 0.5 ms each, a third of a function's cold start beyond boto3's (docs/cold-start.md)
    assert records == []

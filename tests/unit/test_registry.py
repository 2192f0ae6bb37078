"""Action kinds are registered once, in their own modules; the queue's union, the executor's
dispatch, the notification table and the metric names all come from those registrations."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from datetime import UTC, datetime

from autopilot import workflows
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.models.actions import ActionBase, CapacityRequest, OperatorRequest, parse_action
from autopilot.workflows import registry

SERVICE_ARN = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
WHEN = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def test_every_action_module_registers_its_kinds_and_each_kind_once() -> None:
    # Given the workflows package's *_action modules
    modules = [m.name for m in pkgutil.iter_modules(workflows.__path__)]
    action_modules = [m for m in modules if m.endswith("_action")]
    # When the registry collects them
    found = registry.registrations()
    # Then each module contributes its registration, and the known kinds are all there
    assert {r.model.__module__ for r in found.values()} >= {"autopilot.models.actions"}
    assert len(action_modules) >= 6
    assert {
        "deploy",
        "rollback",
        "track",
        "park",
        "unpark",
        "scale",
        "restore",
        "pause",
        "resume",
        "release",
        "resume-held",
    } <= set(found)
    for kind, registration in found.items():
        assert kind in registration.kinds
        assert registration.metrics[kind]


def test_a_model_with_many_kinds_is_parsed_as_itself_for_each() -> None:
    # Given a capacity request (four kinds share its model) and an operator request
    for request in (
        CapacityRequest(
            action_id="a",
            service_arn=SERVICE_ARN,
            trigger="schedule",
            trigger_id="s",
            trigger_time=WHEN,
            kind="unpark",
        ),
        OperatorRequest(
            action_id="b",
            service_arn=SERVICE_ARN,
            trigger="operator",
            trigger_id="o",
            trigger_time=WHEN,
            kind="release",
            digest="sha256:" + "0" * 64,
        ),
    ):
        # When it goes through the queue
        parsed = parse_action(request.to_json())
        # Then it comes back as its own model, equal to what was sent
        assert type(parsed) is type(request)
        assert parsed == request


def test_metric_names_are_the_registered_ones_and_unknown_kinds_fall_back() -> None:
    # Given registered kinds with hyphens and an unregistered kind
    # When their metric names are asked for
    # Then the registered name is used (unchanged from the kind-derived names dashboards know)
    assert registry.metric_name("resume-held") == "Resume-Held"
    assert registry.metric_name("park") == "Park"
    assert registry.metric_name("no-such-kind") == "No-Such-Kind"


def test_an_unregistered_kind_tells_nobody_unless_it_gave_up() -> None:
    # Given a finished entry of a kind no action registered
    entry = LedgerEntry(
        service_arn=SERVICE_ARN,
        action_id="x",
        kind="no-such-kind",
        trigger="t",
        trigger_id="i",
        trigger_time=WHEN,
        recorded_at=WHEN,
        outcome=Outcome.APPLIED,
    )
    # When its notification is built
    # Then there is none
    assert registry.notification_for(entry) is None


def test_planners_do_not_import_the_executor_actions() -> None:
    # Given a fresh interpreter
    # When a planner module is imported
    code = (
        "import sys, autopilot.workflows.plan_push, autopilot.workflows.plan_alarm; "
        "print(sorted(m for m in sys.modules if m.endswith('_action')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    # Then no executor action module was loaded on its cold start
    assert out.strip() == "[]"


def test_every_registered_model_is_an_action() -> None:
    # Given every registration / Then its model is an ActionBase with a Literal kind
    for registration in registry.registrations().values():
        assert issubclass(registration.model, ActionBase)
        assert registration.kinds

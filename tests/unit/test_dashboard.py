"""The dashboard is defined once (autopilot_tools/dashboard.py), template.yaml carries exactly that
definition, every metric it draws is emitted by the code, and latencies come from event times."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from autopilot.domain import measures
from autopilot.domain.ledger import LedgerEntry, Outcome
from autopilot.records import replace
from autopilot.workflows import registry
from autopilot_tools import dashboard

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "layers" / "autopilot" / "autopilot"
BEGIN = "  # BEGIN generated dashboard"
END = "  # END generated dashboard"


def test_the_template_carries_the_generated_dashboard() -> None:
    # Given the template's dashboard resource, between its markers
    text = (ROOT / "template.yaml").read_text(encoding="utf-8")
    start = text.index("\n", text.index(BEGIN)) + 1
    block = text[start : text.index(END)]

    # Then it is exactly what autopilot_tools.dashboard generates (run
    # `python -m autopilot_tools.dashboard` and paste it between the markers after changing a chart)
    assert block == dashboard.resource()


def test_the_dashboard_body_is_json_once_substituted() -> None:
    body = json.dumps(dashboard.body())
    widgets = json.loads(body)["widgets"]
    titles = [w["properties"].get("title", "") for w in widgets]
    assert any("Dead-letter" in t for t in titles)
    assert any("Executor errors" in t for t in titles)
    assert any("Parked hours" in t for t in titles)
    assert any("Cost Explorer requests" in t for t in titles)
    assert widgets[0]["type"] == "text"
    assert "${LedgerTable}" in widgets[0]["properties"]["markdown"]


def _emitted_by_code() -> set[str]:
    """Metric names passed to `count(...)`, `measure(...)` or `Measure(...)` (what
    context.finish measures) anywhere in the package, as literals or as the measures module's
    constants, plus the outcome counts the executor derives from each registration
    (`<prefix><Outcome>`)."""
    constants = {
        name: value
        for name, value in vars(measures).items()
        if name.isupper() and isinstance(value, str)
    }
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id in {"count", "measure", "Measure"}
                and node.args
            ):
                continue
            first = node.args[0]
            if isinstance(first, ast.Constant) and isinstance(first.value, str):
                found.add(first.value)
            elif isinstance(first, ast.Name) and first.id in constants:
                found.add(constants[first.id])
    for kind in registry.registrations():
        for outcome in Outcome:
            found.add(f"{registry.metric_name(kind)}{outcome.value.title().replace('-', '')}")
    return found


def test_every_metric_a_widget_draws_is_emitted_by_some_code_path() -> None:
    missing = set(dashboard.EMITTED) - _emitted_by_code()
    assert not missing, f"the dashboard draws metrics nothing emits: {sorted(missing)}"


def entry(kind: str, outcome: Outcome, trigger: str, after: timedelta) -> LedgerEntry:
    event_time = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    return LedgerEntry(
        service_arn="arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        action_id="a",
        kind=kind,
        trigger=trigger,
        trigger_id="e",
        trigger_time=event_time,
        recorded_at=event_time + after,
        outcome=outcome,
    )


def test_push_to_deploy_is_measured_from_the_ecr_events_time() -> None:
    # Given a deploy recorded 1.25 s after the ECR event's own time
    found = measures.measures(
        entry("deploy", Outcome.DEPLOYED, "ecr-push", timedelta(milliseconds=1250))
    )

    # Then the latency is exactly that, in milliseconds
    assert [(m.name, m.unit, m.value) for m in found] == [
        (measures.PUSH_TO_DEPLOY, "Milliseconds", 1250.0)
    ]


def test_alarm_to_rollback_is_measured_from_the_alarm_events_time() -> None:
    found = measures.measures(entry("rollback", Outcome.ROLLED_BACK, "alarm", timedelta(seconds=3)))
    assert [(m.name, m.value) for m in found] == [(measures.ALARM_TO_ROLLBACK, 3000.0)]


def test_an_operators_rollback_is_no_alarm_latency_and_holds_are_counted() -> None:
    operator = entry("rollback", Outcome.ROLLED_BACK, "operator", timedelta(seconds=3))
    assert measures.measures(operator) == []
    held = replace(entry("deploy", Outcome.SKIPPED, "ecr-push", timedelta(0)), code="alarm-firing")
    assert [m.name for m in measures.measures(held)] == [measures.DEPLOY_HELD]


def test_alarm_to_rollback_is_measured_to_the_call_being_accepted_when_the_entry_says() -> None:
    # Given a rollback whose call ECS accepted 2.5 s after the alarm, recorded 3 s after it
    accepted = replace(
        entry("rollback", Outcome.ROLLED_BACK, "alarm", timedelta(seconds=3)),
        seconds_to_rollback="2.5",
    )
    # and one that ECS made by itself (the automation sent nothing)
    by_ecs = replace(accepted, seconds_to_rollback="", code="already-rolling-back")

    # Then the first measures 2.5 s, the second nothing
    assert [(m.name, m.value) for m in measures.measures(accepted)] == [
        (measures.ALARM_TO_ROLLBACK, 2500.0)
    ]
    assert measures.measures(by_ecs) == []

"""`autopilot local send`: route events, run what they trigger, report one JSON line per outcome.
Before and after each event, the local ECS moves its deployments on to the runner's clock
(`advance`): what that triggers (hooks, ECS's events, the actions they cause) is reported too."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from autopilot.adapters.ledger import Ledger
from autopilot.domain.ledger import LedgerEntry
from autopilot.domain.notifications import service_label
from autopilot.models.actions import ActionRequest, parse_action
from autopilot.models.lifecycle_hook import is_lifecycle_hook
from autopilot_tools.cli.lines import ledger_line
from autopilot_tools.local.deployments import EngineClient, publish
from autopilot_tools.local.runner import LocalApp

_ROUNDS = 50  # an engine round that asks for nothing ends it far sooner


def send(app: LocalApp, events: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """What THIS send did: an action whose ledger entry was written before it is a replay
    (the same event again: the executor returns the earlier outcome and changes nothing)."""
    lines: list[dict[str, Any]] = []
    for event in events:
        lines.extend(advance(app))
        lines.extend(_deliver(app, event))
        lines.extend(advance(app))
    return lines


def _now(app: LocalApp) -> datetime:
    return (app.clock or (lambda: datetime.now(UTC)))()


def _deliver(app: LocalApp, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    started = _now(app)
    return [*_route(app, event), *_consequences(app, started)]


def _consequences(app: LocalApp, started: datetime) -> list[dict[str, Any]]:
    """The actions queued since `started`, run, and what was notified."""
    lines = _run_actions(app, started)
    lines.extend({"type": "notification", **n} for n in app.notifications())
    return lines


def advance(app: LocalApp) -> list[dict[str, Any]]:
    """The local ECS's deployments, moved on to the runner's clock: each stage reached is a
    `deployment` line; ECS's events are delivered, the hooks it calls invoked, and what those
    trigger reported, until ECS has nothing more to do at this time."""
    engine, lines = EngineClient(app.endpoint), list[dict[str, Any]]()
    for _ in range(_ROUNDS):
        report = engine.advance(_now(app))
        if not any(report.get(k) for k in ("events", "invocations", "load", "changes")):
            break
        lines.extend({"type": "deployment", **change} for change in report["changes"])
        with app.aws_environment():
            publish(report["load"])
        for event in report["events"]:
            lines.extend(_deliver(app, event))
        for invocation in report["invocations"]:
            started = _now(app)
            function, result = app.invoke_lifecycle_hook(
                invocation["functionArn"], invocation["payload"]
            )
            answer = _hook_answer(result)
            # ECS has the answer before anything it caused runs: nothing can lose it.
            engine.answer(invocation["executionId"], answer)
            lines.append(_hook_line(invocation["payload"], function, answer))
            lines.extend(_consequences(app, started))
    return lines


def _hook_answer(result: object) -> dict[str, Any]:
    """What ECS makes of a hook invocation's result: its answer, or the error (a failed
    invocation, or a result that is not an object, which carries no hookStatus)."""
    if not isinstance(result, dict):
        return {"error": f"the function returned {type(result).__name__}, not an object"}
    if result.get("status") == "failed":
        return {"error": str(result.get("reason", "the invocation failed"))}
    return dict(result)


def _route(app: LocalApp, event: Mapping[str, Any]) -> list[dict[str, Any]]:
    event_id = event.get("id", "")
    routed = app.route(event)
    if not routed:
        what = (
            f"action={event.get('action')!r}"
            if "detail-type" not in event
            else f"source={event.get('source')!r} detail-type={event.get('detail-type')!r}"
        )
        return [
            {
                "type": "unrouted",
                "event": event_id,
                "reason": f"nothing in template.yaml takes {what}",
            }
        ]
    if is_lifecycle_hook(event):
        return [_hook_line(event, function, result) for function, result in routed]
    lines: list[dict[str, Any]] = []
    for function, result in routed:
        status = (result or {}).get("status", "handled")
        if status in {"ignored", "rejected", "failed"}:
            lines.append(
                {
                    "type": status,
                    "function": function,
                    "event": event_id,
                    "reason": result["reason"],
                }
            )
            continue
        if "decisions" not in (result or {}):
            # What the function did, when it is not a list of per-service decisions.
            extra = {k: v for k, v in (result or {}).items() if k != "status"}
            lines.append({"type": "result", "function": function, "event": event_id, **extra})
            continue
        lines.extend(
            {"type": "skipped", "function": function, "event": event_id, **_plain(decision)}
            for decision in result.get("decisions", [])
            if decision.get("decision") == "skipped"
        )
    return lines


def _hook_line(event: Mapping[str, Any], function: str, result: Any) -> dict[str, Any]:
    """What the lifecycle hook answered ECS (hookStatus, callBackDelay, hookDetails), or that
    it failed (ECS would roll the deployment back)."""
    details = event.get("executionDetails")
    service = details.get("serviceArn") if isinstance(details, Mapping) else None
    line: dict[str, Any] = {
        "type": "hook",
        "function": function,
        "execution": event.get("executionId", ""),
        "stage": event.get("lifecycleStage", ""),
        "service": service_label(service) if isinstance(service, str) else "",
    }
    answered = _hook_answer(result)
    if "error" in answered:
        return {**line, "type": "failed", "reason": answered["error"]}
    return {**line, **answered}


def _run_actions(app: LocalApp, started: datetime) -> list[dict[str, Any]]:
    """One line per action: its ledger entry, or `dead-lettered` if every attempt failed."""
    attempts: dict[str, tuple[ActionRequest, bool]] = {}
    for message in app.drain():
        request = parse_action(message.body)
        done_before = attempts.get(request.action_id, (request, False))[1]
        attempts[request.action_id] = (request, done_before or message.succeeded)
    lines = []
    with app.aws_environment():
        ledger = Ledger(app.physical("LedgerTable")["Ref"], retention_days=1)
        for request, succeeded in attempts.values():
            entry = ledger.find(request.service_arn, request.trigger_time, request.action_id)
            if succeeded and entry is not None:
                line = action_line(entry)
                if entry.recorded_at < started:
                    line["replay"] = True
                    line["reason"] = (
                        f"a replay: this event was already handled at {line['time']}; "
                        "nothing changed" + (f" ({line['reason']})" if line.get("reason") else "")
                    )
                lines.append(line)
            else:
                lines.append(
                    {
                        "type": "action",
                        "kind": request.kind,
                        "service": service_label(request.service_arn),
                        "outcome": "dead-lettered",
                        "reason": "every attempt failed: the message is in the actions "
                        "dead-letter queue (see the function logs on stderr)",
                    }
                )
    return lines


def action_line(entry: LedgerEntry) -> dict[str, Any]:
    return {"type": "action", **ledger_line(entry)}


def _plain(decision: Mapping[str, Any]) -> dict[str, Any]:
    return {"service": decision["service"], "reason": decision["reason"], "code": decision["code"]}

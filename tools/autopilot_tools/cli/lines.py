"""A ledger entry as one flat line: what `autopilot history` and `autopilot local send` print."""

from __future__ import annotations

from typing import Any

from autopilot.domain.fleet import task_definition_label
from autopilot.domain.ledger import LedgerEntry
from autopilot.domain.notifications import service_label


def ledger_line(entry: LedgerEntry) -> dict[str, Any]:
    line: dict[str, Any] = {
        "time": entry.recorded_at.isoformat(timespec="seconds"),
        "service": service_label(entry.service_arn),
        "kind": entry.kind,
        "outcome": entry.outcome.value,
        "code": entry.code,
        "reason": entry.reason,
        "from": _revision(entry.from_task_definition),
        "to": _revision(entry.to_task_definition),
        "repository": entry.repository,
        "tag": entry.tag,
        "digest": entry.digest,
        "containers": list(entry.containers),
        "deployment": entry.deployment_id,
        "hook": entry.hook_id,
        "strategy": entry.strategy,
        "via": entry.via,
        "seconds_to_rollback": entry.seconds_to_rollback,
        "seconds_to_traffic_back": entry.seconds_to_traffic_back,
        "trigger": entry.trigger,
        "trigger_id": entry.trigger_id,
        "requested_by": entry.requested_by,
        "hours_parked": entry.hours_parked,
        "saved_usd": entry.saved_usd,
        "window": entry.window,
        "blue": entry.blue,
        "green": entry.green,
    }
    return {k: v for k, v in line.items() if v not in ("", [])}


def _revision(arn: str) -> str:
    return task_definition_label(arn) if arn else ""

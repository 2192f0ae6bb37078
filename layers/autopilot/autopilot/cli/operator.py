"""Operator commands: status, history, rollback, pause, resume, release.

They work against a deployed stack (resources read from its CloudFormation outputs) or, when
AWS_ENDPOINT_URL points at a local moto server, against the local runner's resources. Actions
go through the actions queue like automated ones, so they are serialized and recorded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.queues import ActionQueue
from autopilot.adapters.tagging import TaggingGateway
from autopilot.cli.lines import ledger_line
from autopilot.domain.config import TRACK
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.notifications import service_label
from autopilot.domain.state import digests_of
from autopilot.models.actions import ActionRequest, OperatorRequest, RollbackRequest

_WAIT_SECONDS = 60


class OperatorError(RuntimeError):
    """The command cannot be carried out as asked; the message says why."""


@dataclass
class Backend:
    """Where the application's resources are, and how queued actions get executed."""

    ledger: Ledger
    queue: ActionQueue
    ecs: EcsGateway
    tagging: TaggingGateway
    operator: str
    run_queue: Callable[[], object] | None = None  # locally: drain the queue as Lambda would

    def submit(self, request: ActionRequest) -> LedgerEntry | None:
        """Queue the action; wait for the executor's entry (None if it has not come yet)."""
        self.queue.send(request)
        if self.run_queue is not None:
            self.run_queue()
        deadline = time.monotonic() + _WAIT_SECONDS
        while True:
            entry = self.ledger.find(request.service_arn, request.trigger_time, request.action_id)
            if entry is not None and entry.outcome is not Outcome.STARTED:
                return entry
            if time.monotonic() > deadline:
                return None
            time.sleep(2)

    def service_arn(self, name: str) -> str:
        """`cluster/service` or an ARN -> the service's ARN, checked to exist."""
        if name.startswith("arn:"):
            return self.ecs.describe_service(name).arn
        cluster, slash, service = name.partition("/")
        if not slash or not cluster or not service:
            raise OperatorError(f"name a service as cluster/service or by ARN, not {name!r}")
        arns = [a for a in self.tagging.services_tagged(TRACK) if a.endswith(f"/{name}")]
        if not arns:
            raise OperatorError(f"no managed service {name} (it needs an autopilot:track tag)")
        return arns[0]


def _request_fields(backend: Backend, service_arn: str, kind: str) -> dict[str, Any]:
    request_id = uuid.uuid4().hex
    return {
        "action_id": action_id(request_id, service_arn, kind),
        "service_arn": service_arn,
        "trigger": "operator",
        "trigger_id": backend.operator,
        "trigger_time": datetime.now(UTC),
    }


def rollback(backend: Backend, service: str, to_revision: str | None) -> dict[str, Any]:
    """Refused at once when `--to` names no revision, or one of another family; the executor
    checks again when it acts (a message is a claim, not a fact)."""
    arn = backend.service_arn(service)
    if to_revision is not None:
        from autopilot.workflows.rollback_action import resolve_revision  # noqa: PLC0415

        try:
            resolve_revision(
                backend.ecs, backend.ecs.describe_service(arn), to_revision, datetime.now(UTC)
            )
        except PermanentFailureError as exc:
            raise OperatorError(f"rollback refused: {exc}") from exc
    request = RollbackRequest(
        **_request_fields(backend, arn, "rollback"), automatic=False, to_revision=to_revision
    )
    return _outcome(backend.submit(request), arn, "rollback")


def operate(backend: Backend, kind: Literal["pause", "resume"], service: str) -> dict[str, Any]:
    arn = backend.service_arn(service)
    request = OperatorRequest(**_request_fields(backend, arn, kind), kind=kind)
    return _outcome(backend.submit(request), arn, kind)


def release(backend: Backend, digest: str) -> dict[str, Any]:
    quarantined = backend.ledger.quarantined({digest})
    if digest not in quarantined:
        raise OperatorError(f"{digest} is not quarantined")
    arn = quarantined[digest].service_arn
    request = OperatorRequest(
        **_request_fields(backend, arn, "release"), kind="release", digest=digest
    )
    return _outcome(backend.submit(request), arn, "release")


def _outcome(entry: LedgerEntry | None, service_arn: str, kind: str) -> dict[str, Any]:
    if entry is None:
        return {
            "service": service_label(service_arn),
            "kind": kind,
            "outcome": "queued",
            "reason": "the executor has not recorded it yet: see autopilot history",
        }
    return ledger_line(entry)


def history(backend: Backend, service: str, limit: int) -> list[dict[str, Any]]:
    arn = backend.service_arn(service)
    return [ledger_line(e) for e in backend.ledger.history(arn, limit)]


def status(backend: Backend) -> dict[str, Any]:
    services = backend.ecs.describe_services(backend.tagging.services_tagged(TRACK))
    quarantine = backend.ledger.quarantined()
    rows = []
    for service in sorted(services, key=lambda s: s.label):
        state = backend.ledger.state(service.arn)
        good = state.known_good[0] if state.known_good else None
        latest = state.latest
        rows.append(
            {
                "service": service.label,
                "track": service.tags.get(TRACK, ""),
                "revision": service.task_definition_label,
                "digests": sorted(
                    short_digest(d) for d in digests_of([c.image for c in service.containers])
                ),
                "last_known_good": task_definition_label(good.task_definition) if good else "",
                "latest": f"{latest.kind} {task_definition_label(latest.task_definition)} "
                f"{latest.state.value}"
                if latest
                else "",
                "paused": state.paused,
                "frozen": state.frozen_reason if state.frozen else "",
            }
        )
    return {
        "services": rows,
        "quarantined": [
            {
                "digest": q.digest,
                "service": service_label(q.service_arn),
                "reason": q.reason,
                "since": q.quarantined_at.isoformat(timespec="seconds"),
            }
            for q in quarantine.values()
        ],
    }


def render_status(report: dict[str, Any]) -> str:
    header = ("SERVICE", "TRACK", "RUNNING", "LAST KNOWN GOOD", "LATEST", "STATE")
    rows = [header]
    for s in report["services"]:
        flags = "frozen: " + s["frozen"] if s["frozen"] else ("paused" if s["paused"] else "ok")
        running = f"{s['revision']} {' '.join(s['digests'])}".strip()
        rows.append(
            (
                s["service"],
                s["track"],
                running,
                s["last_known_good"] or "-",
                s["latest"] or "-",
                flags,
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = ["  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)) for r in rows]
    if report["quarantined"]:
        lines.append("")
        lines.append("QUARANTINED")
        lines.extend(
            f"{short_digest(q['digest'])}  {q['service']}  {q['reason']} (since {q['since']})"
            for q in report["quarantined"]
        )
    return "\n".join(lines)


def render_entry(line: dict[str, Any]) -> str:
    parts = [line.get("time", ""), line["service"], line["kind"], line["outcome"]]
    change = f"{line.get('from', '')} -> {line.get('to', '')}" if line.get("to") else ""
    image = f"{line['repository']}:{line.get('tag', '')}" if line.get("repository") else ""
    trigger = f"{line.get('trigger', '')} {line.get('trigger_id', '')}".strip()
    details = [v for v in (change, image, line.get("reason", ""), trigger) if v]
    return "  ".join(p for p in parts if p) + ("  " + "; ".join(details) if details else "")


def aws_backend(stack: str) -> Backend:
    """The deployed stack's ledger and queue, from its CloudFormation outputs."""
    cloudformation = clients.cloudformation()
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        raise OperatorError(f"cannot read stack {stack}: {exc}") from exc
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    identity = clients.sts().get_caller_identity()["Arn"]
    return Backend(
        ledger=Ledger(outputs["LedgerTableName"], retention_days=400),
        queue=ActionQueue(outputs["ActionsQueueUrl"]),
        ecs=EcsGateway(),
        tagging=TaggingGateway(),
        operator=identity,
    )

"""Operator commands: status, history, rollback, pause, resume, release, approve, reject.

They work against a deployed stack (resources read from its CloudFormation outputs) or, when
AWS_ENDPOINT_URL points at a local moto server, against the local runner's resources. Actions
go through the actions queue like automated ones, so they are serialized and recorded.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.queues import ActionQueue, DeadLetteredActions
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.config import TRACK
from autopilot.domain.errors import PermanentFailureError
from autopilot.domain.fleet import short_digest, task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.notifications import service_label
from autopilot.domain.state import digests_of
from autopilot.models.actions import (
    ActionRequest,
    ApprovalRequest,
    OperatorRequest,
    RollbackRequest,
)
from autopilot_tools.cli.lines import ledger_line

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
    dead_letters: DeadLetteredActions | None = None  # the actions given up, for `redrive`

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


def rollback(
    backend: Backend, service: str, to_revision: str | None, *, quarantine: bool = False
) -> dict[str, Any]:
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
        **_request_fields(backend, arn, "rollback"),
        automatic=False,
        to_revision=to_revision,
        quarantine=quarantine,
    )
    return _outcome(backend.submit(request), arn, "rollback")


def operate(backend: Backend, kind: Literal["pause", "resume"], service: str) -> dict[str, Any]:
    arn = backend.service_arn(service)
    request = OperatorRequest(**_request_fields(backend, arn, kind), kind=kind)
    return _outcome(backend.submit(request), arn, kind)


def approval(backend: Backend, kind: Literal["approve", "reject"], service: str) -> dict[str, Any]:
    """Approve (CONTINUE) or reject (ROLLBACK) the deployment paused at the service's PAUSE
    hook. Which deployment and hook the executor reads from ECS when it acts: the command
    names only the service."""
    arn = backend.service_arn(service)
    request = ApprovalRequest(**_request_fields(backend, arn, kind), kind=kind)
    return _outcome(backend.submit(request), arn, kind)


MIN_DIGEST_PREFIX = 12  # what status shows


def resolve_digest(digest: str, quarantined: Collection[str]) -> str:
    """A full digest, or a unique prefix of 12+ hex characters (with or without `sha256:`),
    -> the one quarantined digest it names."""
    given = digest.strip().lower()
    hex_part = given.partition(":")[2] if ":" in given else given
    if len(hex_part) < MIN_DIGEST_PREFIX:
        raise OperatorError(
            f"{digest} is too short: give at least {MIN_DIGEST_PREFIX} characters of the digest "
            "(autopilot status lists quarantined digests)"
        )
    matches = [d for d in quarantined if d.partition(":")[2].startswith(hex_part)]
    if ":" in given:
        matches = [d for d in matches if d.startswith(given)]
    if not matches:
        raise OperatorError(
            f"{digest} is not quarantined: nothing to release (autopilot status lists the "
            "quarantined digests)"
        )
    if len(matches) > 1:
        raise OperatorError(
            f"{digest} matches {len(matches)} quarantined digests: give more characters"
        )
    return matches[0]


def release(backend: Backend, digest: str) -> dict[str, Any]:
    quarantined = backend.ledger.quarantined()
    full = resolve_digest(digest, quarantined.keys())
    arn = quarantined[full].service_arn
    request = OperatorRequest(
        **_request_fields(backend, arn, "release"), kind="release", digest=full
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
    """Every managed service with its state, and the quarantine. Stable JSON types: full
    digests, booleans, ISO times; a service running a quarantined digest says which."""
    services = backend.ecs.describe_services(backend.tagging.services_tagged(TRACK))
    quarantine = backend.ledger.quarantined()
    rows = []
    for service in sorted(services, key=lambda s: s.label):
        state = backend.ledger.state(service.arn)
        good = state.known_good[0] if state.known_good else None
        latest = state.latest
        digests = sorted(digests_of([c.image for c in service.containers]))
        rows.append(
            {
                "service": service.label,
                "track": service.tags.get(TRACK, ""),
                "revision": service.task_definition_label,
                "digests": digests,
                "quarantined_digests": [d for d in digests if d in quarantine],
                "last_known_good": task_definition_label(good.task_definition) if good else "",
                "latest": f"{latest.kind} {task_definition_label(latest.task_definition)} "
                f"{latest.state.value}"
                if latest
                else "",
                "paused": state.paused,
                "frozen": state.frozen,
                "frozen_reason": state.frozen_reason if state.frozen else "",
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
        flags = [
            f"frozen: {s['frozen_reason']} (autopilot resume {s['service']})"
            if s["frozen"]
            else "",
            f"paused (autopilot resume {s['service']})" if s["paused"] else "",
            "RUNNING QUARANTINED " + " ".join(map(short_digest, s["quarantined_digests"]))
            if s["quarantined_digests"]
            else "",
        ]
        running = f"{s['revision']} {' '.join(map(short_digest, s['digests']))}".strip()
        rows.append(
            (
                s["service"],
                s["track"],
                running,
                s["last_known_good"] or "-",
                s["latest"] or "-",
                "; ".join(f for f in flags if f) or "ok",
            )
        )
    widths = [max(len(str(r[i])) for r in rows) for i in range(len(header))]
    lines = [
        "  ".join(str(v).ljust(w) for v, w in zip(r, widths, strict=True)).rstrip() for r in rows
    ]
    if report["quarantined"]:
        lines.append("")
        lines.append("QUARANTINED (autopilot release DIGEST lets one deploy again)")
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


def redrive(backend: Backend, service: str | None) -> dict[str, Any]:
    """Put the actions given up after every attempt back in line; the executor resumes each
    where it stopped (its ledger entry holds the intent)."""
    if backend.dead_letters is None:
        raise OperatorError(
            "this stack has no ActionsDeadLetterQueueUrl output: update it (sam deploy)"
        )
    arn = backend.service_arn(service) if service else None
    moved = backend.dead_letters.redrive(arn)
    if backend.run_queue is not None and moved:
        backend.run_queue()
    label = service or "every service"
    return {
        "service": service or "*",
        "kind": "redrive",
        "outcome": "redriven" if moved else "nothing-to-redrive",
        "code": "" if moved else "already-empty",
        "reason": f"{len(moved)} action(s) of {label} back in the actions queue"
        if moved
        else f"no action of {label} waits in the actions dead-letter queue",
    }


def aws_backend(stack: str) -> Backend:
    """The deployed stack's ledger and queue, from its CloudFormation outputs."""
    outputs = stack_outputs(stack)
    identity = clients.sts().get_caller_identity()["Arn"]
    return Backend(
        ledger=Ledger(outputs["LedgerTableName"], retention_days=400),
        queue=ActionQueue(outputs["ActionsQueueUrl"]),
        ecs=EcsGateway(),
        tagging=TaggingGateway(),
        operator=identity,
        dead_letters=DeadLetteredActions(
            outputs["ActionsDeadLetterQueueUrl"], outputs["ActionsQueueUrl"]
        )
        if "ActionsDeadLetterQueueUrl" in outputs
        else None,
    )


def describe_stack(stack: str) -> Any:
    """The deployed stack; a missing one is a clear error naming the region and what to do."""
    cloudformation = clients.cloudformation()
    try:
        [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    except ClientError as exc:
        if is_code(exc, "ValidationError"):
            raise OperatorError(
                f"cannot read stack {stack}: there is none in {clients.region()}; deploy it "
                "(sam deploy --guided), or name yours with --stack or AUTOPILOT_STACK, or set "
                "AWS_DEFAULT_REGION to its region"
            ) from exc
        raise
    return described


def stack_outputs(stack: str) -> dict[str, str]:
    described = describe_stack(stack)
    outputs = {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}
    missing = {"LedgerTableName", "ActionsQueueUrl"} - outputs.keys()
    if missing:
        raise OperatorError(
            f"stack {stack} has no output {', '.join(sorted(missing))}: is it an ECS Autopilot "
            "stack? Name the right one with --stack or AUTOPILOT_STACK"
        )
    return outputs

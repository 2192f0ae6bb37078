"""A local ECS that really deploys: service deployments move through ECS's documented stages on
the runner's clock, call lifecycle hooks, wait at PAUSE hooks, shift the load balancer's traffic,
honour the circuit breaker and StopServiceDeployment, and emit ECS's events. It runs in the
process that runs the moto server (`moto_ecs_deployments` keeps the records and answers the API);
the local runner drives it (`autopilot_tools.local.deployments`): it asks the engine to advance
to its clock, invokes the hook functions the engine asks for, hands back their answers, routes
the events through EventBridge and publishes the load the engine describes as the ALB would.

What it imitates, with AWS's pages:

- **Rolling** (`strategy` ROLLING, the default): the new tasks start (here: one minute); the
  deployment then completes. When the image's tasks do not start (a property of the image in
  the local fleet, `fleet.behaviour`), the deployment circuit breaker
  (`deploymentCircuitBreaker.enable`) fails the deployment and, with `rollback`, deploys the
  last completed revision again, as a new deployment; without the breaker the deployment stays
  IN_PROGRESS (tasks keep failing, and no end event comes):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-circuit-breaker.html
- **Blue/green, linear, canary** (`BLUE_GREEN`, `LINEAR`, `CANARY`): the stages PRE_SCALE_UP,
  SCALE_UP (green's tasks start: one minute), POST_SCALE_UP, TEST_TRAFFIC_SHIFT (the test
  listener rule forwards to green), POST_TEST_TRAFFIC_SHIFT, PRODUCTION_TRAFFIC_SHIFT,
  POST_PRODUCTION_TRAFFIC_SHIFT, BAKE_TIME (`bakeTimeInMinutes`) and CLEAN_UP (blue scaled in;
  the deployment SUCCESSFUL). RECONCILE_SERVICE, which "only happens when you start a new
  service deployment with more than 1 service revision in an ACTIVE state", is not modelled:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_ServiceDeployment.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/blue-green-deployment-how-it-works.html
  Production shifts at once for BLUE_GREEN; for CANARY `canaryPercent` (default 5.0) first,
  the rest after `canaryBakeTimeInMinutes` (default 10); for LINEAR `stepPercent` (default 10.0)
  every `stepBakeTimeInMinutes` (default 6), with no wait after 100%. The shift is the weights
  of the production listener rule's forward action, as ECS sets them:
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_CanaryConfiguration.html
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_LinearConfiguration.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/canary-deployment.html
- **Lifecycle hooks** (`deploymentConfiguration.lifecycleHooks`), at the stages they name, one
  after the other. A Lambda hook (`hookTargetArn`) is invoked with the documented payload
  (`executionId`, `lifecycleStage`, `resourceArn` = the service deployment,
  `executionDetails` with `serviceArn`, `targetServiceRevisionArn`, `testTrafficWeights` and
  `productionTrafficWeights` by service revision, and `hookDetails`: the configured ones, then
  what the last IN_PROGRESS answer returned). SUCCEEDED goes on; IN_PROGRESS is invoked again
  after `callBackDelay` seconds (default 30); FAILED, no `hookStatus`, or an error rolls back.
  At PRODUCTION_TRAFFIC_SHIFT the hooks run once the first shift is made, and the next shift
  waits for them (so a canary is judged while it takes its share of production):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/deployment-lifecycle-hooks.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/lambda-lifecycle-hooks.html
  A PAUSE hook (`targetType` PAUSE) waits in `lifecycleHookDetails` (`hookId`, `targetType`,
  `status` AWAITING_ACTION, `expiresAt` = now + `timeoutConfiguration.timeoutInMinutes`,
  default 1440, `timeoutAction`, default ROLLBACK) until ContinueServiceDeployment or the
  timeout, and ECS's `ECS Hook State Change` event goes out (AWS documents no detail for it:
  the engine sends only `eventName` HOOK_AWAITING_ACTION, as the sample does):
  https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_DeploymentLifecycleHookDetail.html
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/pause-lifecycle-hooks.html
- **Rollback** (StopServiceDeployment ROLLBACK, ContinueServiceDeployment ROLLBACK, a failed
  hook, a timed-out pause, green's tasks not starting): production and test traffic go back to
  blue at once; ECS then invokes the Lambda hooks of PRODUCTION_TRAFFIC_SHIFT and
  TEST_TRAFFIC_SHIFT again, green at 0% of both ("Lifecycle hooks during rollback" on the
  deployment lifecycle hooks page), and the deployment is ROLLBACK_SUCCESSFUL, with
  `rollback.reason`, once they answer (a hook failing then: ROLLBACK_FAILED). A rolling
  deployment stopped with rollback deploys its source again (its tasks take their minute):
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/stop-service-deployment.html
- **Events**: `ECS Deployment State Change` with `eventType` INFO or ERROR, `eventName`
  SERVICE_DEPLOYMENT_IN_PROGRESS ("sent for both initial deployments and rollback
  deployments", the difference being the `reason`), SERVICE_DEPLOYMENT_COMPLETED ("once a
  service reaches a steady state") and SERVICE_DEPLOYMENT_FAILED ("for services with
  deployment circuit breaker logic turned on"), with `deploymentId` (the `ecs-svc/` id of the
  service's deployments entry), `updatedAt` and `reason`, in the EventBridge envelope. A
  rollback is a deployment of its own (its own id): IN_PROGRESS, saying what it rolls back,
  then COMPLETED. AWS documents no FAILED event for a blue/green rollback, and none is sent:
  https://docs.aws.amazon.com/AmazonECS/latest/developerguide/ecs_service_deployment_events.html
- **Load**: a service with a production and a test listener rule serves
  `PRODUCTION_REQUESTS` and `TEST_REQUESTS` a minute, split by the rules' weights; each target
  group's requests are served by the image of the service revision on it, whose error rate
  and latency are properties of the image (`fleet.behaviour`). The engine describes whole
  minutes of it; the runner publishes them as `AWS/ApplicationELB` metrics.

Time is the runner's: a deployment starts when the engine first sees it, and moves only as far
as the clock the runner passes. A clock that goes back moves nothing.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any

from autopilot_tools.local import moto_ecs_deployments as records
from autopilot_tools.local.moto_canary import (
    current_revision,
    image_digest,
    pair_entry,
    revisions_of,
)

_log = logging.getLogger(__name__)
PRODUCTION_REQUESTS = 1000  # a minute, on the production listener
TEST_REQUESTS = 100  # a minute, on the test listener
TASKS_START = timedelta(minutes=1)
_CALLBACK_DELAY = 30  # seconds: ECS's default between IN_PROGRESS answers
_LOAD_HISTORY = timedelta(hours=2)  # a clock that jumps days ahead publishes this much
_SHIFTING = ("BLUE_GREEN", "LINEAR", "CANARY")
STAGES = (
    "PRE_SCALE_UP",
    "SCALE_UP",
    "POST_SCALE_UP",
    "TEST_TRAFFIC_SHIFT",
    "POST_TEST_TRAFFIC_SHIFT",
    "PRODUCTION_TRAFFIC_SHIFT",
    "POST_PRODUCTION_TRAFFIC_SHIFT",
    "BAKE_TIME",
    "CLEAN_UP",
)
_ENDED = {"SUCCESSFUL", "STOPPED", "ROLLBACK_SUCCESSFUL", "ROLLBACK_FAILED"}
# Stages whose hooks ECS invokes again while it rolls back, production's first (undone first).
_ROLLBACK_STAGES = ("PRODUCTION_TRAFFIC_SHIFT", "TEST_TRAFFIC_SHIFT")
_STEPS = 1000  # transitions of one deployment in one advance: far more than any has


@dataclass
class Progress:
    """The engine's own state of one service deployment."""

    since: datetime  # when the current stage (or the rolling scale-up) began
    stage: str
    clock: datetime  # the latest time the engine moved it to
    hook: int = 0  # hooks of this stage done
    execution: str = ""  # the Lambda hook execution in flight
    due: datetime | None = None  # when to invoke it (again)
    asked: bool = False  # invoked, its answer not handed back yet
    details: dict[str, Any] = field(default_factory=dict)  # hookDetails for the next call
    hooks_done: datetime | None = None  # when the stage's last hook succeeded
    shifted: float = 0.0  # percent of production on green
    rollback_id: str = ""  # a rolling rollback's own deployment
    rollback_at: datetime | None = None  # when a timed-out pause rolled it back
    rolling_back: bool = False  # traffic is back on blue; the rollback's hooks run
    pauses: dict[str, str] = field(default_factory=dict)  # "STAGE#hook" -> its hookId
    done: bool = False


@dataclass
class _Engine:
    progress: dict[str, Progress] = field(default_factory=dict)
    published: dict[str, datetime] = field(default_factory=dict)  # service ARN -> load until
    answers: dict[str, dict[str, Any]] = field(default_factory=dict)  # execution id -> answer


@dataclass
class Report:
    events: list[dict[str, Any]] = field(default_factory=list)
    invocations: list[dict[str, Any]] = field(default_factory=list)
    load: list[dict[str, Any]] = field(default_factory=list)
    changes: list[dict[str, Any]] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return json.loads(json.dumps(self.__dict__, default=_iso))  # type: ignore[no-any-return]


def _iso(value: object) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    raise TypeError(type(value).__name__)


def _engine(backend: Any) -> _Engine:
    return records.kept_on(backend, "_autopilot_engine", _Engine)


def _backends() -> list[Any]:
    from moto.ecs.models import ecs_backends  # noqa: PLC0415 - moto: local only

    return [
        ecs_backends[account][region]
        for account in list(ecs_backends.keys())
        for region in list(ecs_backends[account].keys())
    ]


# -- the API the runner calls ---------------------------------------------------------------


def advance(now: datetime) -> Report:
    """Move every service deployment as far as `now`; what the runner must do about it. A
    deployment the engine cannot move (its service, revision or load balancer gone) is logged
    with the reason, reported as ENGINE_ERROR and left alone: it never stops the others."""
    if now.tzinfo is None:
        raise ValueError(f"the runner's clock must say its zone: {now.isoformat()}")
    report = Report()
    for backend in _backends():
        engine, store = _engine(backend), records.store_of(backend)
        for arn, record in list(store.deployments.items()):
            progress = engine.progress.get(arn)
            if progress is not None and (progress.done or now < progress.clock):
                continue
            try:
                _advance_one(backend, engine, record, now, report)
            except Exception as exc:  # noqa: BLE001 - one broken record must not stop the rest
                _log.exception("the local ECS cannot move %s", arn)
                engine.progress.setdefault(arn, Progress(now, "", now)).done = True
                report.changes.append(
                    {
                        "deployment": arn.rsplit("/", 1)[-1],
                        "at": now,
                        "status": "ENGINE_ERROR",
                        "reason": f"{type(exc).__name__}: {exc}",
                    }
                )
        for service in list(backend.services.values()):
            if service.status != "ACTIVE":
                continue
            try:
                _publish_load(backend, service, now, report)
            except Exception:  # noqa: BLE001 - no load from it, the rest goes on
                _log.exception("no load for %s", service.arn)
    return report


def _advance_one(
    backend: Any, engine: _Engine, record: dict[str, Any], now: datetime, report: Report
) -> None:
    arn = record["serviceDeploymentArn"]
    progress = engine.progress.get(arn)
    service = _service(backend, record)
    if service is None:  # deleted with its cluster mid-deployment: nothing left to move
        if progress is not None:
            progress.done = True
        return
    if progress is None:
        if record["status"] in _ENDED:
            return  # completed before the engine saw it (an in-process test)
        progress = _start(backend, record, service, now, report)
        engine.progress[arn] = progress
    _Run(backend, record, service, progress, report, now).run()
    progress.clock = max(progress.clock, now)
    if progress.done:
        engine.answers.pop(progress.execution, None)  # an answer nothing waits for any more


def answer(execution_id: str, response: dict[str, Any]) -> bool:
    """A Lambda hook's answer (`{"error": ...}` when the invocation failed); False when no
    execution has that id."""
    for backend in _backends():
        engine = _engine(backend)
        if any(p.execution == execution_id and p.asked for p in engine.progress.values()):
            engine.answers[execution_id] = response
            return True
    return False


# -- one deployment -------------------------------------------------------------------------


def _service(backend: Any, record: dict[str, Any]) -> Any:
    for service in backend.services.values():
        if service.arn == record["serviceArn"] and service.status == "ACTIVE":
            return service
    return None


def _start(
    backend: Any, record: dict[str, Any], service: Any, now: datetime, report: Report
) -> Progress:
    strategy = _strategy(record)
    stage = STAGES[0] if strategy in _SHIFTING else "SCALE_UP"
    progress = Progress(since=now, stage=stage, clock=now)
    record["startedAt"] = now  # on the runner's clock, as everything after it
    deployment_id = records.store_of(backend).ecs_deployment_ids[record["serviceDeploymentArn"]]
    report.events.append(
        _deployment_event(
            service,
            deployment_id,
            "SERVICE_DEPLOYMENT_IN_PROGRESS",
            now,
            f"ECS deployment {deployment_id} in progress.",
        )
    )
    if strategy in _SHIFTING:
        record["lifecycleStage"] = stage
        _change(report, service, record, now, status="IN_PROGRESS", stage=stage, strategy=strategy)
    else:
        _change(report, service, record, now, status="IN_PROGRESS", strategy=strategy)
    return progress


def _strategy(record: dict[str, Any]) -> str:
    """The deployment's strategy, as configured when it started (a later UpdateService of the
    configuration changes the next deployment, not this one)."""
    return str((record.get("deploymentConfiguration") or {}).get("strategy") or "ROLLING")


def _change(
    report: Report, service: Any, record: dict[str, Any], at: datetime, **what: Any
) -> None:
    report.changes.append(
        {
            "service": f"{service.cluster_name}/{service.name}",
            "deployment": record["serviceDeploymentArn"].rsplit("/", 1)[-1],
            "at": at,
            **what,
        }
    )


@dataclass
class _Run:
    backend: Any
    record: dict[str, Any]
    service: Any
    progress: Progress
    report: Report
    now: datetime

    @property
    def configuration(self) -> dict[str, Any]:
        return dict(self.record.get("deploymentConfiguration") or {})

    @property
    def deployment_id(self) -> str:
        store = records.store_of(self.backend)
        return store.ecs_deployment_ids[self.record["serviceDeploymentArn"]]

    def run(self) -> None:
        for _ in range(_STEPS):
            if not self.step():
                return
        raise RuntimeError(f"more than {_STEPS} transitions at once: a loop in the engine")

    def step(self) -> bool:
        """One transition, if one is due; whether there was one."""
        status = self.record["status"]
        if self.progress.done:
            return False
        shifting = _strategy(self.record) in _SHIFTING
        if status in {"ROLLBACK_REQUESTED", "STOP_REQUESTED"}:
            at = max(self.progress.rollback_at or self.now, self.progress.since)
            if shifting:
                self.begin_rollback(at)
            else:
                self.start_rolling_rollback(at, "ECS deployment rolling back")
            return True
        if status == "ROLLBACK_IN_PROGRESS":
            return self.rollback_hooks() if shifting else self.rolling_rollback()
        if status in _ENDED:
            self.progress.done = True
            return False
        return self.shifting_step() if shifting else self.rolling_step()

    # -- rolling ------------------------------------------------------------------------

    def rolling_step(self) -> bool:
        due = self.progress.since + TASKS_START
        if self.now < due:
            return False
        if _starts(self.backend, self.record["targetServiceRevision"]["arn"]):
            self.complete(due)
            return True
        breaker = self.configuration.get("deploymentCircuitBreaker") or {}
        if not breaker.get("enable"):
            return False  # the tasks keep failing; ECS waits, and sends nothing
        reason = "ECS deployment circuit breaker: task failed to start."
        self.event("SERVICE_DEPLOYMENT_FAILED", due, reason)
        records.deployment_settled(self.service, self.deployment_id, "FAILED", reason)
        if not breaker.get("rollback"):
            self.record.update(status="STOPPED", finishedAt=due, updatedAt=due, statusReason=reason)
            self.progress.done = True
            _change(self.report, self.service, self.record, due, status="STOPPED", reason=reason)
            return True
        previous = records.previous_deployment(self.service, self.deployment_id)
        records.roll_back(self.backend, self.record, "the deployment circuit breaker")
        self.start_rolling_rollback(
            due, f"ECS deployment circuit breaker: rolling back to deploymentId {previous}."
        )
        return True

    def start_rolling_rollback(self, at: datetime, reason: str) -> None:
        """A rolling service goes back by deploying its source revision again: its own
        deployment, whose tasks take their minute to start."""
        self.record.update(status="ROLLBACK_IN_PROGRESS", updatedAt=at)
        self.progress.rollback_id = records.new_primary(self.service)
        self.progress.since = at
        self.report.events.append(
            _deployment_event(
                self.service,
                self.progress.rollback_id,
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                at,
                reason,
            )
        )
        _change(self.report, self.service, self.record, at, status="ROLLBACK_IN_PROGRESS")

    def rolling_rollback(self) -> bool:
        due = self.progress.since + TASKS_START
        if self.now < due:
            return False
        reason = f"ECS deployment {self.progress.rollback_id} completed."
        records.deployment_settled(self.service, self.progress.rollback_id, "COMPLETED", reason)
        self.report.events.append(
            _deployment_event(
                self.service, self.progress.rollback_id, "SERVICE_DEPLOYMENT_COMPLETED", due, reason
            )
        )
        self.record.update(status="ROLLBACK_SUCCESSFUL", finishedAt=due, updatedAt=due)
        self.progress.done = True
        _change(self.report, self.service, self.record, due, status="ROLLBACK_SUCCESSFUL")
        return True

    # -- blue/green, linear, canary -----------------------------------------------------

    def shifting_step(self) -> bool:
        progress = self.progress
        hooks = [
            h
            for h in self.configuration.get("lifecycleHooks") or []
            if progress.stage in (h.get("lifecycleStages") or [])
        ]
        while progress.hook < len(hooks):
            verdict = self.hook(hooks[progress.hook])
            if verdict == "waiting":
                return False
            if verdict != "succeeded":
                records.roll_back(self.backend, self.record, verdict)
                return True
            progress.hook += 1
            progress.execution, progress.due, progress.asked = "", None, False
            progress.hooks_done = self.now  # ECS goes on when it sees the answer: this look
        # A stage goes on when its own time is up and its hooks are done (an approval given
        # an hour in moves it on when the engine next looks, not at the stage's start).
        due = max(progress.since + self.duration(), progress.hooks_done or progress.since)
        if self.now < due:
            return False
        if progress.stage == "SCALE_UP" and not _starts(
            self.backend, self.record["targetServiceRevision"]["arn"]
        ):
            records.roll_back(self.backend, self.record, "green's tasks failing to start")
            return True
        if progress.stage == "PRODUCTION_TRAFFIC_SHIFT" and progress.shifted < 100:
            self.shift_production(due)
            progress.since = due
            return True
        index = STAGES.index(progress.stage)
        self.enter(STAGES[index + 1], due)
        return True

    def duration(self) -> timedelta:
        stage, configuration = self.progress.stage, self.configuration
        if stage == "SCALE_UP":
            return TASKS_START
        if stage == "BAKE_TIME":
            return timedelta(minutes=int(configuration.get("bakeTimeInMinutes") or 0))
        if stage != "PRODUCTION_TRAFFIC_SHIFT" or self.progress.shifted >= 100:
            return timedelta()
        strategy = _strategy(self.record)
        if strategy == "CANARY":
            canary = configuration.get("canaryConfiguration") or {}
            return timedelta(minutes=int(canary.get("canaryBakeTimeInMinutes", 10)))
        if strategy == "LINEAR":
            linear = configuration.get("linearConfiguration") or {}
            return timedelta(minutes=int(linear.get("stepBakeTimeInMinutes", 6)))
        return timedelta()

    def enter(self, stage: str, at: datetime) -> None:
        progress = self.progress
        progress.stage, progress.since, progress.hook, progress.hooks_done = stage, at, 0, None
        progress.execution, progress.due, progress.asked, progress.details = "", None, False, {}
        self.record.update(lifecycleStage=stage, updatedAt=at)
        _change(self.report, self.service, self.record, at, status="IN_PROGRESS", stage=stage)
        if stage == "SCALE_UP":
            return
        if stage == "POST_SCALE_UP":
            target = self.record["targetServiceRevision"]
            target.update(runningTaskCount=target["requestedTaskCount"], pendingTaskCount=0)
        elif stage == "TEST_TRAFFIC_SHIFT":
            self.set_weights("testListenerRule", 100.0, at)
        elif stage == "PRODUCTION_TRAFFIC_SHIFT":
            self.shift_production(at)
        elif stage == "CLEAN_UP":
            for source in self.record["sourceServiceRevisions"]:
                source.update(runningTaskCount=0, pendingTaskCount=0, requestedTaskCount=0)
            self.complete(at)

    def shift_production(self, at: datetime) -> None:
        strategy, configuration = _strategy(self.record), self.configuration
        if strategy == "CANARY" and self.progress.shifted == 0:
            canary = configuration.get("canaryConfiguration") or {}
            step = float(canary.get("canaryPercent", 5.0))
        elif strategy == "LINEAR":
            step = float((configuration.get("linearConfiguration") or {}).get("stepPercent", 10.0))
        else:
            step = 100.0
        step = min(max(step, 0.1), 100.0)  # ECS's bounds (0.1 to 100, in tenths)
        self.progress.shifted = min(100.0, round(self.progress.shifted + step, 1))
        self.set_weights("productionListenerRule", self.progress.shifted, at)
        _change(
            self.report,
            self.service,
            self.record,
            at,
            status="IN_PROGRESS",
            stage="PRODUCTION_TRAFFIC_SHIFT",
            production_on_green=self.progress.shifted,
        )

    def set_weights(self, rule: str, green_percent: float, at: datetime) -> None:
        _publish_load(self.backend, self.service, at, self.report)
        green = _target_group(self.backend, self.record["targetServiceRevision"]["arn"])
        _set_rule_weights(self.service, rule, green, green_percent)

    def hook(self, hook: dict[str, Any]) -> str:
        """ "waiting", "succeeded", or why the deployment rolls back."""
        if hook.get("targetType") == "PAUSE":
            return self.pause(hook)
        progress = self.progress
        if progress.asked:
            found = _engine(self.backend).answers.pop(progress.execution, None)
            if found is None:
                return "waiting"
            progress.asked = False
            status = found.get("hookStatus")
            if status == "SUCCEEDED":
                return "succeeded"
            if status == "IN_PROGRESS":
                delay = int(found.get("callBackDelay") or _CALLBACK_DELAY)
                # From the invocation the answer is to (it answered then, not when seen).
                progress.due = (progress.due or self.now) + timedelta(seconds=delay)
                progress.details = {**progress.details, **(found.get("hookDetails") or {})}
                return "waiting"
            if "error" in found:
                return f"lifecycle hook {hook.get('hookTargetArn')} failing: {found['error']}"
            return f"lifecycle hook {hook.get('hookTargetArn')} answering {status or 'nothing'}"
        if not progress.execution:
            progress.execution, progress.due = str(uuid.uuid4()), self.now
            progress.details = dict(hook.get("hookDetails") or {})
        if progress.due is not None and self.now >= progress.due:
            progress.asked, progress.due = True, self.now
            self.report.invocations.append(
                {
                    "executionId": progress.execution,
                    "functionArn": hook.get("hookTargetArn", ""),
                    "payload": self.payload(),
                }
            )
        return "waiting"

    def payload(self) -> dict[str, Any]:
        """The invocation, as the ECS Developer Guide documents it."""
        weights: dict[str, dict[str, float]] = {"test": {}, "production": {}}
        stage = STAGES.index(self.progress.stage)
        blue = self.record["sourceServiceRevisions"][0]["arn"]
        green = self.record["targetServiceRevision"]["arn"]
        if self.progress.rolling_back:  # everything is back on blue
            return self._invocation({blue: 100.0, green: 0.0}, {blue: 100.0, green: 0.0})
        if stage >= STAGES.index("TEST_TRAFFIC_SHIFT"):
            weights["test"] = {blue: 0.0, green: 100.0}
        if stage >= STAGES.index("PRODUCTION_TRAFFIC_SHIFT"):
            on_green = self.progress.shifted
            weights["production"] = {blue: round(100 - on_green, 1), green: on_green}
        return self._invocation(weights["test"], weights["production"])

    def _invocation(self, test: dict[str, float], production: dict[str, float]) -> dict[str, Any]:
        green = self.record["targetServiceRevision"]["arn"]
        return {
            "executionId": self.progress.execution,
            "lifecycleStage": self.progress.stage,
            "resourceArn": self.record["serviceDeploymentArn"],
            "executionDetails": {
                "serviceArn": self.service.arn,
                "targetServiceRevisionArn": green,
                "testTrafficWeights": test,
                "productionTrafficWeights": production,
            },
            "hookDetails": self.progress.details,
        }

    def pause(self, hook: dict[str, Any]) -> str:
        progress = self.progress
        key = f"{progress.stage}#{progress.hook}"
        details = self.record.setdefault("lifecycleHookDetails", [])
        if key not in progress.pauses:
            began = progress.hooks_done or progress.since  # after the hooks before it
            timeout = hook.get("timeoutConfiguration") or {}
            minutes = int(timeout.get("timeoutInMinutes") or 1440)
            hook_id = f"ecs-pause-{uuid.uuid4().hex}"
            progress.pauses[key] = hook_id
            details.append(
                {
                    "hookId": hook_id,
                    "targetType": "PAUSE",
                    "status": "AWAITING_ACTION",
                    "expiresAt": began + timedelta(minutes=minutes),
                    "timeoutAction": timeout.get("action") or "ROLLBACK",
                }
            )
            self.report.events.append(_hook_event(self.service, began))
            _change(
                self.report,
                self.service,
                self.record,
                began,
                status="IN_PROGRESS",
                stage=progress.stage,
                waiting="PAUSE hook: autopilot approve / autopilot reject",
            )
            return "waiting"
        [waiting] = [d for d in details if d["hookId"] == progress.pauses[key]]
        if waiting["status"] == "SUCCEEDED":
            return "succeeded"
        if self.now < waiting["expiresAt"]:
            return "waiting"
        waiting["status"] = "TIMED_OUT"
        if waiting["timeoutAction"] == "CONTINUE":
            return "succeeded"
        progress.rollback_at = waiting["expiresAt"]
        return "a PAUSE hook timing out"

    # -- endings ------------------------------------------------------------------------

    def complete(self, at: datetime) -> None:
        reason = f"ECS deployment {self.deployment_id} completed."
        self.record.update(status="SUCCESSFUL", finishedAt=at, updatedAt=at)
        target = self.record["targetServiceRevision"]
        target.update(runningTaskCount=target["requestedTaskCount"], pendingTaskCount=0)
        records.deployment_settled(self.service, self.deployment_id, "COMPLETED", reason)
        self.event("SERVICE_DEPLOYMENT_COMPLETED", at, reason)
        self.progress.done = True
        _change(self.report, self.service, self.record, at, status="SUCCESSFUL")

    def begin_rollback(self, at: datetime) -> None:
        """Production and test traffic back on blue at once; then ECS invokes the hooks of the
        traffic shift stages again, green at 0% (the guide's "Lifecycle hooks during
        rollback")."""
        blue = self.record["sourceServiceRevisions"][0]["arn"]
        blue_group = _target_group(self.backend, blue)
        if blue_group:
            _publish_load(self.backend, self.service, at, self.report)
            for rule in ("productionListenerRule", "testListenerRule"):
                _set_rule_weights(self.service, rule, blue_group, 100.0)
        progress = self.progress
        progress.shifted, progress.rolling_back, progress.since = 0.0, True, at
        progress.stage, progress.hook, progress.hooks_done = _ROLLBACK_STAGES[0], 0, None
        progress.execution, progress.due, progress.asked, progress.details = "", None, False, {}
        self.record.update(status="ROLLBACK_IN_PROGRESS", updatedAt=at)
        _change(self.report, self.service, self.record, at, status="ROLLBACK_IN_PROGRESS")

    def rollback_hooks(self) -> bool:
        """The Lambda hooks of the traffic shift stages, once each, in reverse order; then the
        rollback is over. A hook failing now cannot roll back further: ROLLBACK_FAILED."""
        progress = self.progress
        hooks = [
            h
            for h in self.configuration.get("lifecycleHooks") or []
            if h.get("targetType") != "PAUSE" and progress.stage in (h.get("lifecycleStages") or [])
        ]
        if progress.hook < len(hooks):
            verdict = self.hook(hooks[progress.hook])
            if verdict == "waiting":
                return False
            if verdict != "succeeded":
                self.record.update(status="ROLLBACK_FAILED", finishedAt=self.now)
                self.record["rollback"] = {**self.record.get("rollback", {}), "reason": verdict}
                progress.done = True
                _change(self.report, self.service, self.record, self.now, status="ROLLBACK_FAILED")
                return True
            progress.hook += 1
            progress.execution, progress.due, progress.asked = "", None, False
            progress.hooks_done = self.now
            return True
        index = _ROLLBACK_STAGES.index(progress.stage)
        if index + 1 < len(_ROLLBACK_STAGES):
            progress.stage, progress.hook = _ROLLBACK_STAGES[index + 1], 0
            return True
        # Over when its last hook answered (at once when it has none).
        self.finish_rollback(progress.hooks_done or progress.since)
        return True

    def finish_rollback(self, at: datetime) -> None:
        """The rollback is a deployment of blue's revision that ECS starts and, with blue's
        tasks still running, completes at once."""
        why = (self.record.get("rollback") or {}).get("reason") or "rolled back"
        rollback = records.new_primary(self.service)
        self.report.events.append(
            _deployment_event(
                self.service,
                rollback,
                "SERVICE_DEPLOYMENT_IN_PROGRESS",
                at,
                f"ECS deployment {rollback} in progress: rolling back {self.deployment_id}. {why}",
            )
        )
        done = f"ECS deployment {rollback} completed."
        records.deployment_settled(self.service, rollback, "COMPLETED", done)
        self.report.events.append(
            _deployment_event(self.service, rollback, "SERVICE_DEPLOYMENT_COMPLETED", at, done)
        )
        self.record.update(status="ROLLBACK_SUCCESSFUL", finishedAt=at, updatedAt=at)
        self.progress.done = True
        _change(self.report, self.service, self.record, at, status="ROLLBACK_SUCCESSFUL")

    def event(self, name: str, at: datetime, reason: str) -> None:
        self.report.events.append(
            _deployment_event(self.service, self.deployment_id, name, at, reason)
        )


# -- what the engine reads and writes around a deployment -------------------------------------


def _revision_record(backend: Any, arn: str) -> dict[str, Any]:
    """The service revision `arn` as DescribeServiceRevisions answers it ({} if unknown)."""
    return revisions_of(backend).get(arn) or records.store_of(backend).revisions.get(arn) or {}


def _starts(backend: Any, revision_arn: str) -> bool:
    from autopilot_tools.local.fleet import behaviour  # noqa: PLC0415 - its images' properties

    definition = _revision_record(backend, revision_arn).get("taskDefinition")
    if not definition:
        return True
    containers = backend.describe_task_definition(definition).container_definitions
    images = [c["image"] for c in containers]
    return all(behaviour(image_digest(image)).starts for image in images)


def _target_group(backend: Any, revision_arn: str) -> str:
    resolved = _revision_record(backend, revision_arn).get("resolvedConfiguration") or {}
    groups = [g["targetGroupArn"] for g in resolved.get("loadBalancers", [])]
    return groups[0] if groups else ""


def _rule(service: Any, which: str) -> Any:
    from moto.elbv2.models import elbv2_backends  # noqa: PLC0415

    entry = pair_entry(service)
    arn = ((entry or {}).get("advancedConfiguration") or {}).get(which)
    if not arn:
        return None
    from moto.elbv2.exceptions import RuleNotFoundError  # noqa: PLC0415

    _, _, _, region, account, _ = arn.split(":", 5)
    try:
        found = elbv2_backends[account][region].describe_rules(None, [arn])
    except RuleNotFoundError:
        return None  # a rule that is not there shifts nothing (and serves nothing)
    return found[0] if found else None


def _forward(rule: Any) -> list[dict[str, Any]]:
    for action in rule.actions:
        if action.data.get("Type") == "forward":
            return list(action.data.get("ForwardConfig", {}).get("TargetGroups", []))
    return []


def _set_rule_weights(service: Any, which: str, green: str, green_percent: float) -> None:
    """ECS moves the listener rule's forward weights: `green_percent` to green, the rest to the
    other target group of the pair. A weight is a whole number up to 999, so a share in tenths
    of a percent (a 2.5% canary) is weighted out of 1,000."""
    rule = _rule(service, which)
    if rule is None or not green:
        return
    scale = 1 if float(green_percent).is_integer() else 10
    for group in _forward(rule):
        share = green_percent if group["TargetGroupArn"] == green else 100 - green_percent
        group["Weight"] = round(share * scale)


def _publish_load(backend: Any, service: Any, until: datetime, report: Report) -> None:
    """The whole minutes of load the service's target groups served since last time."""
    entry = pair_entry(service)
    production = _rule(service, "productionListenerRule") if entry else None
    if entry is None or production is None:
        return
    engine = _engine(backend)
    end = until.replace(second=0, microsecond=0)
    start = engine.published.get(service.arn)
    if start is None or end - start > _LOAD_HISTORY:
        start = max(start or end, end - _LOAD_HISTORY) if start else end
    if end <= start:
        engine.published.setdefault(service.arn, start)
        return
    test = _rule(service, "testListenerRule")
    requests: dict[str, float] = {}
    for rule, per_minute in ((production, PRODUCTION_REQUESTS), (test, TEST_REQUESTS)):
        forwards = _forward(rule) if rule is not None else []
        total = sum(float(f.get("Weight", 0)) for f in forwards)
        for forward in forwards if total else []:
            share = per_minute * float(forward.get("Weight", 0)) / total
            arn = forward["TargetGroupArn"]
            requests[arn] = requests.get(arn, 0) + share
    served: dict[str, list[Any]] = {}
    container = entry.get("containerName")
    for group, digest in _serving(backend, service, container).items():
        if round(requests.get(group, 0)) > 0:
            served[group] = [digest, round(requests[group])]
    load_balancer = _load_balancer(entry["targetGroupArn"])
    if served and load_balancer:
        report.load.append(
            {
                "loadBalancer": load_balancer,
                "served": served,
                "start": start,
                "minutes": int((end - start).total_seconds() // 60),
            }
        )
    engine.published[service.arn] = end


def _serving(backend: Any, service: Any, container: str | None) -> dict[str, str]:
    """Target group -> the digest of the image serving it, for the revisions running now."""
    store = records.store_of(backend)
    running = [store.current.get(service.arn, "")]
    for arn, record in store.deployments.items():
        progress = _engine(backend).progress.get(arn)
        in_flight = record["status"] not in _ENDED and not (progress and progress.done)
        if record["serviceArn"] == service.arn and in_flight:
            running = [record["targetServiceRevision"]["arn"]] + [
                s["arn"] for s in record["sourceServiceRevisions"]
            ]
    if running == [""]:
        running = [current_revision(backend, service)]
    served: dict[str, str] = {}
    for arn in running:
        revision = _revision_record(backend, arn)
        group = _target_group(backend, arn)
        images = revision.get("containerImages") or []
        digests = [i.get("imageDigest", "") for i in images if i["containerName"] == container]
        if group and digests and group not in served:
            served[group] = digests[0]
    return served


def _load_balancer(target_group: str) -> str:
    from moto.elbv2.models import elbv2_backends  # noqa: PLC0415

    _, _, _, region, account, _ = target_group.split(":", 5)
    groups = list(
        elbv2_backends[account][region].describe_target_groups(None, [target_group], None)
    )
    arns = list(groups[0].load_balancer_arns) if groups else []
    return str(arns[0]) if arns else ""


def _deployment_event(
    service: Any, deployment_id: str, name: str, at: datetime, reason: str
) -> dict[str, Any]:
    detail = {
        "eventType": "ERROR" if name.endswith("FAILED") else "INFO",
        "eventName": name,
        "deploymentId": deployment_id,
        "updatedAt": _iso(at),
        "reason": reason,
    }
    return _envelope(service, "ECS Deployment State Change", at, detail)


def _hook_event(service: Any, at: datetime) -> dict[str, Any]:
    return _envelope(service, "ECS Hook State Change", at, {"eventName": "HOOK_AWAITING_ACTION"})


def _envelope(
    service: Any, detail_type: str, at: datetime, detail: dict[str, Any]
) -> dict[str, Any]:
    """ECS's event about the service, in EventBridge's envelope."""
    _, _, _, region, account, _ = service.arn.split(":", 5)
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": detail_type,
        "source": "aws.ecs",
        "account": account,
        "time": _iso(at),
        "region": region,
        "resources": [service.arn],
        "detail": detail,
    }


# -- the moto server's own API for the runner -------------------------------------------------

ADVANCE_PATH = "/moto-api/autopilot/ecs-engine/advance"
ANSWER_PATH = "/moto-api/autopilot/ecs-engine/answer"


def _body(request: Any) -> dict[str, Any]:
    raw = request.data if hasattr(request, "data") else request.body
    return json.loads(raw or b"{}")  # type: ignore[no-any-return]


def _advance_route(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    now = datetime.fromisoformat(str(_body(request)["now"]).replace("Z", "+00:00"))
    report = advance(now)
    return 200, {"Content-Type": "application/json"}, json.dumps(report.as_json())


def _answer_route(request: Any, full_url: str, headers: Any) -> tuple[int, dict[str, str], str]:
    body = _body(request)
    known = answer(str(body["executionId"]), dict(body["response"]))
    return 200, {"Content-Type": "application/json"}, json.dumps({"known": known})


@cache
def install() -> None:
    """The engine's two routes on the moto server (before it starts)."""
    from moto.moto_api._internal import urls  # noqa: PLC0415

    urls.url_paths["{0}" + ADVANCE_PATH] = _advance_route
    urls.url_paths["{0}" + ANSWER_PATH] = _answer_route

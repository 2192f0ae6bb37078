"""The workflows under test, each from one starting fixture, and what must hold after a crash.

A scenario builds a fresh `World` and one request. An executor action goes through the real
executor loop (workflows/batch.run_batch with ActionRunner): a failed attempt is counted in the
ledger and received again after its backoff, and the third failure gives up (a FAILED
`gave-up` entry, a person told, the message dead-lettered). The cost report is invoked as
Lambda retries an asynchronous invocation (three times at most). The fault is planned on the
first attempt; `problems` compares the end state with the clean run's and says what is wrong,
in words.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial
from typing import Literal

from autopilot.adapters.codedeploy import appspec
from autopilot.domain.canary_hook import ContainerImage, ServiceRevision
from autopilot.domain.capacity import SUSPEND_ALL, Capacity, Parked, Scaled
from autopilot.domain.fleet import PauseHook, task_definition_label
from autopilot.domain.fleet_index import IndexEntry
from autopilot.domain.holds import ALARM_FIRING
from autopilot.domain.ledger import GAVE_UP, LedgerEntry, Outcome, action_id
from autopilot.domain.notifications import Notification
from autopilot.domain.report import CLUSTER_TAG, SERVICE_TAG, CostLine, Utilization, Week
from autopilot.domain.report_delivery import Delivery, DeliveryState, uncertain_notification
from autopilot.domain.service_deployments import ONGOING
from autopilot.domain.state import (
    Deployment,
    DeploymentState,
    HeldPush,
    KnownGood,
    ServiceState,
    pinned_images,
)
from autopilot.models.actions import (
    ActionRequest,
    ApprovalRequest,
    CapacityRequest,
    DeployRequest,
    ResumeHeldRequest,
    RollbackRequest,
    TrackRequest,
)
from autopilot.ports import EcsGateway, FleetIndex, TaggingGateway
from autopilot.records import replace
from autopilot.workflows.batch import QueuedMessage, run_batch
from autopilot.workflows.canary_action import CanaryVerdictRequest
from autopilot.workflows.cost_report import weekly_report
from autopilot.workflows.execute import ActionRunner
from autopilot.workflows.fleet_index import refresh, reindex
from autopilot.workflows.registry import notification_for
from tests.chaos.faults import FaultPlan, Mode
from tests.fakes.world import T0, World, Wrap, digest, ecr_image, fargate_task_definition

MAX_RECEIVES = 10  # the actions queue's maxReceiveCount (the batch gives up after 3 failures)
MAX_INVOCATIONS = 3  # Lambda's asynchronous invocation: 1 + 2 retries
ASYNC_RETRY = timedelta(minutes=2)  # about when Lambda retries an asynchronous invocation
ENOUGH_TIME_MS = 900_000  # a fresh invocation: every action has its budget
VISIBILITY_TIMEOUT = timedelta(seconds=1800)  # a failed invocation's batch comes back after it
REDRIVE_AFTER = timedelta(hours=1)  # a person redrives the dead-letter queue once AWS is back
LOG_ROUTER = "public.ecr.aws/aws-observability/aws-for-fluent-bit:2.32.0"
TRACKED = {"autopilot:track": "tag:main", "team": "storefront"}
_NOT_SUSPENDED = dict.fromkeys(SUSPEND_ALL, False)


@dataclass
class Case:
    """One starting fixture and what to deliver: an executor action, or (`invoke`) one
    invocation of another function."""

    world: World
    service_arn: str
    request: ActionRequest | None = None
    invoke: Callable[[Wrap], object] | None = None
    settle: Callable[[], None] = lambda: None  # what happens after, whatever the automation did
    keeps_the_index: bool = False  # the fleet index is the work (the executor's write is a hint)


@dataclass(frozen=True)
class Expected:
    """What the clean run must do, so that a crash test never compares against nothing."""

    revision: str  # family:revision the service runs at the end
    capacity: tuple[int, int | None, int | None, bool]
    outcome: Outcome | None = None
    emails: int = 0
    schedules: int = 0
    quarantined: int = 0
    indexed: int | None = None  # services the fleet index lists at the end, when it is the work
    service_deployments: tuple[str, ...] = ()  # ECS's own blue/green ones' statuses at the end


@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[], Case]
    expected: Expected


@dataclass(frozen=True)
class Snapshot:
    """Everything the invariants look at, read from the fakes after a run."""

    task_definition: str
    capacity: tuple[int, int | None, int | None, bool]
    revisions: dict[str, int]
    codedeploy_deployments: int
    schedules: tuple[str, ...]
    emails: int
    stored: tuple[str, ...]
    quarantined: frozenset[str]
    entry: LedgerEntry | None
    state: ServiceState
    deployment_ids: frozenset[str]  # what ECS and CodeDeploy know of
    codedeploy_statuses: tuple[str, ...]  # of its deployments, oldest first
    service_deployments: tuple[str, ...]  # ECS's own blue/green ones' statuses, oldest first
    notifications: tuple[Notification, ...]
    delivery: Delivery | None  # the report's record of its week
    dead_letters: tuple[str, ...]  # reasons the executor kept the message for a person
    index: tuple[IndexEntry, ...] | None = None  # the fleet index, when it is the work

    @property
    def revision(self) -> str:
        return task_definition_label(self.task_definition)

    @property
    def where(
        self,
    ) -> tuple[str, tuple[int, int | None, int | None, bool], tuple[str, ...], tuple[str, ...]]:
        """What runs, and how: a blue/green rollback only stops a CodeDeploy deployment or an
        ECS service deployment (a new UpdateService would start another one)."""
        return self.revision, self.capacity, self.codedeploy_statuses, self.service_deployments


@dataclass
class Run:
    calls: list[str]
    fired: str
    errors: list[BaseException] = field(default_factory=list)
    dead_letters: list[str] = field(default_factory=list)
    snapshot: Snapshot | None = None
    given_up: Snapshot | None = None  # an outage: when the message was dead-lettered
    outage: str = ""  # the operation that was down until then

    @property
    def end(self) -> Snapshot:
        assert self.snapshot is not None
        return self.snapshot


def observe(case: Case, dead_letters: tuple[str, ...] = ()) -> Snapshot:
    world = case.world
    service = world.ecs.describe_service(case.service_arn)
    target = world.autoscaling.target(service)
    minimum, maximum, suspended = target if target else (None, None, {})
    request = case.request
    entry = (
        world.ledger.find(request.service_arn, request.trigger_time, request.action_id)
        if request
        else None
    )
    return Snapshot(
        task_definition=service.task_definition_arn,
        capacity=(service.desired_count, minimum, maximum, any(suspended.values())),
        revisions={f: len(world.ecs.revisions(f)) for f in world.ecs.families()},
        codedeploy_deployments=len(world.codedeploy.deployments),
        schedules=tuple(sorted(world.scheduler.schedules)),
        emails=len(world.mailer.sent),
        stored=tuple(sorted(world.mailer.objects)),
        quarantined=frozenset(world.ledger.quarantined()),
        entry=entry,
        state=world.ledger.state(case.service_arn),
        deployment_ids=frozenset(
            world.ecs.deployment_ids(case.service_arn) | set(world.codedeploy.deployments)
        ),
        codedeploy_statuses=tuple(d.status for d in world.codedeploy.deployments.values()),
        service_deployments=world.ecs.service_deployment_statuses(case.service_arn),
        notifications=tuple(world.notifier.sent),
        delivery=next(iter(world.deliveries.records.values()), None),
        dead_letters=dead_letters,
        index=tuple(world.index.entries().values()) if case.keeps_the_index else None,
    )


class _Inbox:
    """The actions queue as the batch sees it: how long a message waits, what is kept."""

    def __init__(self) -> None:
        self.waits: list[int] = []
        self.dead: list[str] = []

    def retry_later(self, receipt_handle: str, seconds: int) -> None:
        self.waits.append(seconds)

    def dead_letter(self, body: str, group: str, message_id: str, reason: str) -> None:
        self.dead.append(reason)


class _Recording(ActionRunner):
    """The executor, keeping each attempt's error for the test's message."""

    def __init__(self, case: Case, plan: FaultPlan, errors: list[BaseException]) -> None:
        super().__init__(case.world.context(wrap=plan.wrap))
        self._errors = errors

    def run(self, request: ActionRequest) -> LedgerEntry:
        try:
            return super().run(request)
        except Exception as exc:
            self._errors.append(exc)
            raise


def run(scenario: Scenario, index: int | None = None, mode: Mode = "before") -> Run:
    """Deliver the case until it is done with, the fault (if any) on the first attempt."""
    case = scenario.build()
    plan = FaultPlan(index, mode)
    result = Run(plan.calls, "")
    if case.request is not None:
        _through_the_executor(case, plan, result)
    else:
        _invoked(case, plan, result)
    case.settle()
    result.fired = plan.fired
    result.snapshot = observe(case, tuple(result.dead_letters))
    return result


def _through_the_executor(case: Case, plan: FaultPlan, result: Run) -> None:
    """The message is received until the batch is done with it (succeeded or dead-lettered),
    waiting the backoff the batch asked for in between. An outage lasts until the message is
    dead-lettered; then a person redrives it and it is received until done again."""
    assert case.request is not None
    request = case.request
    message = QueuedMessage("m-1", "r-1", request.to_json(), request.service_arn)
    inbox = _Inbox()
    dead = _receive(case, plan, result, message, inbox)
    if (inbox.dead or dead) and plan.down:
        result.given_up = observe(case, (*inbox.dead, *dead))
        result.outage = plan.down
        plan.recover()
        case.world.clock.advance(REDRIVE_AFTER)
        inbox.dead.clear()  # a redrive moves the message back to the queue, receive count 0
        dead = _receive(case, plan, result, message, inbox)
    result.dead_letters = [*inbox.dead, *dead]


def _receive(
    case: Case, plan: FaultPlan, result: Run, message: QueuedMessage, inbox: _Inbox
) -> list[str]:
    """Receive the message until the batch is done with it; what SQS itself dead-lettered
    (after maxReceiveCount receives, each a failed invocation) is returned."""
    for _ in range(MAX_RECEIVES):
        dead_before = len(inbox.dead)
        try:
            runner = _Recording(case, plan, result.errors)
            again = run_batch([message], runner, inbox, lambda: ENOUGH_TIME_MS)
            wait = timedelta(seconds=inbox.waits[-1]) if again else timedelta(0)
        except Exception as exc:  # noqa: BLE001 - the invocation failed: the batch comes back
            result.errors.append(exc)
            again, wait = [message.message_id], VISIBILITY_TIMEOUT
        plan.disarm()
        if not again or len(inbox.dead) > dead_before:
            return []
        case.world.clock.advance(wait)
    return [f"received {MAX_RECEIVES} times (the queue's maxReceiveCount)"]


def _invoked(case: Case, plan: FaultPlan, result: Run) -> None:
    assert case.invoke is not None
    for _ in range(MAX_INVOCATIONS):
        try:
            case.invoke(plan.wrap)
        except Exception as exc:  # noqa: BLE001 - any error fails the invocation: retried
            result.errors.append(exc)
            plan.disarm()
            case.world.clock.advance(ASYNC_RETRY)
            continue
        break


def problems(initial: Snapshot, clean: Snapshot, final: Snapshot, has_ledger: bool) -> list[str]:
    """Every invariant the end state breaks, in words (empty: all hold)."""
    found: list[str] = []
    at_clean, at_initial = final.where == clean.where, final.where == initial.where
    if not (at_clean or at_initial):
        found.append(
            f"service ended at {final.where}: neither where the clean run ends {clean.where} "
            f"nor unchanged {initial.where}"
        )
    if final.revisions != clean.revisions:
        found.append(f"revisions registered {final.revisions}, clean run {clean.revisions}")
    if final.codedeploy_deployments != clean.codedeploy_deployments:
        found.append(
            f"{final.codedeploy_deployments} CodeDeploy deployments, "
            f"clean run {clean.codedeploy_deployments}"
        )
    if final.schedules != clean.schedules:
        found.append(f"restore schedules {final.schedules}, clean run {clean.schedules}")
    if final.stored != clean.stored:
        found.append(f"stored {final.stored}, clean run {clean.stored}")
    if clean.delivery is not None:
        found += _delivery_problems(clean, final)
    elif final.emails != clean.emails:
        found.append(f"{final.emails} report emails sent, clean run {clean.emails}")
    if has_ledger and at_clean and at_initial:
        # The clean run changes nothing ECS shows (ECS itself did, as the case settles): the
        # ledger may end as the clean run does or as an honest "unchanged" ending.
        as_clean = _ledger_problems(clean, final, changed=True)
        unchanged = _ledger_problems(clean, final, changed=False)
        found += as_clean if len(as_clean) <= len(unchanged) else unchanged
    elif has_ledger:
        found += _ledger_problems(clean, final, changed=at_clean or not at_initial)
    if final.index != clean.index:
        found.append(f"fleet index {final.index}, clean run {clean.index}")
    return found


# What the executor's give-up needs (it reads this action's entry and writes it FAILED): while
# one of them is down nothing can be recorded, SQS dead-letters the message after its
# maxReceiveCount, and the dead-letter queue's growth alarm (template.yaml) tells people.
_GIVE_UP_NEEDS = frozenset({"ledger.find", "ledger.write"})


def given_up_problems(given_up: Snapshot, outage: str, final: Snapshot) -> list[str]:
    """When the executor dead-letters an action, the ledger says it failed and why and a
    person was told; unless the ledger could not be written, and then it claims nothing
    (an entry left STARTED is taken up by the redrive). Once AWS answers again, the redrive
    picks up where the action stopped: it is not given up again."""
    if final.dead_letters:
        reason = final.entry.reason if final.entry else "no entry"
        return [f"given up again after the redrive, with AWS answering: {reason}"]
    entry = given_up.entry
    if outage in _GIVE_UP_NEEDS and (entry is None or entry.outcome is Outcome.STARTED):
        return []
    if entry is None or entry.outcome is not Outcome.FAILED or entry.code != GAVE_UP:
        state = f"{entry.outcome.value} {entry.code}".strip() if entry else "missing"
        return [f"dead-lettered {list(given_up.dead_letters)} but the entry is {state}"]
    expected = notification_for(entry)
    if expected is None or all(n.subject != expected.subject for n in given_up.notifications):
        return ["dead-lettered and recorded as given up, but nobody was told"]
    return []


def _delivery_problems(clean: Snapshot, final: Snapshot) -> list[str]:
    """The week's email went out once and is recorded SENT; or, when an attempt stopped
    between claiming the week and recording SES's answer, it is recorded as perhaps sent and a
    person is told how to resend (never sent twice, never left claimed)."""
    record = final.delivery
    if final.emails > clean.emails:
        return [f"{final.emails} report emails sent, clean run {clean.emails}"]
    if record is None or record.state is DeliveryState.SENDING:
        state = record.state.value if record else "no record"
        return [f"the week's email is neither recorded as sent nor as uncertain: {state}"]
    if record.state is DeliveryState.SENT:
        if final.emails != clean.emails:
            return [f"recorded as sent, {final.emails} emails sent, clean run {clean.emails}"]
        return []
    told = uncertain_notification(record).subject
    if all(n.subject != told for n in final.notifications):
        return ["the week's email may not have gone out and nobody was told"]
    return []


def _ledger_problems(clean: Snapshot, final: Snapshot, *, changed: bool) -> list[str]:
    entry, reference = final.entry, clean.entry
    assert reference is not None, "the clean run records the action"
    if entry is None or entry.outcome is Outcome.STARTED:
        state = entry.outcome.value if entry else "missing"
        return [f"failure neither retried to success nor recorded: the entry is {state}"]
    gave_up = entry.outcome is Outcome.FAILED and entry.code == GAVE_UP
    if gave_up != bool(final.dead_letters):
        return [
            f"the ledger says {entry.outcome.value} {entry.code or ''}, the dead-letter queue "
            f"holds {list(final.dead_letters)}: they disagree on whether the executor gave up"
        ]
    if gave_up or not changed:
        # Given up after every attempt (the message kept for a redrive), or unchanged: only a
        # recorded, notified failure is an honest ending.
        found = []
        if entry.outcome not in {Outcome.FAILED, Outcome.NOTIFIED}:
            found.append(f"service unchanged but the ledger says {entry.outcome.value}")
        expected = notification_for(entry)
        if expected is None or all(n.subject != expected.subject for n in final.notifications):
            found.append(f"the {entry.outcome.value} ending was not notified")
        return found
    found = []
    if entry.outcome is not reference.outcome:
        found.append(f"ledger says {entry.outcome.value}, the clean run {reference.outcome.value}")
    elif entry.code != reference.code:
        found.append(f"ledger's code is {entry.code!r}, the clean run's {reference.code!r}")
    if reference.outcome in {Outcome.DEPLOYED, Outcome.ROLLED_BACK}:
        found += _revision_problems(entry, final)
    expected = notification_for(entry)
    if expected is not None and all(n.subject != expected.subject for n in final.notifications):
        found.append(f"the {entry.outcome.value} ending was not notified")
    if final.quarantined != clean.quarantined:
        found.append(
            f"quarantined {sorted(final.quarantined)}, clean run {sorted(clean.quarantined)}"
        )
    if _capacity_memory(final.state) != _capacity_memory(clean.state):
        found.append(
            f"saved capacity {_capacity_memory(final.state)}, "
            f"clean run {_capacity_memory(clean.state)}"
        )
    return found


def _revision_problems(entry: LedgerEntry, final: Snapshot) -> list[str]:
    """The ledger agrees with ECS: the revision it names runs, its deployment exists, and the
    service state (what tracking and rollback read) names the same."""
    found = []
    if entry.to_task_definition != final.task_definition:
        found.append(
            f"ledger names {task_definition_label(entry.to_task_definition) or 'no revision'}, "
            f"the service runs {final.revision}"
        )
    if entry.deployment_id not in final.deployment_ids:
        found.append(f"ledger names deployment {entry.deployment_id!r}, unknown to ECS/CodeDeploy")
    latest = final.state.latest
    if latest is None or (latest.task_definition, latest.deployment_id) != (
        entry.to_task_definition,
        entry.deployment_id,
    ):
        seen = (
            (task_definition_label(latest.task_definition), latest.deployment_id)
            if latest
            else None
        )
        found.append(f"service state's latest deployment is {seen}, not the ledger's")
    return found


def _capacity_memory(state: ServiceState) -> tuple[object, ...]:
    """What parking and peaks remember to restore later (times aside: retries run later)."""
    parked = state.parked.capacity if state.parked else None
    scaled = (state.scaled.previous, state.scaled.scale_id) if state.scaled else None
    return parked, scaled


# -- the fixtures ------------------------------------------------------------------------------


def _web_containers(build: str) -> dict[str, str]:
    return {"web": ecr_image("web", digest(f"web#{build}")), "log-router": LOG_ROUTER}


def _register(world: World, family: str, build: str) -> str:
    return world.ecs.register_task_definition(
        fargate_task_definition(family, _web_containers(build)), [{"key": "team", "value": "web"}]
    )


def _checkout(world: World, build: str) -> str:
    """prod/checkout, blue/green behind a load balancer (CodeDeploy's console names), on the
    web image's build; tracks web:main."""
    world.codedeploy.add_group("AppECS-prod-checkout", "DgpECS-prod-checkout", "prod", "checkout")
    return world.add_service(
        "prod",
        "checkout",
        _web_containers(build),
        desired=3,
        tags=TRACKED,
        controller="CODE_DEPLOY",
        load_balancers=[
            {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                "targetgroup/checkout-blue/6d0ecf831eec9f09",
                "containerName": "web",
                "containerPort": 8080,
            }
        ],
    )


def _deploy_case(*, blue_green: bool) -> Case:
    """prod/web (or prod/checkout, blue/green) runs web build 1 and follows web:main; build 2
    was just pushed as web:main."""
    world = World()
    world.push("web", "1", "main", at=T0 - timedelta(days=2))
    if blue_green:
        arn = _checkout(world, "1")
    else:
        arn = world.add_service("prod", "web", _web_containers("1"), desired=3, tags=TRACKED)
    push = world.push("web", "2", "main", at=T0 - timedelta(minutes=1))
    request = DeployRequest(
        action_id=action_id(push.event_id, arn, "deploy"),
        service_arn=arn,
        trigger="ecr-push",
        trigger_id=push.event_id,
        trigger_time=push.time,
        push=push,
    )
    return Case(
        world,
        arn,
        request,
        settle=world.codedeploy.finish_all,  # blue/green: the new task set takes the traffic
    )


def _rolled_out(world: World, arn: str, build: str, *, complete: bool) -> tuple[str, str]:
    revision = _register(world, "web", build)
    deployment = world.ecs.update_service(world.ecs.describe_service(arn), revision)
    if complete:
        world.ecs.complete_deployment(arn)
    return revision, deployment


def _known_good(revision: str, build: str, source: str) -> KnownGood:
    images = pinned_images(list(_web_containers(build).values()))
    return KnownGood(revision, images, T0 - timedelta(days=1), source)


def _build_2_rolling_out(
    *, pushed: timedelta, started: timedelta, strategy: str = "ROLLING"
) -> tuple[World, str, str]:
    """prod/web (deployed with `strategy`) ran build 1 (its baseline known good); build 2 was
    pushed `pushed` ago and the automation started deploying it `started` ago. Returns the
    world, the service and the deployment."""
    world = World()
    for build, age in (("1", timedelta(days=2)), ("2", pushed)):
        world.push("web", build, "main", at=T0 - age)
    arn = world.add_service(
        "prod", "web", _web_containers("1"), desired=3, tags=TRACKED, strategy=strategy
    )
    web1 = world.ecs.describe_service(arn).task_definition_arn
    web2, deployment = _rolled_out(world, arn, "2", complete=False)
    world.ledger.save_state(
        ServiceState(
            arn,
            known_good=(_known_good(web1, "1", "baseline"),),
            latest=Deployment(
                action_id="deploy-of-build-2",
                kind="deploy",
                deployment_id=deployment,
                task_definition=web2,
                images=pinned_images(list(_web_containers("2").values())),
                started_at=T0 - started,
            ),
        )
    )
    return world, arn, deployment


def _automatic_rollback() -> Case:
    """prod/web ran build 1; the automation started deploying build 2 fifteen minutes ago and
    its alarm web-5xx fires."""
    world, arn, _ = _build_2_rolling_out(
        pushed=timedelta(minutes=20), started=timedelta(minutes=15)
    )
    request = RollbackRequest(
        action_id=action_id("alarm-event-1", arn, "rollback"),
        service_arn=arn,
        trigger="alarm",
        trigger_id="alarm-event-1",
        trigger_time=T0,
        automatic=True,
        alarm="web-5xx",
    )
    return Case(world, arn, request)


def _native_rollback(stage: str) -> Case:
    """prod/web deploys with ECS's own BLUE_GREEN strategy; the automation started deploying
    build 2 fifteen minutes ago, from build 1, and its alarm web-5xx fires. `stage`: the
    deployment is in flight (it is stopped with rollback), ECS is already rolling it back (by
    its own deployment alarm: nothing is sent; the rollback then finishes), or it completed
    five minutes ago inside the watch window (UpdateService, as for any service)."""
    world, arn, _ = _build_2_rolling_out(
        pushed=timedelta(minutes=20), started=timedelta(minutes=15), strategy="BLUE_GREEN"
    )
    request = RollbackRequest(
        action_id=action_id("alarm-event-3", arn, "rollback"),
        service_arn=arn,
        trigger="alarm",
        trigger_id="alarm-event-3",
        trigger_time=T0,
        automatic=True,
        alarm="web-5xx",
    )
    case = Case(world, arn, request)
    if stage == "ecs-rolling-back":
        world.ecs.begin_rollback(arn)
        case.settle = partial(world.ecs.finish_rollback, arn)  # what ECS does next, regardless
    elif stage == "completed":
        world.ecs.complete_service_deployment(arn)
        state = world.ledger.state(arn)
        assert state.latest is not None
        finished = replace(
            state.latest, state=DeploymentState.COMPLETED, finished_at=T0 - timedelta(minutes=5)
        )
        world.ledger.save_state(replace(state, latest=finished))
    return case


def _native_rollback_over() -> Case:
    """prod/web (BLUE_GREEN): the automation stopped its deployment of build 2 with rollback
    after web-5xx fired; ECS has traffic back on build 1, and its rollback deployment's end
    event comes (an id the automation never saw)."""
    case = _native_rollback("in-flight")
    world = case.world
    assert case.request is not None
    ActionRunner(world.context()).run(case.request)
    world.ecs.finish_rollback(case.service_arn)
    request = TrackRequest(
        action_id=action_id("rollback-completed-event", case.service_arn, "track"),
        service_arn=case.service_arn,
        trigger="ecs",
        trigger_id="rollback-completed-event",
        trigger_time=T0,
        deployment_id="ecs-svc/the-rollbacks-own",
        result="completed",
        reason="ECS deployment ecs-svc/the-rollbacks-own completed.",
    )
    return Case(world, case.service_arn, request)


def _canary_failed() -> Case:
    """prod/web (BLUE_GREEN, canary analysis): the automation started deploying build 2; the
    canary hook judged it worse than build 1 and answered FAILED, and ECS is rolling back. The
    executor gets the verdict (ECS finishes the rollback, whatever the automation does)."""
    from tests.fakes.canary import FakeServiceRevisions  # noqa: PLC0415 - only this story

    world, arn, _ = _build_2_rolling_out(
        pushed=timedelta(minutes=20), started=timedelta(minutes=15), strategy="BLUE_GREEN"
    )
    world.ecs.begin_rollback(arn)
    [deployment] = world.ecs.service_deployments(world.ecs.describe_service(arn), ONGOING)
    green = arn.replace(":service/", ":service-revision/") + "/2"
    revisions = FakeServiceRevisions()
    revisions.revisions[green] = ServiceRevision(
        arn=green,
        service_arn=arn,
        task_definition=deployment.target,
        images=tuple(
            ContainerImage(name, image, image.rpartition("@")[2])
            for name, image in _web_containers("2").items()
        ),
        target_groups=("arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/g/1",),
    )
    world.service_revisions = revisions
    request = CanaryVerdictRequest(
        action_id=action_id("hook-execution-1", arn, "canary"),
        service_arn=arn,
        trigger="ecs-lifecycle-hook",
        trigger_id="hook-execution-1",
        trigger_time=T0 - timedelta(minutes=10),
        decided_at=T0,
        verdict="FAILED",
        answered="FAILED",
        code="error-regression",
        reason="error rate 10.00% against blue's 0.22%",
        stage="PRODUCTION_TRAFFIC_SHIFT",
        deployment=deployment.arn,
        target_revision=green,
    )
    return Case(world, arn, request, settle=partial(world.ecs.finish_rollback, arn))


def _approval(kind: Literal["approve", "reject"]) -> Case:
    """prod/web deploys BLUE_GREEN, asks for approval (autopilot:approve=on) and pauses after
    test traffic (a PAUSE hook timing out into a rollback); the automation's deployment of
    build 2 waits at the hook, and an operator approves or rejects it."""
    world = World()
    for build, age in (("1", timedelta(days=2)), ("2", timedelta(minutes=20))):
        world.push("web", build, "main", at=T0 - age)
    arn = world.add_service(
        "prod",
        "web",
        _web_containers("1"),
        desired=3,
        tags={**TRACKED, "autopilot:approve": "on"},
        strategy="BLUE_GREEN",
        pause_hooks=(PauseHook(("POST_TEST_TRAFFIC_SHIFT",), 120, "ROLLBACK"),),
    )
    web1 = world.ecs.describe_service(arn).task_definition_arn
    web2, deployment = _rolled_out(world, arn, "2", complete=False)
    world.ledger.save_state(
        ServiceState(
            arn,
            known_good=(_known_good(web1, "1", "baseline"),),
            latest=Deployment(
                action_id="deploy-of-build-2",
                kind="deploy",
                deployment_id=deployment,
                task_definition=web2,
                images=pinned_images(list(_web_containers("2").values())),
                started_at=T0 - timedelta(minutes=15),
            ),
        )
    )
    request = ApprovalRequest(
        action_id=action_id(f"{kind}-request-1", arn, kind),
        service_arn=arn,
        trigger="operator",
        trigger_id=f"{kind}-request-1",
        trigger_time=T0,
        kind=kind,
    )
    return Case(world, arn, request)


def _manual_rollback() -> Case:
    """prod/web: build 1, then build 2 (completed, known good), then build 3 being deployed;
    an operator asks for a rollback without naming a revision (back to the last known good)."""
    world = World()
    for build, age in (("1", 3), ("2", 2), ("3", 1)):
        world.push("web", build, "main", at=T0 - timedelta(days=age))
    arn = world.add_service("prod", "web", _web_containers("1"), desired=3, tags=TRACKED)
    web1 = world.ecs.describe_service(arn).task_definition_arn
    web2, _ = _rolled_out(world, arn, "2", complete=True)
    web3, deployment = _rolled_out(world, arn, "3", complete=False)
    world.ledger.save_state(
        ServiceState(
            arn,
            known_good=(
                _known_good(web2, "2", "deployment-completed"),
                _known_good(web1, "1", "baseline"),
            ),
            latest=Deployment(
                action_id="deploy-of-build-3",
                kind="deploy",
                deployment_id=deployment,
                task_definition=web3,
                images=pinned_images(list(_web_containers("3").values())),
                started_at=T0 - timedelta(minutes=30),
            ),
        )
    )
    request = RollbackRequest(
        action_id=action_id("operator-request-1", arn, "rollback"),
        service_arn=arn,
        trigger="operator",
        trigger_id="operator-request-1",
        trigger_time=T0,
        automatic=False,
    )
    return Case(world, arn, request)


def _blue_green_rollback() -> Case:
    """prod/checkout (blue/green) ran build 1; the automation's CodeDeploy deployment of build
    2 started fifteen minutes ago and its alarm checkout-5xx fires: the deployment is stopped
    with rollback (traffic stays on build 1's task set)."""
    world = World()
    for build, age in (("1", timedelta(days=2)), ("2", timedelta(minutes=20))):
        world.push("web", build, "main", at=T0 - age)
    arn = _checkout(world, "1")
    checkout1 = world.ecs.describe_service(arn).task_definition_arn
    checkout2 = world.ecs.register_task_definition(
        fargate_task_definition("checkout", _web_containers("2")), []
    )
    deployment = world.codedeploy.create_deployment(
        "AppECS-prod-checkout",
        "DgpECS-prod-checkout",
        appspec(checkout2, "web", 8080),
        "ECS Autopilot: main",
    )
    world.ledger.save_state(
        ServiceState(
            arn,
            known_good=(_known_good(checkout1, "1", "baseline"),),
            latest=Deployment(
                action_id="deploy-of-build-2",
                kind="deploy",
                deployment_id=deployment,
                task_definition=checkout2,
                images=pinned_images(list(_web_containers("2").values())),
                started_at=T0 - timedelta(minutes=15),
                via="codedeploy",
            ),
        )
    )
    request = RollbackRequest(
        action_id=action_id("alarm-event-2", arn, "rollback"),
        service_arn=arn,
        trigger="alarm",
        trigger_id="alarm-event-2",
        trigger_time=T0,
        automatic=True,
        alarm="checkout-5xx",
    )
    return Case(world, arn, request)


def _track_failed() -> Case:
    """prod/web: the automation deployed build 2; ECS's circuit breaker failed the deployment
    and rolled the service back to build 1; the deployment's end event says failed."""
    world, arn, deployment = _build_2_rolling_out(
        pushed=timedelta(minutes=30), started=timedelta(minutes=25)
    )
    world.ecs.fail_deployment(arn, deployment, roll_back=True)
    request = TrackRequest(
        action_id=action_id("deployment-event-1", arn, "track"),
        service_arn=arn,
        trigger="ecs-deployment",
        trigger_id="deployment-event-1",
        trigger_time=T0,
        deployment_id=deployment,
        result="failed",
        reason="ECS deployment circuit breaker: tasks failed to start",
    )
    return Case(world, arn, request)


def _resume_held() -> Case:
    """prod/web runs build 1; build 2, pushed twenty minutes ago, was held back while its alarm
    web-5xx fired; the alarm is back to OK."""
    world = World()
    world.push("web", "1", "main", at=T0 - timedelta(days=2))
    arn = world.add_service("prod", "web", _web_containers("1"), desired=3, tags=TRACKED)
    world.cloudwatch.put_alarm("web-5xx", state="OK", tags={"autopilot:service": "prod/web"})
    push = world.push("web", "2", "main", at=T0 - timedelta(minutes=20))
    world.ledger.save_state(
        ServiceState(
            arn,
            held=HeldPush(
                push, T0 - timedelta(minutes=19), ALARM_FIRING, "alarm web-5xx fires", True
            ),
        )
    )
    request = ResumeHeldRequest(
        action_id=action_id("alarm-ok-event-1", arn, "resume-held"),
        service_arn=arn,
        trigger="alarm-ok",
        trigger_id="alarm-ok-event-1",
        trigger_time=T0,
        alarm="web-5xx",
    )
    return Case(world, arn, request)


def _capacity_case(kind: str, **request: object) -> Case:
    """prod/api in schedule group nightly, 3 tasks, scaling between 2 and 6; parked (0 tasks,
    scaling 0-0 suspended) since last night when unparking; scaled for a peak (6 tasks,
    scaling between 6 and 12) when restoring."""
    world = World()
    before = Capacity(3, 2, 6, _NOT_SUSPENDED)
    desired = {"unpark": 0, "restore": 6}.get(kind, 3)
    arn = world.add_service(
        "prod",
        "api",
        {"api": ecr_image("api", digest("api#7"))},
        desired=desired,
        tags={"autopilot:schedule": "nightly"},
    )
    if kind == "unpark":
        world.autoscaling.register("prod", "api", 0, 0, suspended=True)
        world.ledger.save_state(ServiceState(arn, parked=Parked(before, T0 - timedelta(hours=14))))
    elif kind == "restore":
        world.autoscaling.register("prod", "api", 6, 12)
        world.ledger.save_state(ServiceState(arn, scaled=Scaled(before, "peak-1", T0)))
    else:
        world.autoscaling.register("prod", "api", 2, 6)
    trigger = f"schedule-execution-{kind}"
    action = CapacityRequest.parse(
        {
            "action_id": action_id(trigger, arn, kind),
            "service_arn": arn,
            "trigger": "schedule",
            "trigger_id": trigger,
            "trigger_time": T0,
            "kind": kind,
            "timezone": "Europe/Paris",
            **request,
        }
    )
    return Case(world, arn, action)


def _cost_report() -> Case:
    """Two weeks of costs for prod/web and prod/api; prod/web was parked twice last week."""
    world = World()
    web = world.add_service("prod", "web", _web_containers("1"), desired=3, tags={"env": "prod"})
    world.add_service("prod", "api", {"api": ecr_image("api", digest("api#7"))}, desired=2)
    week = Week.last_full(T0.date())
    days = [week.previous.start + timedelta(days=i) for i in range(14)]
    world.costs.by_service = [
        CostLine(day, (f"{CLUSTER_TAG}${cluster}", f"{SERVICE_TAG}${name}"), amount, "USD", False)
        for day in days
        for cluster, name, amount in (
            ("prod", "web", Decimal("12.40")),
            ("prod", "api", Decimal("3.10") if day < week.start else Decimal("5.25")),
        )
    ]
    world.costs.by_usage_type = [
        CostLine(day, (f"{CLUSTER_TAG}$prod", usage), amount, "USD", False)
        for day in days
        for usage, amount in (
            ("USE1-Fargate-vCPU-Hours:perCPU", Decimal("11.00")),
            ("USE1-Fargate-GB-Hours", Decimal("4.50")),
        )
    ]
    world.cloudwatch.set_utilization("prod", "web", Utilization(0.12, 0.30, 0.20, 0.35))
    for night in (1, 3):
        unparked = week.start + timedelta(days=night)
        world.ledger.write(
            LedgerEntry(
                service_arn=web,
                action_id=f"unpark-{night}",
                kind="unpark",
                trigger="schedule",
                trigger_id=f"execution-{night}",
                trigger_time=T0.replace(year=unparked.year, month=unparked.month, day=unparked.day),
                recorded_at=T0.replace(year=unparked.year, month=unparked.month, day=unparked.day),
                outcome=Outcome.APPLIED,
                hours_parked="12.00",
                saved_usd="3.10",
            )
        )

    def report(wrap: Wrap) -> None:
        weekly_report(world.report_sources(wrap), world.report_delivery(wrap), week, world.clock())

    return Case(world, web, invoke=report)


@dataclass
class _IndexGateways:
    """What the fleet index function is handed, each gateway wrapped."""

    ecs: EcsGateway
    tagging: TaggingGateway
    index: FleetIndex
    now: Callable[[], datetime]


def _index_case(build_invoke: Callable[[World, dict[str, str]], Callable[[Wrap], object]]) -> Case:
    """prod/web indexed as running web build 1; then, behind the automation's back, it is
    redeployed to a revision pulling `storefront`, prod/api opts out and prod/old is deleted."""
    world = World()
    arns = {
        "web": world.add_service("prod", "web", _web_containers("1"), desired=3, tags=TRACKED),
        "api": world.add_service(
            "prod", "api", {"api": ecr_image("api", digest("api#7"))}, tags=TRACKED
        ),
        "old": world.add_service(
            "prod", "old", {"old": ecr_image("old", digest("old#1"))}, tags=TRACKED
        ),
    }
    reindex(_IndexGateways(world.ecs, world.tagging, world.index, world.clock))
    moved = world.ecs.register_task_definition(
        fargate_task_definition("web", {"web": ecr_image("storefront", digest("storefront#1"))}),
        [],
    )
    world.ecs.update_service(world.ecs.describe_service(arns["web"]), moved)
    world.ecs.untag_service(arns["api"], ["autopilot:track"])
    world.ecs.delete_service(arns["old"])
    return Case(world, arns["web"], invoke=build_invoke(world, arns), keeps_the_index=True)


def _wired(world: World, wrap: Wrap) -> _IndexGateways:
    return _IndexGateways(
        wrap(world.ecs, "ecs"),
        wrap(world.tagging, "tagging"),
        wrap(world.index, "index"),
        world.clock,
    )


def _reindex() -> Case:
    """The reindex schedule fires: the index follows all three changes."""
    return _index_case(lambda world, _: lambda wrap: reindex(_wired(world, wrap)))


def _api_calls() -> Case:
    """CloudTrail's events of the three changes arrive (one invocation each, in turn)."""

    def invoke(world: World, arns: dict[str, str]) -> Callable[[Wrap], object]:
        def each(wrap: Wrap) -> None:
            for arn in arns.values():
                refresh([arn], _wired(world, wrap))

        return each

    return _index_case(invoke)


SCENARIOS = {
    s.name: s
    for s in (
        Scenario(
            "deploy",
            lambda: _deploy_case(blue_green=False),
            Expected("web:2", (3, None, None, False), Outcome.DEPLOYED),
        ),
        Scenario(
            "rollback-auto",
            _automatic_rollback,
            Expected("web:1", (3, None, None, False), Outcome.ROLLED_BACK, quarantined=1),
        ),
        Scenario(
            "rollback-manual",
            _manual_rollback,
            Expected("web:2", (3, None, None, False), Outcome.ROLLED_BACK, quarantined=1),
        ),
        Scenario(
            "codedeploy",
            lambda: _deploy_case(blue_green=True),
            Expected("checkout:2", (3, None, None, False), Outcome.DEPLOYED),
        ),
        Scenario(
            "park",
            lambda: _capacity_case("park"),
            Expected("api:1", (0, 0, 0, True), Outcome.APPLIED),
        ),
        Scenario(
            "unpark",
            lambda: _capacity_case("unpark"),
            Expected("api:1", (3, 2, 6, False), Outcome.APPLIED),
        ),
        Scenario(
            "scale",
            # A peak that outlasts an outage and its redrive (SQS gives up after ten receives).
            lambda: _capacity_case("scale", minimum=6, maximum=12, until=T0 + timedelta(hours=12)),
            Expected("api:1", (6, 6, 12, False), Outcome.APPLIED, schedules=1),
        ),
        Scenario(
            "restore",
            lambda: _capacity_case("restore", scale_id="peak-1"),
            Expected("api:1", (3, 2, 6, False), Outcome.APPLIED),
        ),
        Scenario(
            "rollback-bluegreen",
            _blue_green_rollback,
            Expected("checkout:1", (3, None, None, False), Outcome.ROLLED_BACK, quarantined=1),
        ),
        Scenario(
            "rollback-native",
            lambda: _native_rollback("in-flight"),
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.ROLLED_BACK,
                quarantined=1,
                service_deployments=("ROLLBACK_REQUESTED",),
            ),
        ),
        Scenario(
            "rollback-native-ecs-rolling-back",
            lambda: _native_rollback("ecs-rolling-back"),
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.ROLLED_BACK,
                quarantined=1,
                service_deployments=("ROLLBACK_SUCCESSFUL",),
            ),
        ),
        Scenario(
            "rollback-native-completed",
            lambda: _native_rollback("completed"),
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.ROLLED_BACK,
                quarantined=1,
                service_deployments=("SUCCESSFUL", "IN_PROGRESS"),
            ),
        ),
        Scenario(
            "track-native-rollback-over",
            _native_rollback_over,
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.COMPLETED,
                quarantined=1,
                service_deployments=("ROLLBACK_SUCCESSFUL",),
            ),
        ),
        Scenario(
            "canary-failed",
            _canary_failed,
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.FAILED,
                quarantined=1,
                service_deployments=("ROLLBACK_SUCCESSFUL",),
            ),
        ),
        Scenario(
            "track-failed",
            _track_failed,
            Expected("web:1", (3, None, None, False), Outcome.FAILED, quarantined=1),
        ),
        Scenario(
            "resume-held",
            _resume_held,
            Expected("web:2", (3, None, None, False), Outcome.DEPLOYED),
        ),
        # Approval gates: the paused deployment is answered once, whatever fails on the way.
        Scenario(
            "approve",
            lambda: _approval("approve"),
            Expected(
                "web:2",
                (3, None, None, False),
                Outcome.APPLIED,
                service_deployments=("IN_PROGRESS",),  # on past the hook, to its next stages
            ),
        ),
        Scenario(
            "reject",
            lambda: _approval("reject"),
            Expected(
                "web:1",
                (3, None, None, False),
                Outcome.ROLLED_BACK,
                quarantined=1,
                service_deployments=("ROLLBACK_REQUESTED",),
            ),
        ),
        Scenario("cost-report", _cost_report, Expected("web:1", (3, None, None, False), emails=1)),
        Scenario("reindex", _reindex, Expected("web:2", (3, None, None, False), indexed=1)),
        Scenario(
            "index-api-calls", _api_calls, Expected("web:2", (3, None, None, False), indexed=1)
        ),
    )
}

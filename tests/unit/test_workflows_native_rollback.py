"""Rolling back a service that deploys with ECS's own blue/green strategy, against the in-memory
fakes: mid-deployment the deployment is stopped with rollback (nothing registered, no
UpdateService); after it completed, UpdateService as for any service; a retry reconciles with
what ECS shows instead of stopping again."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar, cast

from botocore.exceptions import ReadTimeoutError

from autopilot.domain.fleet import task_definition_label
from autopilot.domain.ledger import LedgerEntry, Outcome, action_id
from autopilot.domain.state import Deployment, DeploymentState, KnownGood, ServiceState
from autopilot.models.actions import RollbackRequest, TrackRequest
from autopilot.records import replace
from autopilot.workflows.context import ExecutorContext
from autopilot.workflows.rollback_action import rollback
from autopilot.workflows.track_action import track
from tests.fakes.world import T0, World, digest, ecr_image, fargate_task_definition

G = TypeVar("G")
TRACKED = {"autopilot:track": "tag:main"}
ALARM_AT = T0 - timedelta(seconds=30)  # the alarm's own time: 30 s before the executor runs


@dataclass
class BlueGreen:
    world: World
    arn: str
    web1: str  # blue: what ran before
    web2: str  # green: the automation's deploy, tied to the alarm
    ecs_deployment: str  # UpdateService's deployment id for web:2

    def image(self, build: int) -> str:
        return ecr_image("web", digest(f"web#{build}"))

    def good(self, revision: str, build: int, source: str) -> KnownGood:
        return KnownGood(revision, (self.image(build),), T0 - timedelta(days=1), source)

    def runs(self) -> str:
        return task_definition_label(self.world.ecs.describe_service(self.arn).task_definition_arn)

    def statuses(self) -> tuple[str, ...]:
        return self.world.ecs.service_deployment_statuses(self.arn)


def _blue_green(strategy: str = "BLUE_GREEN") -> BlueGreen:
    """prod/web deploys with ECS's own `strategy`; it ran build 1 (web:1, its baseline known
    good) and the automation started deploying build 2 (web:2) fifteen minutes ago."""
    world = World()
    for build, age in (("1", timedelta(days=2)), ("2", timedelta(minutes=20))):
        world.push("web", build, "main", at=T0 - age)
    arn = world.add_service(
        "prod",
        "web",
        {"web": ecr_image("web", digest("web#1"))},
        desired=3,
        tags=TRACKED,
        strategy=strategy,
        bake_time_minutes=10,
    )
    web1 = world.ecs.describe_service(arn).task_definition_arn
    web2 = world.ecs.register_task_definition(
        fargate_task_definition("web", {"web": ecr_image("web", digest("web#2"))}), []
    )
    deployment = world.ecs.update_service(world.ecs.describe_service(arn), web2)
    fleet = BlueGreen(world, arn, web1, web2, deployment)
    world.ledger.save_state(
        ServiceState(
            arn,
            known_good=(fleet.good(web1, 1, "baseline"),),
            latest=Deployment(
                action_id="deploy-of-build-2",
                kind="deploy",
                deployment_id=deployment,
                task_definition=web2,
                images=(fleet.image(2),),
                started_at=T0 - timedelta(minutes=15),
            ),
        )
    )
    return fleet


def _alarm(fleet: BlueGreen) -> RollbackRequest:
    return RollbackRequest(
        action_id=action_id("alarm-event", fleet.arn, "rollback"),
        service_arn=fleet.arn,
        trigger="alarm",
        trigger_id="alarm-event",
        trigger_time=ALARM_AT,
        automatic=True,
        alarm="web-5xx",
    )


class _Ecs:
    """The ECS fake, counting calls, with one call failing the way AWS calls fail."""

    def __init__(self, ecs: Any, calls: list[str], fail: str = "", *, after: bool = False) -> None:
        self._ecs, self._calls, self._fail, self._after = ecs, calls, fail, after

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._ecs, name)

        def call(*args: Any, **kwargs: Any) -> Any:
            self._calls.append(name)
            if name != self._fail:
                return method(*args, **kwargs)
            self._fail = ""
            if self._after:  # it took effect; the answer is lost
                method(*args, **kwargs)
            raise ReadTimeoutError(endpoint_url="https://ecs.us-east-1.amazonaws.com/")

        return call


def _context(fleet: BlueGreen, calls: list[str], fail: str = "", **how: bool) -> ExecutorContext:
    def wrap(gateway: G, name: str) -> G:
        return cast("G", _Ecs(gateway, calls, fail, **how)) if name == "ecs" else gateway

    return fleet.world.context(wrap=wrap)


def _attempt(run: Callable[[], object]) -> None:
    # The executor's attempt fails; the queue delivers the action again.
    with suppress(ReadTimeoutError):
        run()


def test_an_alarm_mid_deployment_stops_it_with_rollback_and_registers_nothing() -> None:
    # Given prod/web (BLUE_GREEN) mid-deployment of web:2 from web:1
    fleet = _blue_green()
    calls: list[str] = []

    # When its alarm fires
    entry = rollback(_context(fleet, calls), _alarm(fleet))

    # Then the deployment is stopped with rollback: traffic back on web:1
    assert (entry.outcome, entry.via, entry.strategy) == (
        Outcome.ROLLED_BACK,
        "stop-service-deployment",
        "BLUE_GREEN",
    )
    assert fleet.runs() == "web:1"
    assert fleet.statuses() == ("ROLLBACK_REQUESTED",)
    assert task_definition_label(entry.to_task_definition) == "web:1"
    assert entry.deployment_id.startswith(
        "arn:aws:ecs:us-east-1:123456789012:service-deployment/prod/web/"
    )
    # and nothing was registered and no UpdateService sent
    assert fleet.world.ecs.revisions("web") == [fleet.web1, fleet.web2]
    assert "update_service" not in calls
    assert "register_task_definition" not in calls
    # and the bad digest is quarantined, the ledger says how long the alarm waited
    assert set(fleet.world.ledger.quarantined()) == {digest("web#2")}
    assert entry.seconds_to_rollback == "30.0"
    state = fleet.world.ledger.state(fleet.arn)
    assert state.latest is not None
    assert (state.latest.kind, state.latest.via) == ("rollback", "stop-service-deployment")


def test_on_call_reads_the_strategy_the_call_and_how_soon_it_was_accepted() -> None:
    # Given prod/web (LINEAR) mid-deployment
    fleet = _blue_green("LINEAR")

    # When its alarm fires and it is rolled back
    entry = rollback(fleet.world.context(), _alarm(fleet))

    # Then the notification says how, in one line
    [note] = fleet.world.notifier.sent
    assert note.subject == "[autopilot] ROLLED BACK prod/web to web:1"
    sd = entry.deployment_id.rsplit("/", 1)[-1]
    assert (
        f"LINEAR: service deployment {sd} stopped with rollback, accepted 30.0 s after the alarm."
        in note.text.splitlines()
    )


def test_an_alarm_after_the_deployment_completed_rolls_back_with_update_service() -> None:
    # Given prod/web's deployment of web:2 completed five minutes ago (ECS's bake time over),
    # inside the automation's own 30-minute watch window
    fleet = _blue_green()
    fleet.world.ecs.complete_service_deployment(fleet.arn)
    state = fleet.world.ledger.state(fleet.arn)
    assert state.latest is not None
    fleet.world.ledger.save_state(
        replace(
            state,
            known_good=(fleet.good(fleet.web2, 2, "deployment-completed"), *state.known_good),
            latest=replace(
                state.latest,
                state=DeploymentState.COMPLETED,
                finished_at=T0 - timedelta(minutes=5),
            ),
        )
    )
    calls: list[str] = []

    # When its alarm fires
    entry = rollback(_context(fleet, calls), _alarm(fleet))

    # Then it is rolled back as today: UpdateService to web:1, which ECS deploys blue/green
    assert (entry.outcome, entry.via, entry.strategy) == (
        Outcome.ROLLED_BACK,
        "update-service",
        "BLUE_GREEN",
    )
    assert fleet.runs() == "web:1"
    assert fleet.statuses() == ("SUCCESSFUL", "IN_PROGRESS")
    assert "stop_service_deployment" not in calls
    assert fleet.world.ecs.revisions("web") == [fleet.web1, fleet.web2]
    [note] = fleet.world.notifier.sent
    assert "BLUE_GREEN: UpdateService to web:1 (ECS runs it as a new BLUE_GREEN deployment)" in (
        note.text
    )


def test_a_deployment_ecs_already_rolls_back_is_recorded_and_not_stopped_again() -> None:
    # Given ECS is already rolling back web:2's deployment (its deployment alarm fired)
    fleet = _blue_green()
    fleet.world.ecs.begin_rollback(fleet.arn)
    calls: list[str] = []

    # When the same alarm reaches the automation
    entry = rollback(_context(fleet, calls), _alarm(fleet))

    # Then nothing is sent to ECS; the rollback is recorded as ECS's, the digest quarantined
    assert (entry.outcome, entry.code, entry.via) == (
        Outcome.ROLLED_BACK,
        "already-rolling-back",
        "already-rolling-back",
    )
    assert "stop_service_deployment" not in calls
    assert "update_service" not in calls
    assert fleet.statuses() == ("ROLLBACK_IN_PROGRESS",)
    assert entry.seconds_to_rollback == ""
    assert set(fleet.world.ledger.quarantined()) == {digest("web#2")}
    [note] = fleet.world.notifier.sent
    assert "BLUE_GREEN: ECS was already rolling back service deployment" in note.text


def test_a_retry_after_the_stops_answer_was_lost_records_it_without_stopping_again() -> None:
    # Given the first attempt's StopServiceDeployment took effect and its answer was lost
    fleet = _blue_green()
    calls: list[str] = []
    _attempt(
        lambda: rollback(
            _context(fleet, calls, "stop_service_deployment", after=True), _alarm(fleet)
        )
    )
    assert fleet.statuses() == ("ROLLBACK_REQUESTED",)
    calls.clear()

    # When the action is delivered again
    entry = rollback(_context(fleet, calls), _alarm(fleet))

    # Then it asks ECS, finds the rollback under way, and records it: one stop in all
    assert entry.outcome is Outcome.ROLLED_BACK
    assert "confirmed on retry: ECS already showed the rollback" in entry.reason
    assert "stop_service_deployment" not in calls
    assert "service_deployment" in calls
    assert fleet.statuses() == ("ROLLBACK_REQUESTED",)
    assert fleet.runs() == "web:1"


def test_a_retry_after_the_deployment_completed_meanwhile_rolls_back_with_update_service() -> None:
    # Given the first attempt recorded its intent and failed before the stop reached ECS,
    # and the deployment completed before the retry
    fleet = _blue_green()
    calls: list[str] = []
    _attempt(lambda: rollback(_context(fleet, calls, "stop_service_deployment"), _alarm(fleet)))
    fleet.world.ecs.complete_service_deployment(fleet.arn)

    # When the action is delivered again
    entry = rollback(fleet.world.context(), _alarm(fleet))

    # Then the bad revision being live, it is rolled back with UpdateService, and says so
    assert (entry.outcome, entry.via) == (Outcome.ROLLED_BACK, "update-service")
    assert "its deployment had completed: rolled back with UpdateService" in entry.reason
    assert fleet.runs() == "web:1"
    assert fleet.statuses() == ("SUCCESSFUL", "IN_PROGRESS")


def test_a_dry_run_says_it_would_stop_the_deployment_and_stops_nothing() -> None:
    # Given prod/web mid-deployment, and the automation in dry run
    fleet = _blue_green()

    # When its alarm fires
    entry = rollback(fleet.world.context(dry_run=True), _alarm(fleet))

    # Then the entry names the stop it would make; ECS is unchanged
    assert (entry.outcome, entry.via) == (Outcome.DRY_RUN, "stop-service-deployment")
    assert fleet.statuses() == ("IN_PROGRESS",)
    assert fleet.runs() == "web:2"


def test_a_rolling_service_costs_no_service_deployment_call() -> None:
    # Given prod/web deploying ROLLING, mid-deployment
    fleet = _blue_green("ROLLING")
    calls: list[str] = []

    # When its alarm fires
    entry = rollback(_context(fleet, calls), _alarm(fleet))

    # Then it is today's UpdateService rollback, without asking for service deployments
    assert (entry.outcome, entry.via, entry.strategy) == (
        Outcome.ROLLED_BACK,
        "update-service",
        "ROLLING",
    )
    assert [c for c in calls if "service_deployment" in c] == []
    assert fleet.runs() == "web:1"


def _rollback_deployment_completed(fleet: BlueGreen, event_id: str) -> TrackRequest:
    """ECS's end event for the rollback's own deployment (an id the automation never saw)."""
    return TrackRequest(
        action_id=action_id(event_id, fleet.arn, "track"),
        service_arn=fleet.arn,
        trigger="ecs",
        trigger_id=event_id,
        trigger_time=fleet.world.clock(),
        deployment_id="ecs-svc/the-rollbacks-own",
        result="completed",
        reason="ECS deployment ecs-svc/the-rollbacks-own completed.",
    )


def test_the_end_of_the_rollback_says_when_traffic_was_back_on_blue_and_how_long_it_took() -> None:
    # Given prod/web's deployment stopped with rollback after an alarm 30 s before
    fleet = _blue_green()
    rollback(fleet.world.context(), _alarm(fleet))

    # When ECS has traffic back on web:1 four seconds later, and its rollback's end event comes
    fleet.world.clock.advance(timedelta(seconds=4))
    fleet.world.ecs.finish_rollback(fleet.arn)
    entry = track(fleet.world.context(), _rollback_deployment_completed(fleet, "done"))

    # Then the rollback is recorded over, 34 s after the alarm, and web:1 is the latest
    assert (entry.outcome, entry.code) == (Outcome.COMPLETED, "rollback-completed")
    assert entry.seconds_to_traffic_back == "34.0"
    assert "traffic is back on web:1 since 14:00:04 UTC" in entry.reason
    state = fleet.world.ledger.state(fleet.arn)
    assert state.latest is not None
    assert state.latest.state is DeploymentState.COMPLETED
    # and on-call reads it
    [*_, told] = fleet.world.notifier.sent
    assert told.subject == "[autopilot] prod/web is back on web:1"
    assert "34.0 s after what triggered it" in told.text


def test_an_end_event_before_ecs_shows_the_rollback_done_records_nothing_yet() -> None:
    # Given the stop accepted, ECS still rolling back
    fleet = _blue_green()
    rollback(fleet.world.context(), _alarm(fleet))

    # When an end event comes anyway
    entry = track(fleet.world.context(), _rollback_deployment_completed(fleet, "early"))

    # Then nothing is recorded as over: the state still waits for the rollback
    assert (entry.outcome, entry.code) == (Outcome.SKIPPED, "rollback-under-way")
    state = fleet.world.ledger.state(fleet.arn)
    assert state.latest is not None
    assert state.latest.state is DeploymentState.IN_PROGRESS


def test_a_rollback_ecs_could_not_finish_pages_on_call() -> None:
    # Given the stop accepted, and ECS failing to roll back
    fleet = _blue_green()
    rollback(fleet.world.context(), _alarm(fleet))
    fleet.world.ecs.fail_rollback(fleet.arn)

    # When an end event comes
    entry = track(fleet.world.context(), _rollback_deployment_completed(fleet, "failed"))

    # Then the rollback is recorded failed, and on-call is paged to look now
    assert (entry.outcome, entry.code) == (Outcome.FAILED, "rollback-failed")
    assert "ROLLBACK_FAILED" in entry.reason
    [*_, told] = fleet.world.notifier.sent
    assert told.subject == "[autopilot] deployment FAILED on prod/web"
    assert told.severity == "critical"


def test_a_retry_after_the_state_was_saved_records_the_same_end() -> None:
    # Given the end was saved to the state and the entry's last write was lost
    fleet = _blue_green()
    rollback(fleet.world.context(), _alarm(fleet))
    fleet.world.clock.advance(timedelta(seconds=4))
    fleet.world.ecs.finish_rollback(fleet.arn)
    request = _rollback_deployment_completed(fleet, "lost")
    lossy = fleet.world.context(wrap=_LoseFinish())
    with suppress(ReadTimeoutError):
        track(lossy, request)

    # When the action is retried
    entry = track(fleet.world.context(), request)

    # Then it finishes as the first attempt would have
    assert (entry.outcome, entry.code, entry.seconds_to_traffic_back) == (
        Outcome.COMPLETED,
        "rollback-completed",
        "34.0",
    )


class _LoseFinish:
    """The ledger's write of the finished entry fails once, before it takes effect."""

    def __init__(self) -> None:
        self.lost = False

    def __call__(self, gateway: G, name: str) -> G:
        if name != "ledger":
            return gateway
        outer = self

        class _Ledger:
            def __getattr__(self, attribute: str) -> Any:
                return getattr(gateway, attribute)

            def write(self, entry: LedgerEntry, **how: Any) -> Any:
                if entry.outcome is not Outcome.STARTED and not outer.lost:
                    outer.lost = True
                    raise ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
                return gateway.write(entry, **how)  # type: ignore[attr-defined]

        return cast("G", _Ledger())

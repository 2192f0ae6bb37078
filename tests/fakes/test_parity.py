"""The fakes against the real adapters on moto: the same calls give the same answers.

moto's own gaps (TOOLCHAIN.md) are left out of the comparison and named here: it starts a
service's first deployment IN_PROGRESS with no task running, and drops a service's
capacityProviderStrategy.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from moto import mock_aws

from autopilot.adapters.ecs import EcsGateway
from autopilot.adapters.fleet_index import FleetIndex
from autopilot.adapters.ledger import Ledger
from autopilot.adapters.report_deliveries import ReportDeliveries
from autopilot.adapters.tagging import TaggingGateway
from autopilot.domain.approvals import waiting
from autopilot.domain.capacity import Capacity, Parked
from autopilot.domain.errors import ConflictError, PermanentFailureError
from autopilot.domain.fleet import PauseHook
from autopilot.domain.fleet_index import IndexChange, IndexEntry
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.report_delivery import ABANDONED_AFTER, Delivery, DeliveryState
from autopilot.domain.service_deployments import ONGOING
from autopilot.ports import DeliveryRecords
from autopilot.ports import EcsGateway as EcsGatewayPort
from autopilot.ports import FleetIndex as FleetIndexPort
from autopilot.ports import Ledger as LedgerPort
from autopilot.records import replace
from autopilot_tools.local import ecs_engine, moto_ecs_deployments, moto_extensions
from tests.fakes.fleet_index import FakeFleetIndex
from tests.fakes.ledger import FakeLedger
from tests.fakes.report import FakeReportDeliveries
from tests.fakes.world import T0, World, fargate_task_definition

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

SERVICE = "arn:aws:ecs:us-east-1:123456789012:service/prod/web"
TASK_DEFINITION = "arn:aws:ecs:us-east-1:123456789012:task-definition"


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_a_service_reads_the_same_from_the_fake_and_from_ecs(aws: None) -> None:
    """Given the same revision and service created in moto's ECS and in the fake, when the
    adapter and the fake describe them, then they agree on everything the workflows read."""
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="prod")
    real = EcsGateway(client)
    definition = fargate_task_definition("web", {"web": "nginx:1.27", "log": "fluent-bit:2"})
    tags = [{"key": "team", "value": "web"}]
    revision = real.register_task_definition(definition, tags)
    client.create_service(
        cluster="prod",
        serviceName="web",
        taskDefinition=revision,
        desiredCount=3,
        tags=[{"key": "autopilot:track", "value": "tag:main"}],
    )
    world = World()
    fake_revision = world.ecs.register_task_definition(definition, tags)
    world.ecs.add_service(
        "prod", "web", fake_revision, desired=3, tags={"autopilot:track": "tag:main"}
    )

    from_ecs, from_fake = real.describe_service(SERVICE), world.ecs.describe_service(SERVICE)
    (ecs_definition, ecs_tags), (fake_definition, fake_tags) = (
        real.task_definition(revision),
        world.ecs.task_definition(fake_revision),
    )

    assert fake_revision == revision
    assert replace(from_fake, deployments=(), running_count=0) == replace(
        from_ecs, deployments=(), running_count=0
    )
    assert fake_tags == ecs_tags
    assert {k: v for k, v in fake_definition.items() if k in ecs_definition} == ecs_definition
    assert real.revision(revision) == ecs_definition
    assert world.ecs.revision(fake_revision) == fake_definition
    assert real.writable_task_definition_fields() == world.ecs.writable_task_definition_fields()


def _entry(outcome: Outcome, reason: str = "") -> LedgerEntry:
    return LedgerEntry(
        service_arn=SERVICE,
        action_id="a1",
        kind="deploy",
        trigger="ecr-push",
        trigger_id="e1",
        trigger_time=T0,
        recorded_at=T0,
        outcome=outcome,
        reason=reason,
        containers=("web",),
    )


def _story(ledger: LedgerPort) -> list[object]:
    """Every ledger operation the workflows use, with what each answered."""
    answers: list[object] = [
        ledger.write(_entry(Outcome.STARTED), first=True),
        ledger.write(_entry(Outcome.STARTED, "again"), first=True),
        ledger.find(SERVICE, T0, "a1"),
        ledger.write(_entry(Outcome.DEPLOYED)),
        ledger.history(SERVICE),
        ledger.recorded_between(SERVICE, "deploy", T0, T0.replace(hour=15)),
    ]
    read = ledger.state(SERVICE)
    saved = ledger.save_state(replace(read, parked=Parked(Capacity(3, 2, 6, {"x": False}), T0)))
    answers += [read, saved, ledger.state(SERVICE)]
    try:
        ledger.save_state(replace(read, paused=True))
    except ConflictError:
        answers.append("conflict")
    ledger.quarantine(Quarantine("sha256:bad", SERVICE, "rolled back", T0))
    answers += [ledger.quarantined({"sha256:bad", "sha256:other"}), ledger.release("sha256:bad")]
    answers += [ledger.release("sha256:bad"), ledger.quarantined()]
    answers += [ledger.note_failure(SERVICE, "a1") for _ in range(2)]
    answers += [ledger.note_failure(SERVICE, "a2"), ledger.history(SERVICE)]
    return answers


def _ledger_table(client: DynamoDBClient) -> None:
    client.create_table(
        TableName="ledger",
        KeySchema=[
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )


def test_the_fake_ledger_answers_as_the_dynamodb_ledger(aws: None) -> None:
    """Given a table like the template's, when the same story runs on the adapter and on the
    fake, then every answer is the same (conditional writes, versions, quarantine)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    _ledger_table(client)

    assert _story(FakeLedger()) == _story(Ledger("ledger", 90, client))


def _claims(deliveries: DeliveryRecords) -> list[object]:
    """Every claim, settle and release the report makes, with what each answered."""
    mine = Delivery("2026-W47", DeliveryState.SENDING, "a", T0, total="12.40")
    theirs = replace(mine, claim="b", claimed_at=T0 + timedelta(minutes=1))
    answers: list[object] = [deliveries.claim(mine), deliveries.claim(theirs)]
    answers.append(deliveries.claim(theirs, takeover=True))  # a fresh SENDING claim holds
    attempts: tuple[Callable[[], None], ...] = (
        lambda: deliveries.settle(replace(theirs, state=DeliveryState.SENT)),
        lambda: deliveries.settle(
            replace(mine, state=DeliveryState.SENT, message_id="m-1", sent_at=T0),
            only_from=DeliveryState.SENDING,
        ),
        lambda: deliveries.settle(
            replace(mine, state=DeliveryState.UNCERTAIN), only_from=DeliveryState.SENDING
        ),
    )
    for attempt in attempts:
        try:
            attempt()
            answers.append("settled")
        except ConflictError:
            answers.append("conflict")
    deliveries.release(mine)  # SENT: kept
    answers += [deliveries.find("2026-W47"), deliveries.claim(theirs, takeover=True)]
    deliveries.release(theirs)
    late = replace(mine, claim="c", claimed_at=T0 + ABANDONED_AFTER + timedelta(minutes=2))
    answers += [deliveries.find("2026-W47"), deliveries.claim(mine)]
    answers.append(deliveries.claim(late, takeover=True))  # mine was abandoned
    deliveries.settle(replace(late, state=DeliveryState.UNCERTAIN, reason="answer lost"))
    answers.append(deliveries.find("2026-W47"))
    return answers


def test_the_fake_delivery_claims_answer_as_the_dynamodb_ones(aws: None) -> None:
    """Given the ledger table, when the same claims, settles and releases run on the adapter
    and on the fake, then every answer is the same (conditions, takeovers, releases)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    _ledger_table(client)

    assert _claims(FakeReportDeliveries()) == _claims(ReportDeliveries("ledger", 90, client))


def test_a_revision_is_found_by_its_action_in_the_fake_as_on_ecs(aws: None) -> None:
    """Given web revisions registered with action tags on moto's ECS and on the fake, with
    five untagged ones after the first action's, when each action's revision is looked up,
    then both answer the same: only the newest five are read."""
    client = boto3.client("ecs", region_name="us-east-1")
    real = EcsGateway(client)
    world = World()

    def story(ecs: EcsGatewayPort) -> list[str | None]:
        tags = [{"key": "team", "value": "web"}]
        for build, action in (("1", "a1"), ("2", ""), ("3", ""), ("4", ""), ("5", "")):
            action_tags = [{"key": "autopilot:action", "value": action}] if action else []
            ecs.register_task_definition(
                fargate_task_definition("web", {"web": f"nginx:1.2{build}"}), tags + action_tags
            )
        answers = [ecs.find_revision("web", "a1"), ecs.find_revision("web", "a2")]
        ecs.register_task_definition(fargate_task_definition("web", {"web": "nginx:1.3"}), tags)
        return [*answers, ecs.find_revision("web", "a1"), ecs.find_revision("api", "a1")]

    assert story(world.ecs) == story(real)


def _index_story(index: FleetIndexPort) -> list[object]:
    """Every fleet index operation the workflows use, with what each answered."""
    web, api = "r/web", "r/api"
    first = IndexEntry(SERVICE, "web:1", frozenset({web, api}))
    moved = IndexEntry(SERVICE, "web:2", frozenset({web, "r/other"}))
    other = IndexEntry(SERVICE.replace("/web", "/api"), "api:1", frozenset({api}))
    answers: list[object] = [index.built_at(), index.entry(SERVICE), index.entries()]
    index.apply([IndexChange(None, first), IndexChange(None, other)])
    answers += [index.services_for(web), index.services_for(api), index.entry(SERVICE)]
    index.apply([IndexChange(first, moved)])
    answers += [index.services_for(api), index.services_for("r/other"), index.entries()]
    index.apply([IndexChange(other, None), IndexChange(moved, moved)])
    index.apply([])
    index.mark_built(T0)
    answers += [index.entries(), index.services_for(api), index.built_at()]
    return answers


def test_the_fake_fleet_index_answers_as_the_dynamodb_one(aws: None) -> None:
    """Given a table like the template's FleetIndexTable, when the same story runs on the
    adapter and on the fake, then every answer is the same (entries, repository listings,
    stale repositories dropped, the built marker)."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    _ledger_table(client)

    assert _index_story(FakeFleetIndex()) == _index_story(FleetIndex("ledger", client))


def test_the_fake_finds_tagged_services_among_a_list_as_the_tagging_api_does(aws: None) -> None:
    """Given services created alike in moto's ECS and in the fake, one opted in, one not, one
    deleted, when the opted-in ones are asked for among a list (with an unknown ARN), then the
    tagging adapter and the fake answer the same."""
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="prod")
    real = EcsGateway(client)
    world = World()
    arns = []
    for ecs in (real, world.ecs):
        revision = ecs.register_task_definition(fargate_task_definition("web", {"w": "n:1"}), [])
        arns.append(revision)
    for name, tags in (("web", {"autopilot:track": "tag:main"}), ("legacy", {"team": "web"})):
        client.create_service(
            cluster="prod",
            serviceName=name,
            taskDefinition=arns[0],
            desiredCount=1,
            tags=[{"key": k, "value": v} for k, v in tags.items()],
        )
        world.ecs.add_service("prod", name, arns[1], tags=tags)
    asked = [f"{SERVICE.rsplit('/', 1)[0]}/{n}" for n in ("legacy", "nowhere", "web")]

    tagging = TaggingGateway(boto3.client("resourcegroupstaggingapi", region_name="us-east-1"))
    assert tagging.tagged_among(asked, "autopilot:track") == world.tagging.tagged_among(
        asked, "autopilot:track"
    )
    assert world.tagging.tagged_among(asked, "autopilot:track") == [SERVICE]


def test_the_fake_says_which_revision_each_service_runs_as_ecs_does(aws: None) -> None:
    """Given services created alike in moto's ECS and in the fake, one deleted, when their
    running revisions are asked for (with an unknown service and a cluster that does not
    exist), then both answer the same: the ACTIVE services only."""
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="prod")
    real = EcsGateway(client)
    world = World()
    revisions = [
        ecs.register_task_definition(fargate_task_definition("web", {"w": "n:1"}), [])
        for ecs in (real, world.ecs)
    ]
    for name in ("web", "old"):
        client.create_service(
            cluster="prod", serviceName=name, taskDefinition=revisions[0], desiredCount=1
        )
        world.ecs.add_service("prod", name, revisions[1])
    client.delete_service(cluster="prod", service="old", force=True)
    world.ecs.delete_service(SERVICE.replace("/web", "/old"))
    asked = [SERVICE, SERVICE.replace("/web", "/old"), SERVICE.replace("/web", "/nowhere")]
    asked.append(SERVICE.replace("/prod/", "/gone/"))

    assert real.running_revisions(asked) == world.ecs.running_revisions(asked)
    assert list(world.ecs.running_revisions(asked)) == [SERVICE]


def test_a_blue_green_deployment_and_its_stop_read_the_same_from_the_fake_and_from_ecs(
    aws: None,
) -> None:
    """Given a BLUE_GREEN service created alike in moto's ECS (with the local server's
    extensions) and in the fake, when a new revision is deployed, found in flight, stopped with
    rollback (twice), deployed again and completed, and stopped then, then the adapter and the
    fake answer the same each time."""
    moto_extensions.install()
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="prod")
    world = World()
    configuration: dict[str, Any] = {"strategy": "BLUE_GREEN", "bakeTimeInMinutes": 10}

    def on_ecs(revision: str) -> str:
        created = client.create_service(
            cluster="prod",
            serviceName="web",
            taskDefinition=revision,
            desiredCount=3,
            deploymentConfiguration=configuration,
        )
        return str(created["service"]["serviceArn"])

    def in_fake(revision: str) -> str:
        return world.ecs.add_service(
            "prod", "web", revision, desired=3, strategy="BLUE_GREEN", bake_time_minutes=10
        )

    def story(
        ecs: EcsGatewayPort, create: Callable[[str], str], complete: Callable[[str], None]
    ) -> list[object]:
        web1, web2 = (
            ecs.register_task_definition(fargate_task_definition("web", {"web": f"n:{b}"}), [])
            for b in (1, 2)
        )
        arn = create(web1)
        service = ecs.describe_service(arn)
        answers: list[object] = [service.strategy, service.bake_time_minutes]
        ecs.update_service(service, web2)
        [found] = ecs.service_deployments(service, ONGOING)
        answers += [found.status, found.target, found.sources, _anonymous(found.arn)]
        ecs.stop_service_deployment(found.arn)
        ecs.stop_service_deployment(found.arn)  # again: the rollback goes on
        stopped = ecs.service_deployment(found.arn)
        assert stopped is not None
        answers += [stopped.status, stopped.rollback_started_at is not None]
        answers += [ecs.describe_service(arn).task_definition_arn]
        answers += [ecs.service_deployment(found.arn + "x")]
        ecs.update_service(ecs.describe_service(arn), web2)
        complete(arn)
        [done] = ecs.service_deployments(service, ["SUCCESSFUL"])
        try:
            ecs.stop_service_deployment(done.arn)
        except ConflictError:
            answers.append("conflict")
        return answers

    from_ecs = story(EcsGateway(client), on_ecs, moto_ecs_deployments.complete_service_deployments)
    from_fake = story(world.ecs, in_fake, world.ecs.complete_service_deployment)

    assert from_fake == from_ecs
    assert from_fake[2:4] == ["IN_PROGRESS", f"{TASK_DEFINITION}/web:2"]
    assert from_fake[6:8] == ["ROLLBACK_REQUESTED", True]
    assert from_fake[-1] == "conflict"


def _anonymous(arn: str) -> str:
    """A service deployment ARN with its random ID left out."""
    return re.sub(r"/[^/]+$", "/ID", arn)


def test_a_paused_deployment_and_its_answers_read_the_same_from_the_fake_and_from_ecs(
    aws: None,
) -> None:
    """Given a BLUE_GREEN service with a PAUSE hook created alike in moto's ECS (with the local
    server's extensions) and in the fake, when a new revision is deployed, its waiting hook
    read, continued, answered again, deployed again and rolled back at the hook, then the
    adapter and the fake answer the same each time."""
    moto_extensions.install()
    client = boto3.client("ecs", region_name="us-east-1")
    client.create_cluster(clusterName="prod")
    world = World()
    hook = {
        "targetType": "PAUSE",
        "lifecycleStages": ["POST_TEST_TRAFFIC_SHIFT"],
        "timeoutConfiguration": {"timeoutInMinutes": 90, "action": "ROLLBACK"},
    }

    def on_ecs(revision: str) -> str:
        created = client.create_service(
            cluster="prod",
            serviceName="web",
            taskDefinition=revision,
            desiredCount=3,
            deploymentConfiguration={"strategy": "BLUE_GREEN", "lifecycleHooks": [hook]},
        )
        return str(created["service"]["serviceArn"])

    def in_fake(revision: str) -> str:
        return world.ecs.add_service(
            "prod",
            "web",
            revision,
            desired=3,
            strategy="BLUE_GREEN",
            pause_hooks=(PauseHook(("POST_TEST_TRAFFIC_SHIFT",), 90, "ROLLBACK"),),
        )

    def story(
        ecs: EcsGatewayPort, create: Callable[[str], str], reach: Callable[[], None]
    ) -> list[object]:
        web1, web2, web3 = (
            ecs.register_task_definition(fargate_task_definition("web", {"web": f"n:{b}"}), [])
            for b in (1, 2, 3)
        )
        arn = create(web1)
        service = ecs.describe_service(arn)
        answers: list[object] = [service.pause_hooks]
        ecs.update_service(service, web2)
        reach()
        paused = waiting(ecs.service_deployments(service, ONGOING))
        assert paused is not None
        [hook] = paused.deployment.hooks
        assert paused.deployment.created_at is not None
        assert hook.expires_at is not None
        answers += [
            paused.stage,
            (hook.target_type, hook.status, hook.timeout_action),
            hook.hook_id.startswith("ecs-pause-"),
            # from when the deployment reached the hook (locally: its tasks took a minute)
            timedelta(minutes=90)
            <= hook.expires_at - paused.deployment.created_at
            <= timedelta(minutes=92),
        ]
        ecs.continue_service_deployment(paused.deployment.arn, hook.hook_id, "CONTINUE")
        shown = ecs.service_deployment(paused.deployment.arn)
        assert shown is not None
        answers += [shown.status, [h.status for h in shown.hooks]]
        try:
            ecs.continue_service_deployment(paused.deployment.arn, hook.hook_id, "CONTINUE")
        except PermanentFailureError as exc:
            answers.append(exc.code)
        ecs.update_service(ecs.describe_service(arn), web3)
        reach()
        again = waiting(ecs.service_deployments(service, ONGOING))
        assert again is not None
        ecs.continue_service_deployment(again.deployment.arn, again.hook.hook_id, "ROLLBACK")
        rejected = ecs.service_deployment(again.deployment.arn)
        assert rejected is not None
        return [*answers, rejected.status, ecs.describe_service(arn).task_definition_arn]

    def engine_reaches_the_hook() -> None:
        """The local ECS moves the deployment on until it waits (green's tasks: a minute)."""
        now = datetime.now(UTC)
        for minutes in (0, 1):
            ecs_engine.advance(now + timedelta(minutes=minutes))

    from_ecs = story(EcsGateway(client), on_ecs, engine_reaches_the_hook)
    from_fake = story(world.ecs, in_fake, lambda: None)

    assert from_fake == from_ecs
    assert from_fake[1:3] == ["POST_TEST_TRAFFIC_SHIFT", ("PAUSE", "AWAITING_ACTION", "ROLLBACK")]
    assert from_fake[4:8] == [
        True,
        "IN_PROGRESS",
        ["SUCCEEDED"],
        "continue-refused",
    ]
    assert from_fake[-2:] == ["ROLLBACK_REQUESTED", f"{TASK_DEFINITION}/web:2"]

"""The fleet index: which repositories a revision uses (pure), and planning a push from the index
with the fakes: what it costs, how fresh it is, and that it only ever narrows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, cast

import pytest

from autopilot.domain.fleet_index import (
    IndexChange,
    IndexEntry,
    called_service,
    changes,
    repositories_used,
    repository_key,
)
from autopilot.domain.ledger import Outcome
from autopilot.entry import on_event
from autopilot.observability import metrics
from autopilot.ports import EcsGateway, FleetIndex, TaggingGateway
from autopilot.workflows.execute import execute
from autopilot.workflows.fleet_index import on_index_event, parse_index_event, reindex
from autopilot.workflows.plan_push import plan_push
from autopilot.workflows.registry import parse_action
from tests.fakes.aws import ACCOUNT, REGION
from tests.fakes.world import REGISTRY, World, digest, ecr_image

EVENTS = Path(__file__).resolve().parents[2] / "events"
TRACKED = {"autopilot:track": "tag:main"}
WEB = repository_key(ACCOUNT, REGION, "web")


@pytest.fixture(autouse=True)
def no_metrics_left_behind() -> Iterator[None]:
    """The workflows count outside a handler here: what they counted is not flushed later by
    another test's handler."""
    yield
    metrics.clear_metrics()


# -- pure: what a revision uses ---------------------------------------------------------------


def test_a_revision_uses_the_ecr_repositories_of_its_containers_whatever_the_endpoint() -> None:
    # Given containers pulling from ECR by tag, by digest, over dual-stack and FIPS endpoints,
    # one from Docker Hub, one from public ECR and one unreadable reference
    definition = {
        "containerDefinitions": [
            {"name": "web", "image": f"{REGISTRY}/web:main"},
            {"name": "pinned", "image": f"{REGISTRY}/web@{digest('web#1')}"},
            {"name": "api", "image": f"{ACCOUNT}.dkr-ecr.{REGION}.on.aws/team/api:1.4.2"},
            {"name": "fips", "image": f"{ACCOUNT}.dkr.ecr-fips.{REGION}.amazonaws.com/worker"},
            {"name": "proxy", "image": "nginx:1.27"},
            {"name": "logs", "image": "public.ecr.aws/aws-observability/aws-for-fluent-bit:2"},
            {"name": "bad", "image": "Not An Image"},
        ]
    }

    # When the repositories it uses are derived
    used = repositories_used(definition)

    # Then each ECR repository is named once, by account, region and name; nothing else is
    assert used == {WEB, f"{ACCOUNT}/{REGION}/team/api", f"{ACCOUNT}/{REGION}/worker"}


@pytest.mark.parametrize(
    ("name", "request_", "response", "expected"),
    [
        (
            "UpdateService",
            {"cluster": "prod", "service": "web"},
            {"service": {"serviceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web"}},
            "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        ),
        (  # no response recorded: the request names it; no cluster is the default cluster
            "DeleteService",
            {"service": "web"},
            {},
            "arn:aws:ecs:us-east-1:123456789012:service/default/web",
        ),
        (
            "CreateService",
            {"cluster": "arn:aws:ecs:us-east-1:123456789012:cluster/prod", "serviceName": "api"},
            {},
            "arn:aws:ecs:us-east-1:123456789012:service/prod/api",
        ),
        (
            "TagResource",
            {"resourceArn": "arn:aws:ecs:us-east-1:123456789012:service/prod/web"},
            {},
            "arn:aws:ecs:us-east-1:123456789012:service/prod/web",
        ),
        (  # a task definition or a cluster is not a service
            "TagResource",
            {"resourceArn": "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"},
            {},
            None,
        ),
        (  # an old short-form service ARN names no cluster
            "UntagResource",
            {"resourceArn": "arn:aws:ecs:us-east-1:123456789012:service/web"},
            {},
            None,
        ),
    ],
)
def test_the_service_an_api_call_was_about(
    name: str, request_: dict[str, Any], response: dict[str, Any], expected: str | None
) -> None:
    assert called_service(name, request_, response, ACCOUNT, REGION) == expected


def test_a_reindex_writes_what_changed_and_removes_what_is_gone() -> None:
    # Given an index with web (unchanged), api (now on another revision and repository) and
    # legacy (no longer opted in)
    web = IndexEntry("web", "web:1", frozenset({"r/web"}))
    api_before = IndexEntry("api", "api:1", frozenset({"r/api"}))
    legacy = IndexEntry("legacy", "legacy:1", frozenset({"r/web"}))
    api_after = IndexEntry("api", "api:2", frozenset({"r/api2"}))

    # When it is compared with the services wanted now
    found = changes({"web": web, "api": api_before, "legacy": legacy}, [web, api_after])

    # Then api is rewritten (its old repository dropped) and legacy removed; web is left alone
    assert found == [IndexChange(api_before, api_after), IndexChange(legacy, None)]
    assert found[0].stale_repositories == {"r/api"}


# -- with the fakes ---------------------------------------------------------------------------


@dataclass
class Counted:
    """A gateway whose every call is recorded as `name.method(args)`."""

    gateway: Any
    name: str
    calls: list[tuple[str, tuple[Any, ...]]]

    def __getattr__(self, method: str) -> Any:
        found = getattr(self.gateway, method)
        if not callable(found):
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((f"{self.name}.{method}", args))
            return found(*args, **kwargs)

        return call


@dataclass
class Gateways:
    """What the push planner and the index function are handed, each call counted."""

    world: World
    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)

    @property
    def ecs(self) -> EcsGateway:
        return cast("EcsGateway", Counted(self.world.ecs, "ecs", self.calls))

    @property
    def tagging(self) -> TaggingGateway:
        return cast("TaggingGateway", Counted(self.world.tagging, "tagging", self.calls))

    @property
    def index(self) -> FleetIndex:
        return cast("FleetIndex", Counted(self.world.index, "index", self.calls))

    def now(self) -> datetime:
        return self.world.clock()

    def named(self, prefix: str) -> list[str]:
        return [name for name, _ in self.calls if name.startswith(prefix)]

    def described(self) -> set[str]:
        """Every service ARN ECS was asked to describe (DescribeServices, whatever it reads)."""
        asked = {"ecs.describe_services", "ecs.running_revisions"}
        return {arn for name, args in self.calls if name in asked for arn in args[0]}


def _fleet(world: World, size: int) -> dict[str, str]:
    """`size` opted-in services following other repositories, plus prod/web on web:main, a
    service that did not opt in and one outside the managed clusters (both on web)."""
    image = ecr_image("web", digest("web#1"))
    arns = {
        "web": world.add_service("prod", "web", {"web": image}, tags=TRACKED),
        "unmanaged": world.add_service("prod", "web-legacy", {"web": image}),
    }
    for n in range(size):
        repository = f"svc-{n % 50}"
        world.add_service(
            "prod",
            f"svc-{n}",
            {"app": ecr_image(repository, digest(f"{repository}#1"))},
            family=repository,
            tags=TRACKED,
        )
    return arns


def _push(world: World, repository: str, build: str = "2") -> Any:
    return world.push(repository, build, "main")


@pytest.mark.parametrize("size", [100, 1_000, 5_000])
def test_once_built_a_push_costs_a_few_calls_whatever_the_size_of_the_fleet(size: int) -> None:
    # Given an opted-in fleet of `size` services, and prod/web following web:main
    world = World()
    arns = _fleet(world, size)
    reindex(Gateways(world))  # the index, built (as the schedule or the first push builds it)

    # When web:main is pushed
    aws = Gateways(world)
    lines = plan_push(_push(world, "web"), aws, world.queue)

    # Then prod/web alone is planned: one index lookup, its tags, its description, and the
    # running revision it deploys from (read here so the executor's deploy is three ECS calls)
    assert [(line.service, line.decision) for line in lines] == [("prod/web", "queued")]
    assert aws.named("") == [
        "index.built_at",
        "index.services_for",
        "tagging.tagged_among",
        "ecs.describe_services",
        "ecs.task_definition",
    ]
    # and the service that did not opt in is never described, though it uses web too
    assert aws.described() == {arns["web"]}


@pytest.mark.parametrize("size", [100, 1_000, 5_000])
def test_a_push_of_a_repository_no_service_follows_costs_no_ecs_call(size: int) -> None:
    # Given an indexed fleet of `size` services, none of which uses the repository `docs`
    world = World()
    _fleet(world, size)
    reindex(Gateways(world))

    # When docs:main is pushed
    aws = Gateways(world)
    lines = plan_push(_push(world, "docs"), aws, world.queue)

    # Then nothing is planned, and neither ECS nor the tagging API is asked anything
    assert lines == []
    assert aws.named("ecs.") == []
    assert aws.named("tagging.") == []
    assert aws.named("index.") == ["index.built_at", "index.services_for"]


def test_the_first_push_builds_the_index_then_plans_from_it() -> None:
    # Given a fleet created behind the automation's back: the index was never built
    world = World()
    arns = _fleet(world, 20)
    assert world.index.built_at() is None

    # When web:main is pushed
    aws = Gateways(world)
    lines = plan_push(_push(world, "web"), aws, world.queue)

    # Then the index is built from the opted-in services (marked built), and prod/web deploys
    assert world.index.built_at() == world.clock()
    assert [(line.service, line.decision) for line in lines] == [("prod/web", "queued")]
    assert world.index.services_for(WEB) == [arns["web"]]
    assert arns["unmanaged"] not in aws.described()

    # And the next push reads the index, not the fleet
    again = Gateways(world)
    plan_push(_push(world, "web", "3"), again, world.queue)
    assert "tagging.services_tagged" not in again.named("")


def test_unmanaged_clusters_are_never_indexed_nor_read() -> None:
    # Given a service that opted in, in a cluster outside the managed ones (the tagging
    # adapter leaves such services out, as ManagedClusters makes it)
    world = World()
    web = world.add_service("prod", "web", {"web": ecr_image("web", digest("web#1"))}, tags=TRACKED)
    elsewhere = world.add_service(
        "sandbox", "web", {"web": ecr_image("web", digest("web#1"))}, tags=TRACKED
    )
    world.tagging = _Scoped(world.tagging, frozenset({"prod"}))  # type: ignore[assignment]

    # When the index is built and web:main is pushed
    aws = Gateways(world)
    reindex(aws)
    lines = plan_push(_push(world, "web"), aws, world.queue)

    # Then the service outside is neither indexed nor described
    assert world.index.services_for(WEB) == [web]
    assert elsewhere not in aws.described()
    assert [line.service for line in lines] == ["prod/web"]


class _Scoped:
    """The tagging fake as ManagedClusters narrows the real adapter."""

    def __init__(self, tagging: TaggingGateway, clusters: frozenset[str]) -> None:
        self._tagging, self._clusters = tagging, clusters

    def _inside(self, arns: list[str]) -> list[str]:
        return [a for a in arns if a.split("/")[-2] in self._clusters]

    def services_tagged(self, key: str) -> list[str]:
        return self._inside(self._tagging.services_tagged(key))

    def tagged_among(self, service_arns: list[str], key: str) -> list[str]:
        return self._inside(self._tagging.tagged_among(service_arns, key))


# -- freshness: a service changed by hand -----------------------------------------------------


def _api_call(name: str, **request: Any) -> dict[str, Any]:
    """The CloudTrail sample of that call, with the request replaced."""
    file = {
        "UpdateService": "ecs_api_call_update_service.json",
        "TagResource": "ecs_api_call_tag_resource.json",
        "UntagResource": "ecs_api_call_untag_resource.json",
    }[name]
    body: dict[str, Any] = json.loads((EVENTS / file).read_text())
    body["account"] = body["detail"]["recipientAccountId"] = ACCOUNT
    body["region"] = body["detail"]["awsRegion"] = REGION
    body["detail"]["requestParameters"] = request
    body["detail"]["responseElements"] = None
    return body


def _send(world: World, event: dict[str, Any]) -> dict[str, Any]:
    """The index function's handling: parse, ignore with a reason, or refresh."""
    dead: list[str] = []
    result = on_event(
        event,
        parse_index_event,
        lambda parsed: on_index_event(parsed, Gateways(world)),
        lambda _, reason: dead.append(reason),
    )
    return {**result, "dead": dead}


def _planned(world: World, repository: str, build: str) -> list[tuple[str, str]]:
    world.queue.messages.clear()
    lines = plan_push(_push(world, repository, build), Gateways(world), world.queue)
    return [(line.service, line.decision) for line in lines]


def _indexed_world() -> tuple[World, dict[str, str]]:
    world = World()
    arns = _fleet(world, 5)
    reindex(Gateways(world))
    return world, arns


def test_a_service_opted_in_by_hand_is_followed_from_its_tag_event() -> None:
    # Given prod/web-legacy on web, not opted in, so not indexed
    world, arns = _indexed_world()
    legacy = arns["unmanaged"]
    assert legacy not in world.index.services_for(WEB)

    # When someone tags it by hand and CloudTrail's TagResource event arrives
    world.ecs.tag_service(legacy, TRACKED)
    result = _send(world, _api_call("TagResource", resourceArn=legacy, tags=[]))

    # Then it is indexed, and the next push of web:main deploys it too
    assert result["indexed"] == [legacy]
    assert _planned(world, "web", "2") == [("prod/web", "queued"), ("prod/web-legacy", "queued")]


def test_a_service_untagged_by_hand_is_dropped_and_never_read_again() -> None:
    # Given prod/web indexed under web
    world, arns = _indexed_world()
    web = arns["web"]

    # When its autopilot:track tag is removed by hand and UntagResource's event arrives
    world.ecs.untag_service(web, ["autopilot:track"])
    aws_calls = Gateways(world)
    result = on_index_event(
        parse_index_event(_api_call("UntagResource", resourceArn=web, tagKeys=["x"])), aws_calls
    )

    # Then its entry is removed without describing it, and a push of web:main reads nothing
    assert result["removed"] == [web]
    assert aws_calls.described() == set()
    aws = Gateways(world)
    assert plan_push(_push(world, "web"), aws, world.queue) == []
    assert aws.named("ecs.") == []


def test_untagged_between_the_event_and_the_push_it_is_still_not_read() -> None:
    # Given prod/web indexed under web, then untagged by hand, its event not yet arrived
    world, arns = _indexed_world()
    world.ecs.untag_service(arns["web"], ["autopilot:track"])

    # When web:main is pushed
    aws = Gateways(world)
    lines = plan_push(_push(world, "web"), aws, world.queue)

    # Then its tags are read, ECS is not asked about it, and nothing is queued
    assert lines == []
    assert aws.described() == set()


def _redeploy_by_hand(world: World, arn: str, repository: str) -> str:
    """Register a revision of prod/web whose container comes from `repository` and point the
    service at it, as someone with the console would."""
    revision = world.ecs.register_task_definition(
        {
            "family": "web",
            "containerDefinitions": [
                {"name": "web", "image": ecr_image(repository, digest(f"{repository}#1"))}
            ],
        },
        [],
    )
    world.ecs.update_service(world.ecs.describe_service(arn), revision)
    return revision


def test_a_service_redeployed_by_hand_to_another_repository_follows_its_update_event() -> None:
    # Given prod/web indexed under web
    world, arns = _indexed_world()
    web = arns["web"]

    # When it is redeployed by hand to a revision from repository `storefront`, and
    # CloudTrail's UpdateService event arrives
    revision = _redeploy_by_hand(world, web, "storefront")
    _send(world, _api_call("UpdateService", cluster="prod", service="web", taskDefinition="web"))

    # Then the index lists it under storefront only, at that revision
    assert world.index.entry(web) == IndexEntry(
        web, revision, frozenset({repository_key(ACCOUNT, REGION, "storefront")})
    )
    assert world.index.services_for(WEB) == []
    # and a push of storefront:main deploys it; a push of web:main reads nothing
    assert _planned(world, "storefront", "2") == [("prod/web", "queued")]
    assert _planned(world, "web", "2") == []


def test_when_the_update_event_is_lost_the_next_reindex_catches_up() -> None:
    # Given prod/web indexed under web, redeployed by hand to `storefront`, its event lost
    world, arns = _indexed_world()
    _redeploy_by_hand(world, arns["web"], "storefront")

    # When storefront:main is pushed before any reindex: the deploy is missed (the bound)
    assert _planned(world, "storefront", "2") == []
    # and web:main is pushed: prod/web is read fresh and skipped, never changed
    world.queue.messages.clear()
    lines = plan_push(_push(world, "web", "3"), Gateways(world), world.queue)
    assert [(line.service, line.code) for line in lines] == [("prod/web", "not-using-repository")]
    assert world.queue.messages == []

    # When the reindex schedule fires
    result = _send(world, {"action": "reindex"})

    # Then the index follows the change, and the next storefront push deploys it
    assert result["status"] == "handled"
    assert result["changed"] == 1
    assert _planned(world, "storefront", "3") == [("prod/web", "queued")]


def test_a_reindex_removes_deleted_and_opted_out_services() -> None:
    # Given an index listing prod/web and five more services
    world, arns = _indexed_world()
    before = set(world.index.entries())

    # When prod/web is deleted and prod/svc-0 opts out, behind the automation's back
    world.ecs.delete_service(arns["web"])
    svc0 = next(a for a in before if a.endswith("/svc-0"))
    world.ecs.untag_service(svc0, ["autopilot:track"])
    result = _send(world, {"action": "reindex"})

    # Then both entries are gone, and nothing else changed
    assert result["removed"] == 2
    assert set(world.index.entries()) == before - {arns["web"], svc0}


def test_ecs_deployment_events_refresh_the_services_they_name() -> None:
    # Given prod/web redeployed by hand to `storefront`
    world, arns = _indexed_world()
    _redeploy_by_hand(world, arns["web"], "storefront")

    # When ECS's deployment event for it arrives
    event = json.loads((EVENTS / "ecs_deployment_completed.json").read_text())
    event["resources"] = [arns["web"]]
    result = _send(world, event)

    # Then the index follows it
    assert result["indexed"] == [arns["web"]]
    assert world.index.services_for(repository_key(ACCOUNT, REGION, "storefront")) == [arns["web"]]


# -- the index function at its edge -----------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (lambda e: e["detail"].update(eventName="RunTask"), "does not change"),
        (lambda e: e["detail"].update(errorCode="AccessDenied"), "failed"),
        (
            lambda e: e["detail"].update(
                requestParameters={"resourceArn": "arn:aws:ecs:us-east-1:1:cluster/prod"}
            ),
            "not about a service",
        ),
    ],
)
def test_api_calls_that_change_nothing_indexed_are_ignored_with_a_reason(
    change: Callable[[dict[str, Any]], None], reason: str
) -> None:
    world, _ = _indexed_world()
    event = _api_call("TagResource", resourceArn="arn:aws:ecs:us-east-1:1:service/prod/web")
    change(event)

    result = _send(world, event)

    assert result["status"] == "ignored"
    assert reason in result["reason"]


@pytest.mark.parametrize(
    "event",
    [
        {"action": "rebuild"},
        {"action": "reindex", "group": "nightly"},
        {"detail-type": "AWS API Call via CloudTrail", "source": "aws.ecs", "detail": {}},
        {"detail-type": "ECS Deployment State Change", "source": "aws.ecs", "resources": []},
    ],
)
def test_a_malformed_event_is_kept_as_a_dead_letter_with_its_reason(event: dict[str, Any]) -> None:
    # Given an index function and a malformed event
    world = World()

    # When it is handled
    result = _send(world, event)

    # Then it is rejected, not retried: logged with the reason and dead-lettered
    assert result["status"] == "rejected"
    assert result["dead"] == [result["reason"]]


# -- the executor follows its own rollouts ----------------------------------------------------


def test_the_executor_tells_the_index_the_revision_it_rolled_out() -> None:
    # Given prod/web indexed at web:1 and a push of web:main planned
    world, arns = _indexed_world()
    web = arns["web"]
    plan_push(_push(world, "web"), Gateways(world), world.queue)

    # When the executor deploys it
    ctx = world.context()
    [entry] = [execute(ctx, parse_action(m.to_json())) for m in world.queue.messages]

    # Then the index names the new revision right away, under the same repository
    assert entry.outcome is Outcome.DEPLOYED
    assert world.index.entry(web) == IndexEntry(web, entry.to_task_definition, frozenset({WEB}))


def test_an_index_that_cannot_be_written_does_not_fail_the_deploy() -> None:
    # Given an index the executor cannot write to (DynamoDB throttling)
    world, _ = _indexed_world()
    plan_push(_push(world, "web"), Gateways(world), world.queue)

    def throttled(*_: object) -> None:
        from tests.fakes.aws import client_error  # noqa: PLC0415

        raise client_error("ProvisionedThroughputExceededException", "slow down", "BatchWriteItem")

    world.index.apply = throttled  # type: ignore[method-assign,assignment]

    # When the executor deploys
    ctx = world.context()
    [entry] = [execute(ctx, parse_action(m.to_json())) for m in world.queue.messages]

    # Then the deploy is done and recorded; the index catches up from the next event or reindex
    assert entry.outcome is Outcome.DEPLOYED


def test_a_reindex_built_an_hour_ago_is_still_built() -> None:
    world, _ = _indexed_world()
    built = world.index.built_at()
    world.clock.advance(timedelta(hours=1))
    plan_push(_push(world, "web"), Gateways(world), world.queue)
    assert world.index.built_at() == built


def test_a_reindex_reads_only_the_revisions_it_does_not_know() -> None:
    # Given an indexed fleet of 200 services, then one of them redeployed by hand
    world = World()
    arns = _fleet(world, 200)
    reindex(Gateways(world))
    _redeploy_by_hand(world, arns["web"], "storefront")

    # When the reindex schedule fires again
    aws = Gateways(world)
    done = reindex(aws)

    # Then ECS is asked which revision each runs, and only the new revision is read
    assert done.changed == 1
    assert aws.named("ecs.task_definition") == ["ecs.task_definition"]
    assert aws.named("ecs.describe_services") == []


def test_an_entry_left_half_written_is_read_again_by_the_next_reindex() -> None:
    # Given prod/web's entry declaring web and storefront, but only web listed (a write that
    # was interrupted half way)
    world, arns = _indexed_world()
    web = arns["web"]
    entry = world.index.entry(web)
    assert entry is not None
    storefront = repository_key(ACCOUNT, REGION, "storefront")
    world.index.revisions[web] = (entry.task_definition_arn, entry.repositories | {storefront})

    # When the index is read whole, and reindexed
    assert world.index.entries()[web].task_definition_arn == ""
    reindex(Gateways(world))

    # Then the entry is whole again, as the service's revision says
    assert world.index.entries()[web] == entry

"""Task definition revisions read through the revision cache: content kept for good, tags only
for a while, names that move never cached (adapters/revisions.py, adapters/ecs.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast

import pytest

from autopilot.adapters.ecs import TAGS_FRESH_FOR, EcsGateway
from autopilot.adapters.revisions import MAX_BODY_BYTES, Revision, RevisionCache, immutable_name

if TYPE_CHECKING:
    from mypy_boto3_ecs import ECSClient

ARN = "arn:aws:ecs:us-east-1:123456789012:task-definition/web:7"
START = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


class Ecs:
    """DescribeTaskDefinition only, counting the calls; its tags can be changed."""

    def __init__(self) -> None:
        self.described: list[str] = []
        self.tags = [{"key": "team", "value": "web"}]

    def describe_task_definition(self, taskDefinition: str, **_: Any) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.described.append(taskDefinition)
        return {
            "taskDefinition": {
                "taskDefinitionArn": ARN,
                "family": "web",
                "revision": 7,
                "status": "ACTIVE",
                "containerDefinitions": [{"name": "web", "image": "web:1"}],
            },
            "tags": list(self.tags),
        }


class Table(RevisionCache):
    """The ledger table's revision items, in memory."""

    def __init__(self) -> None:
        super().__init__("ledger")
        self.items: dict[str, Revision] = {}

    def get(self, arn: str) -> Revision | None:
        return self.items.get(arn)

    def put(self, arn: str, revision: Revision) -> bool:
        self.items[arn] = revision
        return True


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


def gateway(ecs: Ecs, table: Table, clock: Clock) -> EcsGateway:
    return EcsGateway(cast("ECSClient", ecs), revisions=table, clock=clock)


@pytest.mark.parametrize(
    ("name", "immutable"),
    [(ARN, True), ("web:7", True), ("web", False), ("7", False), ("arn:...:web", False)],
)
def test_only_a_name_with_a_revision_number_always_means_the_same_revision(
    name: str, immutable: bool
) -> None:
    assert immutable_name(name) is immutable


def test_what_one_function_read_another_reads_from_the_table() -> None:
    # Given the planner read a revision
    ecs, table, clock = Ecs(), Table(), Clock()
    gateway(ecs, table, clock).task_definition(ARN)

    # When the executor (another process) reads its content and, moments later, its tags
    executor = gateway(ecs, table, clock)
    clock.now += timedelta(seconds=5)
    content = executor.revision(ARN)
    _, tags = executor.task_definition(ARN)

    # Then ECS was asked once, by the planner
    assert ecs.described == [ARN]
    assert content["containerDefinitions"][0]["image"] == "web:1"
    assert tags == [{"key": "team", "value": "web"}]


def test_tags_older_than_the_bound_are_asked_of_ecs_again() -> None:
    # Given a revision read long ago, and its tags changed since
    ecs, table, clock = Ecs(), Table(), Clock()
    gateway(ecs, table, clock).task_definition(ARN)
    ecs.tags = [{"key": "team", "value": "payments"}]
    clock.now += TAGS_FRESH_FOR + timedelta(seconds=1)
    later = gateway(ecs, table, clock)

    # When its content, then its tags, are read
    later.revision(ARN)
    described_for_content = len(ecs.described)
    _, tags = later.task_definition(ARN)

    # Then the content came from the table, the tags from ECS, as they are now
    assert described_for_content == 1
    assert ecs.described == [ARN, ARN]
    assert tags == [{"key": "team", "value": "payments"}]


def test_a_family_name_is_always_asked_of_ecs() -> None:
    # Given the family's latest revision read once
    ecs, table, clock = Ecs(), Table(), Clock()
    ecs_gateway = gateway(ecs, table, clock)
    ecs_gateway.revision("web")

    # When it is read again by name
    ecs_gateway.revision("web")

    # Then ECS was asked each time (a new revision may have been registered meanwhile)
    assert ecs.described == ["web", "web"]


def test_a_body_too_big_for_an_item_is_not_stored() -> None:
    # Given a revision whose compressed body would not fit in a DynamoDB item
    noise = "".join(f"{i:x}" for i in range(200_000))
    revision = Revision({"taskDefinitionArn": ARN, "x": noise}, [], START)

    # When it is stored (no client: nothing may be sent)
    stored = RevisionCache("ledger", client=cast("Any", None)).put(ARN, revision)

    # Then it is not, and nothing failed
    assert stored is False
    assert len(noise) > MAX_BODY_BYTES

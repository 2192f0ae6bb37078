"""The fleet index (DynamoDB): ECR repository -> the opted-in services whose running revision
pulls from it, so that planning a push reads only the services that may deploy it.

**A table of its own**, not a key prefix in the ledger, because:
- the push and scan planners build it when it was never built, so they need write access to
  it; in its own table they get that without any write access to the ledger, which only the
  executor writes (planners only queue);
- it is derived data, rebuilt by any reindex: no point-in-time recovery, no Retain policy, no
  TTL, and losing it costs one rebuild;
- the reindex reads it whole (Scan), which would otherwise page through the ledger's history.

**Items** (pk, sk):
- `REPO#<account>/<region>/<repository>`, `<service ARN>`: one per repository a service's
  running revision uses. A push reads its repository's partition with one Query (paged).
- `SERVICE#<service ARN>`, `ENTRY`: the revision the service was seen running and its
  repositories, so that an update knows which repository items to delete. A service whose
  revision changed within the same repositories (every deploy, nearly every rollback) is
  updated with one write; a change of repositories is one BatchWriteItem.
- `BUILT`, `BUILT`: when the index was last built whole. Without it the index was never built,
  and the first push builds it before planning from it.

**Freshness.** The index follows, within seconds:
- the automation's own deploys and rollbacks (the executor writes the revision it rolled out,
  right after UpdateService or CreateDeployment);
- ECS's own events about a service (`ECS Deployment State Change`, `ECS Service Action`): the
  service is read again;
- the management events of CreateService, UpdateService, DeleteService, TagResource and
  UntagResource, which EventBridge delivers as `AWS API Call via CloudTrail` when the account
  has a CloudTrail trail logging management events in the region (see the README).
A reindex, every `ReindexRate` (default 15 minutes, EventBridge Scheduler), rewrites the index
from the opted-in services (the `autopilot:track` tag, in the managed clusters) and removes
every other entry; it asks ECS only which revision each runs (DescribeServices, 10 services a
call) and reads the task definitions of revisions it does not know yet (114 calls at 1,000
opted-in services once built: GetResources, DescribeServices, one Scan page, the marker).
**Staleness bound:** events are delivered best effort; when one is lost, no
entry is staler than one reindex period plus one reindex run (`ReindexRate` + the function's
timeout: 15 + 2 minutes by default). A reindex reflects every change made before it started
(a tag change as soon as the Resource Groups Tagging API shows it); an event's write that a
reindex running at the same time overwrites with an older read is put right by the next one,
within the same bound. Proven by tests/unit/test_fleet_index.py (a service re-tagged and
redeployed by hand, with its event and with its event lost) and tests/e2e.

**Safety: the index only narrows.** It decides which services a planner looks at, never what
is done to them. The planner reads the candidates' tags (Resource Groups Tagging API: a
service no longer opted in is dropped before ECS is asked about it), describes the rest fresh
with their tags and running revision, and decides from that alone; the executor describes the
service again and re-decides before it changes anything. A stale entry can make a service
considered for nothing (skipped: no container uses the repository) or, when a service started
following a repository and no event told the index, a deploy missed until the next reindex
(then the next push deploys it): late or missed, never wrong.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from autopilot.adapters import clients
from autopilot.domain.fleet_index import IndexChange, IndexEntry, IndexWriteError

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import WriteRequestTypeDef

IAM_ACTIONS = {
    # a planner finds the services that follow a repository
    "lookup": ("dynamodb:GetItem", "dynamodb:Query"),
    # whoever keeps it fresh: the index function, the executor, and a first push
    "maintain": ("dynamodb:BatchWriteItem", "dynamodb:GetItem", "dynamodb:Scan"),
    # the executor records the revision it rolled out
    "follow": ("dynamodb:BatchWriteItem", "dynamodb:GetItem"),
}

_BATCH = 25  # BatchWriteItem takes at most 25 requests
_ENTRY = "ENTRY"
_BUILT = {"pk": {"S": "BUILT"}, "sk": {"S": "BUILT"}}
# BatchWriteItem may leave items unprocessed under throttling; botocore does not retry those.
_UNPROCESSED_ROUNDS = 5


def _repo_pk(repository: str) -> str:
    return f"REPO#{repository}"


def _service_pk(service_arn: str) -> str:
    return f"SERVICE#{service_arn}"


class FleetIndex:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._dynamodb = client or clients.dynamodb()
        self._built: datetime | None = None  # once built, built for the life of the container

    def built_at(self) -> datetime | None:
        """When the index was last built whole; None if it never was."""
        if self._built is None:
            item = self._dynamodb.get_item(
                TableName=self._table, Key=_BUILT, ConsistentRead=True
            ).get("Item")
            if item:
                self._built = datetime.fromisoformat(item["built_at"]["S"])
        return self._built

    def services_for(self, repository: str) -> list[str]:
        """ARNs of the services indexed as using the repository (a repository key), sorted."""
        found: list[str] = []
        paginator = self._dynamodb.get_paginator("query")
        for page in paginator.paginate(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": _repo_pk(repository)}},
            ProjectionExpression="sk",
        ):
            found.extend(item["sk"]["S"] for item in page.get("Items", []))
        return sorted(found)

    def entry(self, service_arn: str) -> IndexEntry | None:
        item = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": _service_pk(service_arn)}, "sk": {"S": _ENTRY}},
            ConsistentRead=True,
        ).get("Item")
        if not item:
            return None
        return IndexEntry(
            service_arn=service_arn,
            task_definition_arn=item["task_definition"]["S"],
            repositories=frozenset(item.get("repositories", {}).get("SS", [])),
        )

    def entries(self) -> dict[str, IndexEntry]:
        """Every indexed service, with the repositories the index actually lists it under
        (repository items left behind by an interrupted update included, so that a reindex
        removes them); the revision is "" where the two kinds of item disagree."""
        declared: dict[str, tuple[str, frozenset[str]]] = {}
        listed: dict[str, set[str]] = {}
        paginator = self._dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=self._table):
            for item in page.get("Items", []):
                pk, sk = item["pk"]["S"], item["sk"]["S"]
                if pk.startswith("REPO#"):
                    listed.setdefault(sk, set()).add(pk.removeprefix("REPO#"))
                elif pk.startswith("SERVICE#"):
                    declared[pk.removeprefix("SERVICE#")] = (
                        item["task_definition"]["S"],
                        frozenset(item.get("repositories", {}).get("SS", [])),
                    )
        return {
            arn: _listed_entry(arn, declared.get(arn), frozenset(listed.get(arn, ())))
            for arn in sorted(set(declared) | set(listed))
        }

    def apply(self, changes: Iterable[IndexChange]) -> None:
        """Write the changes: each entry's items, and the deletion of what it no longer uses."""
        requests: list[WriteRequestTypeDef] = []
        for change in changes:
            requests.extend(_requests(change))
        for start in range(0, len(requests), _BATCH):
            self._write(requests[start : start + _BATCH])

    def mark_built(self, at: datetime) -> None:
        built = {**_BUILT, "built_at": {"S": at.astimezone(UTC).isoformat()}}
        self._write([{"PutRequest": {"Item": built}}])
        self._built = at

    def _write(self, requests: list[WriteRequestTypeDef]) -> None:
        pending: Sequence[Any] = requests
        for _ in range(_UNPROCESSED_ROUNDS):
            response = self._dynamodb.batch_write_item(RequestItems={self._table: pending})
            pending = response.get("UnprocessedItems", {}).get(self._table, [])
            if not pending:
                return
        raise IndexWriteError(f"{len(pending)} index writes left unprocessed")


def _requests(change: IndexChange) -> list[WriteRequestTypeDef]:
    requests: list[WriteRequestTypeDef] = []
    arn = (change.entry or change.previous or _NOWHERE).service_arn
    if change.entry is None:
        requests.append(_delete(_service_pk(arn), _ENTRY))
    else:
        item: dict[str, Any] = {
            "pk": {"S": _service_pk(arn)},
            "sk": {"S": _ENTRY},
            "task_definition": {"S": change.entry.task_definition_arn},
        }
        if change.entry.repositories:
            item["repositories"] = {"SS": sorted(change.entry.repositories)}
        requests.append({"PutRequest": {"Item": item}})
        known = change.previous.repositories if change.previous else frozenset()
        requests.extend(
            {"PutRequest": {"Item": {"pk": {"S": _repo_pk(repo)}, "sk": {"S": arn}}}}
            for repo in sorted(change.entry.repositories - known)
        )
    requests.extend(_delete(_repo_pk(repo), arn) for repo in sorted(change.stale_repositories))
    return requests


def _listed_entry(
    arn: str, declared: tuple[str, frozenset[str]] | None, listed: frozenset[str]
) -> IndexEntry:
    """The entry as the repository items list it. When they disagree with what the service
    item declares (a write interrupted half way), its revision is left unknown (""), so that
    a reindex reads the service again instead of trusting the entry."""
    revision, repositories = declared or ("", frozenset())
    return IndexEntry(arn, revision if repositories == listed else "", listed)


def _delete(pk: str, sk: str) -> WriteRequestTypeDef:
    return {"DeleteRequest": {"Key": {"pk": {"S": pk}, "sk": {"S": sk}}}}


_NOWHERE = IndexEntry("", "", frozenset())

"""Task definition revisions as ECS showed them, kept in the ledger table across functions.

Why this cache may be trusted:
- A revision's content never changes: ECS has no call that edits a registered revision, and a
  revision number is never reused (a deregistered or deleted revision keeps its number). So
  what DescribeTaskDefinition answered for `arn:...:task-definition/web:7` once is the answer
  for good. Only names that end in a revision number are cached; a bare family name means
  "its latest revision" and is always asked of ECS.
- Two fields of the answer do change, and are not kept: `status` (ACTIVE, then INACTIVE or
  DELETE_IN_PROGRESS) and `deregisteredAt`. No workflow reads them.
- Tags do change (TagResource, UntagResource), and the automation relies on them: a new
  revision carries the running one's tags, and the `autopilot:action` tag is how a retry
  finds the revision an earlier attempt registered. So tags are stored with the time ECS
  showed them (`read_at`), a reader that copies them asks ECS again once they are older than
  `adapters.ecs.TAGS_FRESH_FOR`, and the retry's search for `autopilot:action` always asks
  ECS (`EcsGateway.find_revision`).
- Nothing here comes from a message: items are written only by the automation's own
  functions, only from ECS's answers (DescribeTaskDefinition, RegisterTaskDefinition). The
  planners' grant on the table is limited to `REVISION#` keys (template.yaml), so a planner
  can neither read nor write the ledger itself.
- The cache is an optimisation, never a dependency: a read that fails is a miss (ECS is
  asked), a write that fails is logged and counted (`RevisionCacheWriteFailed`), and the
  action goes on.

Item: PK `REVISION#<task definition ARN>`, SK `CONTENT`; `body` is the answer as JSON,
zlib-compressed (a large definition is 10-60 KB of JSON, a few KB compressed; items are
capped at 400 KB, and a body over `MAX_BODY_BYTES` is not stored); `read_at` is when ECS
showed those tags; `expires_at` (the table's TTL) lets revisions nobody runs any more go.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IAM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem")
KEY_PREFIX = "REVISION#"
MUTABLE_FIELDS = frozenset({"status", "deregisteredAt"})
MAX_BODY_BYTES = 350_000  # DynamoDB's item limit is 400 KB, keys and attribute names included
KEEP_FOR = timedelta(days=60)  # a revision still running is read again (once) after this
_SK = "CONTENT"
_DATETIME = "$datetime"


@dataclass(frozen=True)
class Revision:
    """A revision's content (without its mutable fields) and its tags as of `read_at`."""

    definition: dict[str, Any]
    tags: list[dict[str, str]]
    read_at: datetime


def immutable_name(name: str) -> bool:
    """An ARN or `family:revision`: a name that always means the same revision."""
    return name.rsplit(":", 1)[-1].isdigit() and ":" in name


class RevisionCache:
    def __init__(self, table: str, client: DynamoDBClient | None = None) -> None:
        self._table = table
        self._client = client

    @property
    def _dynamodb(self) -> DynamoDBClient:
        if self._client is None:
            self._client = clients.dynamodb()
        return self._client

    def get(self, arn: str) -> Revision | None:
        """The stored revision; None when it was never stored. Errors are the caller's."""
        response = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": KEY_PREFIX + arn}, "sk": {"S": _SK}},
            # The planner wrote it moments ago: read it back, not an older copy of it.
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return None
        body = json.loads(zlib.decompress(item["body"]["B"]), object_hook=_decode)
        return Revision(
            definition=body["taskDefinition"],
            tags=body["tags"],
            read_at=datetime.fromisoformat(item["read_at"]["S"]),
        )

    def put(self, arn: str, revision: Revision) -> bool:
        """Store it, unless what is stored was read later; False when not stored (too big,
        or a newer read is there). Errors are the caller's."""
        content = {k: v for k, v in revision.definition.items() if k not in MUTABLE_FIELDS}
        text = json.dumps({"taskDefinition": content, "tags": revision.tags}, default=_encode)
        body = zlib.compress(text.encode(), 6)
        if len(body) > MAX_BODY_BYTES:
            return False
        # Fixed width (microseconds always present), so that stamps compare in time order.
        read_at = revision.read_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        try:
            self._dynamodb.put_item(
                TableName=self._table,
                Item={
                    "pk": {"S": KEY_PREFIX + arn},
                    "sk": {"S": _SK},
                    "body": {"B": body},
                    "read_at": {"S": read_at},
                    "expires_at": {"N": str(int((revision.read_at + KEEP_FOR).timestamp()))},
                },
                # Of two readers, the one that saw the tags last wins.
                ConditionExpression="attribute_not_exists(pk) OR read_at < :read_at",
                ExpressionAttributeValues={":read_at": {"S": read_at}},
            )
        except ClientError as exc:
            if is_code(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True


def _encode(value: object) -> dict[str, str]:
    if isinstance(value, datetime):
        return {_DATETIME: value.isoformat()}
    raise TypeError(f"cannot encode {type(value).__name__}")


def _decode(value: dict[str, Any]) -> Any:
    if len(value) == 1 and _DATETIME in value:
        return datetime.fromisoformat(value[_DATETIME])
    return value

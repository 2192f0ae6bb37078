"""The ledger table (DynamoDB): every action, keyed by service, in time order.

Keys: PK `SERVICE#<service arn>`, SK `ACTION#<trigger time>#<action id>`. The sort key is
derived from the trigger, not from the clock, so a retried or replayed action finds its
own entry instead of writing a second one.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.ledger import LedgerEntry, Outcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IAM_ACTIONS = ("dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query")

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_DATES = ("trigger_time", "recorded_at")


def _pk(service_arn: str) -> str:
    return f"SERVICE#{service_arn}"


def _sk(entry: LedgerEntry) -> str:
    return f"ACTION#{entry.trigger_time.astimezone(UTC).isoformat()}#{entry.action_id}"


class Ledger:
    def __init__(
        self, table: str, retention_days: int, client: DynamoDBClient | None = None
    ) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)
        self._dynamodb = client or clients.dynamodb()

    def find(self, service_arn: str, trigger_time: datetime, action_id: str) -> LedgerEntry | None:
        probe = f"ACTION#{trigger_time.astimezone(UTC).isoformat()}#{action_id}"
        response = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": _pk(service_arn)}, "sk": {"S": probe}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        return _entry(item) if item else None

    def write(self, entry: LedgerEntry, *, first: bool = False) -> bool:
        """Store the entry. With `first`, only if none exists yet; returns False if one did."""
        item = {k: v for k, v in asdict(entry).items() if v not in ("", (), None)}
        for name in _DATES:
            item[name] = getattr(entry, name).astimezone(UTC).isoformat()
        item["outcome"] = entry.outcome.value
        item["containers"] = list(entry.containers)
        item.update(
            pk=_pk(entry.service_arn),
            sk=_sk(entry),
            expires_at=int((entry.recorded_at + self._retention).timestamp()),
        )
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Item": {k: _SERIALIZER.serialize(v) for k, v in item.items()},
        }
        if first:
            arguments["ConditionExpression"] = "attribute_not_exists(pk)"
        try:
            self._dynamodb.put_item(**arguments)
        except ClientError as exc:
            if first and is_code(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def history(self, service_arn: str, limit: int = 50) -> list[LedgerEntry]:
        """The newest entries first."""
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk AND begins_with(sk, :prefix)",
            ExpressionAttributeValues={
                ":pk": {"S": _pk(service_arn)},
                ":prefix": {"S": "ACTION#"},
            },
            ScanIndexForward=False,
            Limit=limit,
        )
        return [_entry(item) for item in response.get("Items", [])]


def _entry(item: dict[str, Any]) -> LedgerEntry:
    raw = {k: _DESERIALIZER.deserialize(v) for k, v in item.items()}
    fields = {k: v for k, v in raw.items() if k in LedgerEntry.__dataclass_fields__}
    for name in _DATES:
        fields[name] = datetime.fromisoformat(fields[name])
    fields["outcome"] = Outcome(fields["outcome"])
    fields["containers"] = tuple(fields.get("containers", ()))
    return LedgerEntry(**fields)

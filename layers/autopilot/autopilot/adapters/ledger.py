"""The ledger table (DynamoDB): every action, keyed by service, in time order.

Items:
- actions: PK `SERVICE#<service arn>`, SK `ACTION#<trigger time>#<action id>`. The sort key is
  derived from the trigger, not from the clock, so a retried or replayed action finds its
  own entry instead of writing a second one.
- service state: PK `SERVICE#<service arn>`, SK `STATE`, written with a version check.
- once-per-window claims: PK `SERVICE#<service arn>`, SK `WINDOW#<kind>` (`first_within`).
- quarantine: PK `QUARANTINE`, SK `DIGEST#<digest>`: one partition, so listing it is a query.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.adapters.state_codec import dump_state, load_state
from autopilot.domain.errors import ConflictError
from autopilot.domain.ledger import LedgerEntry, Outcome, Quarantine
from autopilot.domain.state import ServiceState
from autopilot.records import asdict, replace

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

IAM_ACTIONS = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
READ_HISTORY = ("dynamodb:Query",)

_SERIALIZER = TypeSerializer()
_DESERIALIZER = TypeDeserializer()
_DATES = ("trigger_time", "recorded_at")
_TUPLES = ("containers", "quarantine")


def _pk(service_arn: str) -> str:
    return f"SERVICE#{service_arn}"


def _sk(entry: LedgerEntry) -> str:
    return _action_key(entry.trigger_time, entry.action_id)


def _stamp(moment: datetime) -> str:
    # Fixed width (microseconds always present) so that stamps sort, and compare, in time order.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _action_key(trigger_time: datetime, action_id: str) -> str:
    return f"ACTION#{_stamp(trigger_time)}#{action_id}"


class Ledger:
    def __init__(
        self, table: str, retention_days: int, client: DynamoDBClient | None = None
    ) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)
        self._dynamodb = client or clients.dynamodb()

    def find(self, service_arn: str, trigger_time: datetime, action_id: str) -> LedgerEntry | None:
        probe = _action_key(trigger_time, action_id)
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
        for name in _TUPLES:
            if name in item:
                item[name] = list(item[name])
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

    def note_failure(self, service_arn: str, action_id: str) -> int:
        """Count one more failed attempt of the action; returns how many there were.

        Counted here, not from SQS's receive count: a message held back behind a failing one
        of the same service is received again without having been attempted."""
        response = self._dynamodb.update_item(
            TableName=self._table,
            Key={"pk": {"S": _pk(service_arn)}, "sk": {"S": f"FAILURES#{action_id}"}},
            UpdateExpression="ADD failures :one SET expires_at = :expires",
            ExpressionAttributeValues={
                ":one": {"N": "1"},
                ":expires": {"N": str(int((datetime.now(UTC) + timedelta(days=14)).timestamp()))},
            },
            ReturnValues="UPDATED_NEW",
        )
        return int(response["Attributes"]["failures"]["N"])

    def forget_failures(self, service_arn: str, action_id: str) -> None:
        """Start the count again: an action given up and later redriven gets its attempts."""
        self._dynamodb.delete_item(
            TableName=self._table,
            Key={"pk": {"S": _pk(service_arn)}, "sk": {"S": f"FAILURES#{action_id}"}},
        )

    def first_within(
        self, service_arn: str, kind: str, window: timedelta, now: datetime, claimant: str
    ) -> bool:
        """Claim `kind` on the service for `window` from `now`: True if nothing claimed it
        within the window before (or `claimant`, this very action, did: its retry wins again);
        False if another did. One conditional write, so of two concurrent claims one wins."""
        try:
            self._dynamodb.update_item(
                TableName=self._table,
                Key={"pk": {"S": _pk(service_arn)}, "sk": {"S": f"WINDOW#{kind}"}},
                UpdateExpression="SET claimed_at = :now, claimed_by = :by, expires_at = :expires",
                ConditionExpression=(
                    "attribute_not_exists(claimed_at) OR claimed_at <= :since OR claimed_by = :by"
                ),
                ExpressionAttributeValues={
                    ":now": {"S": _stamp(now)},
                    ":since": {"S": _stamp(now - window)},
                    ":by": {"S": claimant},
                    ":expires": {"N": str(int((now + window + timedelta(days=1)).timestamp()))},
                },
            )
        except ClientError as exc:
            if is_code(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True

    def history(self, service_arn: str, limit: int = 50) -> list[LedgerEntry]:
        """The newest entries first, in the order the automation recorded them."""
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
        entries = [_entry(item) for item in response.get("Items", [])]
        return sorted(entries, key=lambda e: e.recorded_at, reverse=True)

    def recorded_between(
        self, service_arn: str, kind: str, start: datetime, end: datetime
    ) -> list[LedgerEntry]:
        """Entries of one kind the automation recorded in [start, end)."""
        return [
            e
            for e in self.history(service_arn, limit=200)
            if e.kind == kind and start <= e.recorded_at < end
        ]

    def state(self, service_arn: str) -> ServiceState:
        response = self._dynamodb.get_item(
            TableName=self._table,
            Key={"pk": {"S": _pk(service_arn)}, "sk": {"S": "STATE"}},
            ConsistentRead=True,
        )
        item = response.get("Item")
        if not item:
            return ServiceState(service_arn=service_arn)
        return load_state(item["state"]["S"], int(item["version"]["N"]))

    def save_state(self, state: ServiceState) -> ServiceState:
        """Write if nobody wrote since `state` was read; returns the state with its new version."""
        condition = "attribute_not_exists(pk)" if state.version == 0 else "version = :read"
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Item": {
                "pk": {"S": _pk(state.service_arn)},
                "sk": {"S": "STATE"},
                "state": {"S": dump_state(state)},
                "version": {"N": str(state.version + 1)},
            },
            "ConditionExpression": condition,
        }
        if state.version:
            arguments["ExpressionAttributeValues"] = {":read": {"N": str(state.version)}}
        try:
            self._dynamodb.put_item(**arguments)
        except ClientError as exc:
            if is_code(exc, "ConditionalCheckFailedException"):
                raise ConflictError(f"state of {state.service_arn} changed meanwhile") from exc
            raise
        return replace(state, version=state.version + 1)

    def quarantine(self, entry: Quarantine) -> None:
        item = {
            "pk": "QUARANTINE",
            "sk": f"DIGEST#{entry.digest}",
            "digest": entry.digest,
            "service_arn": entry.service_arn,
            "reason": entry.reason,
            "quarantined_at": entry.quarantined_at.astimezone(UTC).isoformat(),
        }
        self._dynamodb.put_item(
            TableName=self._table, Item={k: _SERIALIZER.serialize(v) for k, v in item.items()}
        )

    def quarantined(self, digests: set[str] | None = None) -> dict[str, Quarantine]:
        """Quarantined digests (all of them, or those among `digests`)."""
        response = self._dynamodb.query(
            TableName=self._table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "QUARANTINE"}},
            ConsistentRead=True,
        )
        found = {}
        for item in response.get("Items", []):
            raw = {k: _DESERIALIZER.deserialize(v) for k, v in item.items()}
            if digests is None or raw["digest"] in digests:
                found[raw["digest"]] = Quarantine(
                    digest=raw["digest"],
                    service_arn=raw["service_arn"],
                    reason=raw["reason"],
                    quarantined_at=datetime.fromisoformat(raw["quarantined_at"]),
                )
        return found

    def release(self, digest: str) -> bool:
        response = self._dynamodb.delete_item(
            TableName=self._table,
            Key={"pk": {"S": "QUARANTINE"}, "sk": {"S": f"DIGEST#{digest}"}},
            ReturnValues="ALL_OLD",
        )
        return bool(response.get("Attributes"))


def _entry(item: dict[str, Any]) -> LedgerEntry:
    raw = {k: _DESERIALIZER.deserialize(v) for k, v in item.items()}
    fields = {k: v for k, v in raw.items() if k in LedgerEntry.__struct_fields__}
    for name in _DATES:
        fields[name] = datetime.fromisoformat(fields[name])
    fields["outcome"] = Outcome(fields["outcome"])
    for name in _TUPLES:
        fields[name] = tuple(fields.get(name, ()))
    return LedgerEntry(**fields)

"""The ledger table's record of each week's report email: PK `REPORT#<week>`, SK `EMAIL`.

Every write is conditional, so two attempts never both believe they hold the week: `claim`
only if nobody holds it (or, for a resend, if nobody is in the middle of sending it), and every
later write only by the attempt whose claim it is.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from autopilot.adapters import clients
from autopilot.adapters.aws_errors import is_code
from autopilot.domain.errors import ConflictError
from autopilot.domain.report_delivery import ABANDONED_AFTER, Delivery, DeliveryState

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

IAM_ACTIONS = ("dynamodb:DeleteItem", "dynamodb:GetItem", "dynamodb:PutItem")
KEY_PREFIX = "REPORT#"  # template.yaml limits the report function's writes to these keys
_SK = "EMAIL"
_NAMES = {"#state": "state", "#claim": "claim"}


def _key(week: str) -> dict[str, AttributeValueTypeDef]:
    return {"pk": {"S": f"{KEY_PREFIX}{week}"}, "sk": {"S": _SK}}


def _stamp(moment: datetime) -> str:
    # Fixed width in UTC, so that stamps compare as strings in condition expressions.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class ReportDeliveries:
    def __init__(
        self, table: str, retention_days: int, client: DynamoDBClient | None = None
    ) -> None:
        self._table = table
        self._retention = timedelta(days=retention_days)
        self._dynamodb = client or clients.dynamodb()

    def find(self, week: str) -> Delivery | None:
        response = self._dynamodb.get_item(
            TableName=self._table, Key=_key(week), ConsistentRead=True
        )
        item = response.get("Item")
        return _delivery(item) if item else None

    def claim(self, delivery: Delivery, *, takeover: bool = False) -> bool:
        """Hold the week for this attempt; False if another holds it. With `takeover` (a resend
        a person asked for), any record but a fresh SENDING one is replaced."""
        condition = "attribute_not_exists(pk)"
        values: dict[str, AttributeValueTypeDef] = {}
        if takeover:
            condition += " OR #state <> :sending OR claimed_at < :abandoned"
            values = {
                ":sending": {"S": DeliveryState.SENDING.value},
                ":abandoned": {"S": _stamp(delivery.claimed_at - ABANDONED_AFTER)},
            }
        return self._put(delivery, condition, values)

    def settle(self, delivery: Delivery, *, only_from: DeliveryState | None = None) -> None:
        """Record what became of this attempt's send, if the claim is still its own (and, with
        `only_from`, the record is still in that state). Raises ConflictError otherwise."""
        condition = "#claim = :claim"
        values: dict[str, AttributeValueTypeDef] = {":claim": {"S": delivery.claim}}
        if only_from is not None:
            condition += " AND #state = :from"
            values[":from"] = {"S": only_from.value}
        if not self._put(delivery, condition, values):
            raise ConflictError(f"the report for {delivery.week} is no longer claimed by this run")

    def release(self, delivery: Delivery) -> None:
        """Give the week up after SES refused the email, so that a retry sends it."""
        try:
            self._dynamodb.delete_item(
                TableName=self._table,
                Key=_key(delivery.week),
                ConditionExpression="#claim = :claim AND #state = :sending",
                ExpressionAttributeNames=_NAMES,
                ExpressionAttributeValues={
                    ":claim": {"S": delivery.claim},
                    ":sending": {"S": DeliveryState.SENDING.value},
                },
            )
        except ClientError as exc:
            if not is_code(exc, "ConditionalCheckFailedException"):
                raise
            # Someone took the week over meanwhile (a resend): it is theirs now.

    def _put(
        self, delivery: Delivery, condition: str, values: dict[str, AttributeValueTypeDef]
    ) -> bool:
        item: dict[str, AttributeValueTypeDef] = {
            **_key(delivery.week),
            "week": {"S": delivery.week},
            "state": {"S": delivery.state.value},
            "claim": {"S": delivery.claim},
            "claimed_at": {"S": _stamp(delivery.claimed_at)},
            "expires_at": {"N": str(int((delivery.claimed_at + self._retention).timestamp()))},
        }
        for name in ("total", "html", "csv", "message_id", "reason"):
            value = getattr(delivery, name)
            if value:
                item[name] = {"S": value}
        if delivery.sent_at is not None:
            item["sent_at"] = {"S": _stamp(delivery.sent_at)}
        arguments: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
        }
        names = {n: v for n, v in _NAMES.items() if n in condition}
        if names:
            arguments["ExpressionAttributeNames"] = names
        if values:
            arguments["ExpressionAttributeValues"] = values
        try:
            self._dynamodb.put_item(**arguments)
        except ClientError as exc:
            if is_code(exc, "ConditionalCheckFailedException"):
                return False
            raise
        return True


def _delivery(item: dict[str, Any]) -> Delivery:
    text = {name: value["S"] for name, value in item.items() if "S" in value}
    return Delivery(
        week=text["week"],
        state=DeliveryState(text["state"]),
        claim=text["claim"],
        claimed_at=datetime.fromisoformat(text["claimed_at"]),
        total=text.get("total", ""),
        html=text.get("html", ""),
        csv=text.get("csv", ""),
        message_id=text.get("message_id", ""),
        sent_at=datetime.fromisoformat(text["sent_at"]) if "sent_at" in text else None,
        reason=text.get("reason", ""),
    )

"""Cost Explorer, the report's mail and bucket, and its delivery claims, in memory."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from datetime import date
from email.message import EmailMessage

from autopilot.domain.errors import ConflictError
from autopilot.domain.report import CostLine
from autopilot.domain.report_delivery import ABANDONED_AFTER, Delivery, DeliveryState


class FakeCostExplorer:
    """Daily cost lines as Cost Explorer groups them; one request per call, counted."""

    def __init__(
        self, by_service: Iterable[CostLine] = (), by_usage_type: Iterable[CostLine] = ()
    ) -> None:
        self.by_service = list(by_service)
        self.by_usage_type = list(by_usage_type)
        self.requests = 0

    def daily_cost_by_service(self, start: date, end: date) -> list[CostLine]:
        return self._between(self.by_service, start, end)

    def daily_cost_by_usage_type(self, start: date, end: date) -> list[CostLine]:
        return self._between(self.by_usage_type, start, end)

    def _between(self, lines: list[CostLine], start: date, end: date) -> list[CostLine]:
        self.requests += 1
        return [line for line in lines if start <= line.day < end]  # End is exclusive


class FakeMailer:
    """SES and the reports bucket: what was sent (each a copy) and what is stored."""

    def __init__(self, sender: str, recipients: list[str], bucket: str) -> None:
        self._sender = sender
        self._recipients = recipients
        self._bucket = bucket
        self.sent: list[EmailMessage] = []
        self.objects: dict[str, tuple[str, str]] = {}  # key -> (body, content type)
        self._ids = itertools.count(1)

    def send(self, message: EmailMessage) -> str:
        message["From"] = self._sender
        message["To"] = ", ".join(self._recipients)
        self.sent.append(copy.deepcopy(message))
        return f"0100018f{next(self._ids):08x}-fake-ses"

    def store(self, key: str, body: str, content_type: str) -> str:
        self.objects[key] = (body, content_type)  # PutObject replaces: storing twice is safe
        return f"s3://{self._bucket}/{key}"


class FakeReportDeliveries:
    """adapters/report_deliveries.py's record per week, with its conditional writes:
    - `claim` only if the week has no record or, with `takeover`, unless a SENDING claim younger
      than ABANDONED_AFTER holds it (False otherwise);
    - `settle` only by the claim that holds it (and from `only_from`), else ConflictError;
    - `release` deletes only this claim's SENDING record, and is silent otherwise.
    """

    def __init__(self) -> None:
        self.records: dict[str, Delivery] = {}
        self.writes: list[Delivery] = []  # every successful write, in order

    def find(self, week: str) -> Delivery | None:
        return self.records.get(week)

    def claim(self, delivery: Delivery, *, takeover: bool = False) -> bool:
        held = self.records.get(delivery.week)
        free = held is None or (
            takeover
            and (
                held.state is not DeliveryState.SENDING
                or held.claimed_at < delivery.claimed_at - ABANDONED_AFTER
            )
        )
        if free:
            self._write(delivery)
        return free

    def settle(self, delivery: Delivery, *, only_from: DeliveryState | None = None) -> None:
        held = self.records.get(delivery.week)
        if held is None or held.claim != delivery.claim:
            raise ConflictError(f"the report for {delivery.week} is no longer claimed by this run")
        if only_from is not None and held.state is not only_from:
            raise ConflictError(f"the report for {delivery.week} is {held.state}, not {only_from}")
        self._write(delivery)

    def release(self, delivery: Delivery) -> None:
        held = self.records.get(delivery.week)
        if held and held.claim == delivery.claim and held.state is DeliveryState.SENDING:
            del self.records[delivery.week]

    def _write(self, delivery: Delivery) -> None:
        self.records[delivery.week] = delivery
        self.writes.append(delivery)

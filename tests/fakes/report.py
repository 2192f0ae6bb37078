"""Cost Explorer and the report's mail and bucket, in memory."""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable
from datetime import date
from email.message import EmailMessage

from autopilot.domain.report import CostLine


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

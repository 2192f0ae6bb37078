"""Notifications and the actions queue, in memory: what was sent, in order."""

from __future__ import annotations

from autopilot.domain.notifications import Notification
from autopilot.models.actions import ActionRequest


class FakeNotifier:
    def __init__(self) -> None:
        self.sent: list[Notification] = []

    def send(self, notification: Notification) -> None:
        self.sent.append(notification)


class FakeActionQueue:
    """The FIFO queue: a message with an action id already sent is accepted and dropped
    (a test's lifetime is well inside SQS's five-minute deduplication window)."""

    def __init__(self) -> None:
        self.messages: list[ActionRequest] = []  # delivered, in order
        self.sends = 0

    def send(self, request: ActionRequest) -> None:
        self.sends += 1
        if all(m.action_id != request.action_id for m in self.messages):
            self.messages.append(request)

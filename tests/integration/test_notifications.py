"""Notifications: the SNS topic and the optional chat webhook whose URL is a secret."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any, ClassVar

import boto3
import pytest

from autopilot import wiring
from autopilot_tools.local import fleet, sample_events
from autopilot_tools.local.runner import LocalApp
from autopilot_tools.local.session import send


class _Inbox(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        _Inbox.received.append(json.loads(self.rfile.read(length)))
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def chat() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Given a chat webhook on loopback that records what it is sent."""
    _Inbox.received = []
    server = HTTPServer(("127.0.0.1", 0), _Inbox)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/hooks/T000/B000/s3cr3t-token", _Inbox.received
    server.shutdown()


@pytest.fixture
def loopback_webhooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Given a local run: the wiring lets the notifier post to a loopback literal over http
    (the local runner sets this; a deployed function never does)."""
    monkeypatch.setattr(wiring, "allow_loopback_webhook", True)


def webhook_secret(app: LocalApp, url: str) -> str:
    with app.aws_environment():
        return str(
            boto3.client("secretsmanager").create_secret(
                Name="autopilot/chat-webhook", SecretString=json.dumps({"url": url})
            )["ARN"]
        )


def push_web(app: LocalApp) -> list[dict[str, Any]]:
    with app.aws_environment():
        digest = fleet.push_image("web", "main", 2)
    return send(app, [sample_events.ecr_push("web", "main", digest)])


def test_deploys_are_posted_to_the_chat_webhook_from_its_secret(
    app: LocalApp,
    services: dict[str, str],
    chat: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    loopback_webhooks: None,
) -> None:
    # Given a local run configured with a webhook secret
    url, received = chat
    monkeypatch.setenv("AUTOPILOT_PARAMETER_ChatWebhookSecretArn", webhook_secret(app, url))

    # When web:main is pushed and deployed
    lines = push_web(app)

    # Then SNS and the chat both got a message an on-call engineer can read
    assert len([line for line in lines if line["type"] == "notification"]) == 2
    texts = sorted(message["text"] for message in received)
    assert len(texts) == 2
    assert texts[0].startswith("*[autopilot] deploying prod/web: web:main*")
    assert "web:1 -> web:2" in texts[0]


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_records() -> Iterator[list[logging.LogRecord]]:
    """Every record the application logs, with its structured keys."""
    collector = _Records()
    application = logging.getLogger("ecs-autopilot")
    application.addHandler(collector)
    yield collector.records
    application.removeHandler(collector)


def test_a_failing_webhook_never_logs_its_url_and_does_not_fail_the_deploy(
    app: LocalApp,
    services: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    log_records: list[logging.LogRecord],
    loopback_webhooks: None,
) -> None:
    # Given a local run whose webhook URL nothing listens on (its path is the secret part)
    url = "http://127.0.0.1:9/hooks/T000/B000/s3cr3t-token"
    monkeypatch.setenv("AUTOPILOT_PARAMETER_ChatWebhookSecretArn", webhook_secret(app, url))

    # When a deploy is notified
    lines = push_web(app)

    # Then the deploy went out, the failure is logged with its cause, and the URL appears nowhere
    assert {line["outcome"] for line in lines if line["type"] == "action"} == {"deployed"}
    failures = [r for r in log_records if r.getMessage() == "chat webhook post failed"]
    assert {r.__dict__["reason"] for r in failures} == {
        "connection failed (ConnectionRefusedError)"
    }
    everything = " ".join(f"{r.getMessage()} {r.__dict__} {r.exc_text}" for r in log_records)
    assert "s3cr3t-token" not in everything


def test_a_deployed_function_refuses_a_loopback_webhook_and_still_deploys(
    app: LocalApp,
    services: dict[str, str],
    chat: tuple[str, list[dict[str, Any]]],
    monkeypatch: pytest.MonkeyPatch,
    log_records: list[logging.LogRecord],
) -> None:
    # Given the wiring as in Lambda (nothing allows loopback) and a secret aimed at loopback,
    # where a chat server does listen
    monkeypatch.setattr(wiring, "allow_loopback_webhook", False)
    url, received = chat
    monkeypatch.setenv("AUTOPILOT_PARAMETER_ChatWebhookSecretArn", webhook_secret(app, url))

    # When a deploy is notified
    lines = push_web(app)

    # Then nothing reached the loopback server, SNS still did, and the log names the rule
    assert received == []
    assert {line["outcome"] for line in lines if line["type"] == "action"} == {"deployed"}
    assert len([line for line in lines if line["type"] == "notification"]) == 2
    failures = [r for r in log_records if r.getMessage() == "chat webhook post failed"]
    assert len(failures) == 2
    assert {r.__dict__["reason"] for r in failures} == {"chat webhook secret refused: not https"}
    everything = " ".join(f"{r.getMessage()} {r.__dict__} {r.exc_text}" for r in log_records)
    assert "s3cr3t-token" not in everything

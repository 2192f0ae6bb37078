"""Real boto3 clients that answer from HTTP responses given here, byte for byte, instead of the
network: botocore parses them exactly as it parses AWS's (status code, error `__type`, body).

A `before-send` handler returns the next response queued for the operation; a queued exception
is raised where the HTTP send would have raised it (a read timeout, a refused connection), and
an `effect` runs first when the call is meant to have reached AWS.
"""

from __future__ import annotations

import json
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
from botocore.awsrequest import AWSPreparedRequest, AWSResponse, HTTPHeaders
from botocore.config import Config

RECORDED = Path(__file__).with_name("recorded")
_JSON_1_1 = {"Content-Type": "application/x-amz-json-1.1", "x-amzn-RequestId": "recorded"}


class _Body:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


@dataclass(frozen=True)
class Wire:
    """One HTTP answer: a status and a body (JSON protocol unless headers say otherwise)."""

    status: int = 200
    body: bytes = b"{}"
    headers: dict[str, str] = field(default_factory=lambda: dict(_JSON_1_1))
    raises: Exception | None = None  # raised instead of answering
    effect: Callable[[AWSPreparedRequest], None] | None = None  # what AWS did with the request


def recorded(name: str, status: int = 200) -> Wire:
    """A response body kept in tests/unit/recorded/ (see the README there)."""
    return Wire(status, (RECORDED / name).read_bytes())


def json_answer(body: dict[str, Any], status: int = 200) -> Wire:
    return Wire(status, json.dumps(body).encode())


def error(code: str, message: str = "", status: int = 400) -> Wire:
    """An AWS JSON-protocol error, as services answer it (`__type` names the code)."""
    return json_answer({"__type": code, "message": message or code}, status)


def xml_answer(body: str, status: int = 200) -> Wire:
    """An answer in the AWS query protocol (SES, SNS): XML."""
    return Wire(status, body.encode(), {"Content-Type": "text/xml"})


@dataclass
class Replay:
    """Queued answers per operation name; `calls` keeps every request that was 'sent'."""

    answers: dict[str, deque[Wire]] = field(default_factory=lambda: defaultdict(deque))
    calls: list[tuple[str, bytes]] = field(default_factory=list)

    def queue(self, operation: str, *wires: Wire) -> Replay:
        self.answers[operation].extend(wires)
        return self

    def client(self, service: str) -> Any:
        """A client that never touches the network and never retries (retries are botocore's
        and are over by the time the adapters see an error)."""
        client = boto3.client(
            service,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            config=Config(retries={"mode": "standard", "total_max_attempts": 1}),
        )
        service_id = client.meta.service_model.service_id.hyphenize()
        client.meta.events.register(f"before-send.{service_id}", self._answer)
        return client

    def _answer(self, request: AWSPreparedRequest, **kwargs: Any) -> AWSResponse:
        operation = kwargs["event_name"].rsplit(".", 1)[-1]
        body = request.body if isinstance(request.body, bytes) else str(request.body).encode()
        self.calls.append((operation, body))
        if not self.answers[operation]:
            raise AssertionError(f"no answer queued for {operation}")
        wire = self.answers[operation].popleft()
        if wire.effect is not None:
            wire.effect(request)
        if wire.raises is not None:
            raise wire.raises
        headers = HTTPHeaders()
        for name, value in wire.headers.items():
            headers[name] = value
        return AWSResponse(request.url, wire.status, headers, _Body(wire.body))

    def called(self, operation: str) -> int:
        return sum(1 for name, _ in self.calls if name == operation)

"""Posting to a chat webhook over real sockets: the connection goes to the address that was
checked, TLS is verified against the host name, and a redirect is never followed.

An HTTPS server on loopback plays the chat service, with a certificate for a name no DNS knows
(`hooks.example.test`) from a throwaway certificate authority the client is told to trust."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import logging
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from moto import mock_aws

from autopilot.adapters.notifier import Notifier
from autopilot.adapters.webhook import WebhookPostError, WebhookTarget, post_to_addresses
from autopilot.domain.notifications import Notification
from autopilot.observability import logger

NAME = "hooks.example.test"
TOKEN = "canary-SECRET-9d41"
LOOPBACK = ipaddress.ip_address("127.0.0.1")


@dataclass
class Chat:
    """What the chat server saw, and how it answers."""

    port: int
    status: int = 200
    location: str = ""
    requests: list[dict[str, Any]] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)


def _handler(chat: Chat) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            chat.requests.append({"path": self.path, "host": self.headers["Host"], "body": body})
            self.send_response(chat.status)
            if chat.location:
                self.send_header("Location", chat.location)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:  # a followed redirect would arrive here
            chat.requests.append({"path": self.path, "host": self.headers["Host"], "body": b""})
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@dataclass(frozen=True)
class Authority:
    ca_pem: str
    cert_file: Path
    key_file: Path


def _authority(folder: Path) -> Authority:
    """A CA and a server certificate for NAME, with the extensions strict X.509 checks want."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "autopilot test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, NAME)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(NAME)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Authority(ca.public_bytes(serialization.Encoding.PEM).decode(), cert_file, key_file)


@pytest.fixture(scope="module")
def authority(tmp_path_factory: pytest.TempPathFactory) -> Authority:
    return _authority(tmp_path_factory.mktemp("tls"))


@contextmanager
def _serving(server: ThreadingHTTPServer) -> Iterator[None]:
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield
    server.shutdown()
    server.server_close()


@pytest.fixture
def https_chat(authority: Authority) -> Iterator[Chat]:
    """Given a chat service on https://127.0.0.1:PORT holding a certificate for NAME."""
    chat = Chat(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chat))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(authority.cert_file, authority.key_file)
    context.sni_callback = lambda _sock, name, _ctx: chat.server_names.append(name)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    chat.port = server.server_address[1]
    with _serving(server):
        yield chat


@pytest.fixture
def http_chat() -> Iterator[Chat]:
    """Given a plain-http chat service on loopback, as a local run uses."""
    chat = Chat(port=0)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(chat))
    chat.port = server.server_address[1]
    with _serving(server):
        yield chat


def client_tls(authority: Authority) -> ssl.SSLContext:
    from autopilot.adapters.webhook import tls_context  # noqa: PLC0415

    context = tls_context()
    context.load_verify_locations(cadata=authority.ca_pem)
    return context


def target(chat: Chat, host: str = NAME) -> WebhookTarget:
    # The only difference from a parsed URL is the port: production is always 443.
    return WebhookTarget("https", host, chat.port, f"/services/T000/B000/{TOKEN}?channel=ops")


BODY = json.dumps({"text": "*deploying prod/web*"}).encode()


def test_the_post_goes_to_the_checked_address_with_the_name_for_tls_and_host(
    https_chat: Chat, authority: Authority, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a target whose name no DNS knows, and the address checked for it; lookups watched
    looked_up: list[str] = []
    real_getaddrinfo = socket.getaddrinfo

    def watched(host: Any, *args: Any, **kwargs: Any) -> Any:
        looked_up.append(str(host))
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", watched)

    # When it is posted to
    post_to_addresses(target(https_chat), [LOOPBACK], BODY, tls=client_tls(authority), timeout=5)

    # Then the socket went to the checked address (the name was never looked up again), and
    # the name was used for SNI, the certificate check and the Host header
    assert NAME not in looked_up
    assert https_chat.server_names == [NAME]
    [request] = https_chat.requests
    assert request["host"] == f"{NAME}:{https_chat.port}"
    assert request["path"] == f"/services/T000/B000/{TOKEN}?channel=ops"
    assert json.loads(request["body"]) == {"text": "*deploying prod/web*"}


def test_the_next_checked_address_is_tried_when_one_refuses(
    https_chat: Chat, authority: Authority
) -> None:
    # Given two checked addresses, the first with nothing listening (the server is IPv4 only)
    addresses = [ipaddress.ip_address("::1"), LOOPBACK]

    # When the target is posted to
    post_to_addresses(target(https_chat), addresses, BODY, tls=client_tls(authority), timeout=5)

    # Then the second one took it
    assert len(https_chat.requests) == 1


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_a_redirect_is_refused_and_not_followed(
    https_chat: Chat, authority: Authority, status: int
) -> None:
    # Given a chat service that redirects to instance metadata
    https_chat.status = status
    https_chat.location = "http://169.254.169.254/latest/meta-data/iam/security-credentials/"

    # When it is posted to
    with pytest.raises(WebhookPostError) as caught:
        post_to_addresses(
            target(https_chat), [LOOPBACK], BODY, tls=client_tls(authority), timeout=5
        )

    # Then the post failed by status code only, and no second request was made
    assert caught.value.reason == f"redirect refused (HTTP {status})"
    assert len(https_chat.requests) == 1


def test_a_certificate_for_another_name_fails_the_post(
    https_chat: Chat, authority: Authority
) -> None:
    # Given a target name the server's certificate does not cover
    # When it is posted to
    with pytest.raises(WebhookPostError) as caught:
        post_to_addresses(
            target(https_chat, host="chat.example.test"),
            [LOOPBACK],
            BODY,
            tls=client_tls(authority),
            timeout=5,
        )

    # Then TLS verification stopped it before anything was sent
    assert caught.value.reason == "TLS failed (SSLCertVerificationError)"
    assert https_chat.requests == []


def test_a_certificate_from_an_unknown_authority_fails_the_post(https_chat: Chat) -> None:
    # Given the default trust store, which does not know the test CA
    from autopilot.adapters.webhook import tls_context  # noqa: PLC0415

    # When the target is posted to
    with pytest.raises(WebhookPostError) as caught:
        post_to_addresses(target(https_chat), [LOOPBACK], BODY, tls=tls_context(), timeout=5)

    # Then verification is on: nothing was sent
    assert caught.value.reason == "TLS failed (SSLCertVerificationError)"
    assert https_chat.requests == []


def test_an_error_status_fails_the_post_by_its_code(https_chat: Chat, authority: Authority) -> None:
    # Given a chat service that answers 404 (a revoked webhook)
    https_chat.status = 404

    # When it is posted to
    with pytest.raises(WebhookPostError) as caught:
        post_to_addresses(
            target(https_chat), [LOOPBACK], BODY, tls=client_tls(authority), timeout=5
        )

    # Then the reason is the status code
    assert caught.value.reason == "rejected with HTTP 404"


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_local_webhook_that_redirects_is_logged_by_status_only(http_chat: Chat) -> None:
    # Given a local run's notifier (loopback allowed) whose chat service redirects
    http_chat.status = 302
    http_chat.location = f"http://127.0.0.1:{http_chat.port}/elsewhere/{TOKEN}"
    collector = _Records()
    logging.getLogger(logger.name).addHandler(collector)
    with mock_aws():
        secrets, sns = boto3.client("secretsmanager"), boto3.client("sns")
        url = f"http://127.0.0.1:{http_chat.port}/hooks/T000/B000/{TOKEN}"
        secret = secrets.create_secret(Name="chat", SecretString=json.dumps({"url": url}))
        topic = sns.create_topic(Name="autopilot")["TopicArn"]
        notifier = Notifier(
            topic, secret["ARN"], sns=sns, secrets=secrets, allow_loopback_webhook=True
        )

        # When a deploy is notified
        try:
            notifier.send(Notification("[autopilot] deploying prod/web", "web:1 -> web:2", "info"))
        finally:
            logging.getLogger(logger.name).removeHandler(collector)

    # Then one post was made and the redirect not followed; the log says why, without the URL
    assert [r["path"] for r in http_chat.requests] == [f"/hooks/T000/B000/{TOKEN}"]
    [failure] = [r for r in collector.records if r.getMessage() == "chat webhook post failed"]
    assert failure.__dict__["reason"] == "redirect refused (HTTP 302)"
    assert failure.__dict__["error_type"] == "WebhookPostError"
    formatter = logger.registered_formatter
    shown = " ".join(f"{formatter.format(r)} {r.__dict__}" for r in collector.records)
    assert TOKEN not in shown

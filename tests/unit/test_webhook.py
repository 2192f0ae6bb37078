"""Chat webhook secrets: what the executor agrees to post to, and what it says when it refuses.

Whoever can write the secret chooses where the executor connects, so every URL form that could
reach loopback, the VPC, the Lambda Runtime API or instance metadata is refused, with a reason
that names the rule and never the URL or the secret."""

from __future__ import annotations

import json
import logging
import socket
import traceback
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, cast

import pytest
from botocore.exceptions import ClientError

from autopilot.adapters import notifier as notifier_module
from autopilot.adapters.notifier import Notifier
from autopilot.adapters.webhook import (
    InvalidWebhookSecretError,
    WebhookPostError,
    WebhookTarget,
    parse_url,
    resolve_public,
    url_from_secret,
)
from autopilot.domain.notifications import Notification
from autopilot.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sns import SNSClient

TOKEN = "canary-SECRET-5f0c2a"
HOOK = f"https://hooks.example.com/services/T000/B000/{TOKEN}"


def refused(url: str, *, allow_loopback: bool = False) -> InvalidWebhookSecretError:
    with pytest.raises(InvalidWebhookSecretError) as caught:
        parse_url(url, allow_loopback=allow_loopback)
    return caught.value


def assert_secret_free(exc: BaseException) -> None:
    """Neither the message nor the whole traceback (causes included) quotes the secret."""
    shown = "".join(traceback.format_exception(exc))
    assert TOKEN not in shown
    assert "hooks.example.com" not in str(exc)


# -- URL forms -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        # The three forms the old check let through.
        (f"http://127.0.0.1.attacker.example/{TOKEN}", "not https"),
        (f"http://127.0.0.1@hooks.example.com/{TOKEN}", "not https"),
        ("http://127.0.0.1:9001/2018-06-01/runtime/invocation/next", "not https"),
        # Other schemes, and none.
        (f"http://hooks.example.com/{TOKEN}", "not https"),
        (f"HTTP://hooks.example.com/{TOKEN}", "not https"),
        ("ftp://hooks.example.com/x", "not https"),
        ("file:///etc/passwd", "not https"),
        (f"hooks.example.com/{TOKEN}", "not https"),
        # User info, in every spelling.
        (f"https://127.0.0.1@hooks.example.com/{TOKEN}", "has user info"),
        (f"https://user@hooks.example.com/{TOKEN}", "has user info"),
        (f"https://user:pass@hooks.example.com/{TOKEN}", "has user info"),
        (f"https://:@hooks.example.com/{TOKEN}", "has user info"),
        (f"https://hooks.example.com@169.254.169.254/{TOKEN}", "has user info"),
        # Ports other than 443.
        (f"https://hooks.example.com:8443/{TOKEN}", "port is not 443"),
        (f"https://hooks.example.com:9001/{TOKEN}", "port is not 443"),
        (f"https://hooks.example.com:99999/{TOKEN}", "not a URL (bad brackets or port)"),
        (f"https://hooks.example.com:https/{TOKEN}", "not a URL (bad brackets or port)"),
        # IP literals: dotted, IPv6, and the spellings inet_aton accepts.
        (f"https://127.0.0.1/{TOKEN}", "host is an IP address, not a name"),
        (f"https://127.0.0.1:9001/{TOKEN}", "host is an IP address, not a name"),
        ("https://169.254.169.254/latest/meta-data/", "host is an IP address, not a name"),
        (f"https://8.8.8.8/{TOKEN}", "host is an IP address, not a name"),
        (f"https://[::1]/{TOKEN}", "host is an IP address, not a name"),
        (f"https://[fd00:ec2::254]/{TOKEN}", "host is an IP address, not a name"),
        (f"https://[::ffff:127.0.0.1]/{TOKEN}", "host is an IP address, not a name"),
        (f"https://[2606:4700::1111]/{TOKEN}", "host is an IP address, not a name"),
        (f"https://2130706433/{TOKEN}", "host is an IP address, not a name"),
        (f"https://0x7f000001/{TOKEN}", "host is an IP address, not a name"),
        (f"https://017700000001/{TOKEN}", "host is an IP address, not a name"),
        (f"https://0177.0.0.1/{TOKEN}", "host is an IP address, not a name"),
        (f"https://127.1/{TOKEN}", "host is an IP address, not a name"),
        (f"https://0x7f.1/{TOKEN}", "host is an IP address, not a name"),
        (f"https://1.2.3.0x4/{TOKEN}", "host is an IP address, not a name"),
        # Names that are not DNS names.
        (f"https://localhost/{TOKEN}", "host is not a DNS name"),
        (f"https://hooks.example.com./{TOKEN}", "host is not a DNS name"),
        (f"https://hooks_example.com/{TOKEN}", "host is not a DNS name"),
        (f"https://-hooks.example.com/{TOKEN}", "host is not a DNS name"),
        (f"https://hooks.example.0/{TOKEN}", "host is not a DNS name"),
        (f"https://[fe80::1%25eth0]/{TOKEN}", "host is an IP address, not a name"),
        (f"https:///{TOKEN}", "has no host"),
        # Characters that could split a request or confuse another parser.
        (f"https://hooks.example.com/{TOKEN}\r\nHost: evil", "URL has whitespace, control "),
        (f"https://hooks.example.com\\@127.0.0.1/{TOKEN}", "URL has whitespace, control "),
        (f"https://h\u043e\u043eks.example.com/{TOKEN}", "URL is not ASCII"),  # Cyrillic o
        (f"https://hooks.example.com/{TOKEN}/{'x' * 2048}", "URL longer than 2048 characters"),
    ],
)
def test_each_unsafe_url_form_is_refused_by_the_rule_it_breaks(url: str, rule: str) -> None:
    # Given a secret holding one of the URL forms an attacker would use
    # When it is checked
    error = refused(url)

    # Then the error names the rule, and neither it nor its traceback quotes the URL
    assert error.rule.startswith(rule)
    assert str(error) == f"chat webhook secret refused: {error.rule}"
    assert_secret_free(error)


@pytest.mark.parametrize(
    ("url", "path"),
    [
        (HOOK, f"/services/T000/B000/{TOKEN}"),
        (f"https://hooks.example.com:443/services/{TOKEN}", f"/services/{TOKEN}"),
        (f"HTTPS://Hooks.Example.COM/services/{TOKEN}", f"/services/{TOKEN}"),
        (f"https://hooks.example.com/hook?token={TOKEN}#ignored", f"/hook?token={TOKEN}"),
        ("https://chat.xn--80ak6aa92e.com", "/"),
        ("https://127.0.0.1.attacker.example/x", "/x"),  # a name: its addresses decide
    ],
)
def test_an_https_url_with_a_dns_name_on_443_is_accepted(url: str, path: str) -> None:
    # Given an https URL whose host is a DNS name
    # When it is checked
    target = parse_url(url)

    # Then it is posted to on 443, the path (with its query) on the request line
    assert target.scheme == "https"
    assert target.port == 443
    assert target.host == target.host.lower()
    assert target.path == path
    assert not target.loopback
    assert TOKEN not in repr(target)


def test_a_loopback_webhook_is_accepted_only_when_the_local_runner_asks() -> None:
    # Given the plain-http loopback URL a local run uses
    url = f"http://127.0.0.1:8080/hooks/{TOKEN}"

    # When it is checked as a deployed function does, and as the local runner does
    production = refused(url)
    local = parse_url(url, allow_loopback=True)

    # Then only the local runner may post there
    assert production.rule == "not https"
    assert local == WebhookTarget("http", "127.0.0.1", 8080, f"/hooks/{TOKEN}", loopback=True)
    assert parse_url("http://[::1]:8080/x", allow_loopback=True).host == "::1"


@pytest.mark.parametrize(
    ("url", "rule"),
    [
        ("http://127.0.0.1.attacker.example/x", "not https"),
        ("http://localhost:8080/x", "not https"),
        ("http://10.0.0.5:8080/x", "host is an IP address, not a name"),
        ("http://169.254.169.254/latest/meta-data/", "host is an IP address, not a name"),
        ("http://user@127.0.0.1:8080/x", "has user info"),
        ("http://2130706433:8080/x", "not https"),
    ],
)
def test_the_loopback_allowance_covers_loopback_literals_and_nothing_else(
    url: str, rule: str
) -> None:
    # Given a local run, which may post to a loopback literal
    # When a URL that is not exactly that is checked
    error = refused(url, allow_loopback=True)

    # Then it is refused as in production
    assert error.rule == rule


# -- resolved addresses ----------------------------------------------------------------------


def resolver(*addresses: str) -> Any:
    calls: list[tuple[str, int]] = []

    def resolve(host: str, port: int) -> Sequence[str]:
        calls.append((host, port))
        return addresses

    resolve.calls = calls  # type: ignore[attr-defined]
    return resolve


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.53.0.1", "loopback"),
        ("::1", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("fd12:3456::1", "private"),
        ("169.254.169.254", "link-local"),  # instance metadata (IMDS)
        ("169.254.170.2", "link-local"),  # ECS task metadata and credentials
        ("fd00:ec2::254", "private"),  # instance metadata over IPv6
        ("fe80::1", "link-local"),
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.10", "private"),  # documentation range
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "link-local"),
        ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "link-local"),  # NAT64 around 169.254.169.254
    ],
)
def test_a_name_resolving_to_a_non_public_address_is_refused(address: str, kind: str) -> None:
    # Given a well-formed URL whose name resolves to a non-public address
    target = parse_url(HOOK)
    resolve = resolver(address)

    # When its addresses are checked
    with pytest.raises(InvalidWebhookSecretError) as caught:
        resolve_public(target, resolve)

    # Then it is refused, the kind of address named; the name was looked up on 443
    assert caught.value.rule == f"host resolves to a {kind} address"
    assert resolve.calls == [("hooks.example.com", 443)]
    assert_secret_free(caught.value)


def test_one_non_public_answer_among_public_ones_is_enough_to_refuse() -> None:
    # Given a name resolving to a public address and to the metadata service (DNS rebinding)
    resolve = resolver("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "169.254.169.254")

    # When its addresses are checked
    # Then it is refused: the connection could have gone to any of them
    with pytest.raises(InvalidWebhookSecretError, match="link-local"):
        resolve_public(parse_url(HOOK), resolve)


def test_public_addresses_are_returned_once_each_in_order() -> None:
    # Given a name resolving to public addresses, one twice (one per socket type)
    resolve = resolver("93.184.215.14", "93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")

    # When its addresses are checked
    addresses = resolve_public(parse_url(HOOK), resolve)

    # Then those are the addresses the connection may use
    assert [str(a) for a in addresses] == [
        "93.184.215.14",
        "2606:2800:21f:cb07:6820:80da:af6b:8b2c",
    ]


def test_a_name_that_does_not_resolve_is_a_failed_post_not_a_bad_secret() -> None:
    # Given a name the DNS does not know
    def unknown(host: str, port: int) -> Sequence[str]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    # When its addresses are looked up
    with pytest.raises(WebhookPostError) as caught:
        resolve_public(parse_url(HOOK), unknown)

    # Then the post fails with a reason that names no host
    assert caught.value.reason == "host name does not resolve"
    assert not isinstance(caught.value, InvalidWebhookSecretError)


# -- secret shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        {"SecretString": HOOK},
        {"SecretString": f"  {HOOK}\n"},
        {"SecretString": json.dumps({"url": HOOK})},
        {"SecretString": json.dumps({"url": f" {HOOK} ", "channel": "#deploys"})},
    ],
)
def test_a_secret_holds_the_url_or_an_object_with_a_url(secret: dict[str, Any]) -> None:
    # Given a secret in one of the two documented shapes
    # When its URL is read
    # Then it is the URL, trimmed
    assert url_from_secret(secret) == HOOK


@pytest.mark.parametrize(
    ("secret", "rule"),
    [
        ({"SecretString": json.dumps({"webhook": HOOK})}, "JSON without a url key"),
        (
            {"SecretString": json.dumps([HOOK])},
            "JSON list, expected a URL or an object with a url key",
        ),
        ({"SecretString": "4815162342"}, "JSON number, expected a URL or an object with a url key"),
        ({"SecretString": "true"}, "JSON literal, expected a URL or an object with a url key"),
        (
            {"SecretString": json.dumps(HOOK)},
            "JSON string, expected a URL or an object with a url key",
        ),
        ({"SecretString": json.dumps({"url": 42})}, "JSON url is not a string (number)"),
        ({"SecretString": json.dumps({"url": None})}, "JSON url is not a string (literal)"),
        ({"SecretString": json.dumps({"url": [HOOK]})}, "JSON url is not a string (list)"),
        (
            {"SecretString": json.dumps({"url": {"href": HOOK}})},
            "JSON url is not a string (object)",
        ),
        ({"SecretString": '{"url": "' + HOOK}, "malformed JSON"),
        ({"SecretString": f"[{HOOK}"}, "malformed JSON"),
        ({"SecretString": ""}, "empty secret"),
        ({"SecretString": " \n\t"}, "empty secret"),
        ({"SecretBinary": HOOK.encode()}, "binary secret, expected a URL string"),
        ({"Name": "autopilot/chat-webhook"}, "secret has no value, expected a URL string"),
    ],
)
def test_each_malformed_secret_shape_gets_a_clear_error(secret: dict[str, Any], rule: str) -> None:
    # Given a secret of an unexpected shape
    # When its URL is read
    with pytest.raises(InvalidWebhookSecretError) as caught:
        url_from_secret(secret)

    # Then the error says what is wrong with it, and never quotes it (nor does its traceback)
    assert caught.value.rule == rule
    assert_secret_free(caught.value)


# -- the notifier: best effort, and silent about the secret -----------------------------------


class FakeSecrets:
    def __init__(self, response: dict[str, Any] | Exception) -> None:
        self.response = response
        self.reads = 0

    def get_secret_value(self, SecretId: str) -> dict[str, Any]:  # noqa: N803 - boto3's name
        self.reads += 1
        if isinstance(self.response, Exception):
            raise self.response
        return {"ARN": SecretId, "Name": "autopilot/chat-webhook", **self.response}


class FakeSns:
    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    def publish(self, **kwargs: Any) -> dict[str, str]:
        self.published.append(kwargs)
        return {"MessageId": "m-1"}


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture
def log_records() -> Iterator[list[logging.LogRecord]]:
    collector = _Records()
    application = logging.getLogger(logger.name)
    application.addHandler(collector)
    yield collector.records
    application.removeHandler(collector)


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    monkeypatch.setattr(notifier_module, "count", lambda name, value=1: names.append(name))
    return names


def everything_logged(records: list[logging.LogRecord]) -> str:
    """Each record as the JSON line Powertools writes, and every attribute it carries."""
    formatter = logger.registered_formatter
    return "\n".join(f"{formatter.format(r)} {r.__dict__} {r.exc_text}" for r in records)


NOTIFICATION = Notification("[autopilot] deploying prod/web", "web:1 -> web:2", "info")


def notifier_with(secret: dict[str, Any] | Exception, resolve: Any = None) -> Notifier:
    def no_lookup(host: str, port: int) -> Sequence[str]:
        raise AssertionError("a refused URL must not even be looked up")

    return Notifier(
        "arn:aws:sns:us-east-1:123456789012:autopilot",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:autopilot/chat-webhook-AbCdEf",
        sns=cast("SNSClient", FakeSns()),
        secrets=cast("SecretsManagerClient", FakeSecrets(secret)),
        resolve=resolve or no_lookup,
    )


@pytest.mark.parametrize(
    ("secret", "reason"),
    [
        (
            {"SecretString": f"http://127.0.0.1.attacker.example/{TOKEN}"},
            "chat webhook secret refused: not https",
        ),
        (
            {"SecretString": json.dumps({"url": f"https://u:{TOKEN}@hooks.example.com/x"})},
            "chat webhook secret refused: has user info",
        ),
        (
            {"SecretString": f"https://127.0.0.1:9001/{TOKEN}"},
            "chat webhook secret refused: host is an IP address, not a name",
        ),
        (
            {"SecretString": json.dumps({"hook": HOOK})},
            "chat webhook secret refused: JSON without a url key",
        ),
        ({"SecretString": json.dumps([HOOK])}, "chat webhook secret refused: JSON list, "),
        ({"SecretString": '{"url": "' + HOOK}, "chat webhook secret refused: malformed JSON"),
        ({"SecretBinary": HOOK.encode()}, "chat webhook secret refused: binary secret"),
        ({"SecretString": ""}, "chat webhook secret refused: empty secret"),
    ],
)
def test_a_refused_secret_is_logged_by_rule_and_counted_never_quoted(
    secret: dict[str, Any],
    reason: str,
    log_records: list[logging.LogRecord],
    counted: list[str],
) -> None:
    # Given the executor's notifier with a secret it must refuse
    notifier = notifier_with(secret)

    # When a deploy is notified
    notifier.send(NOTIFICATION)

    # Then SNS still got it; the webhook failure is logged with its rule and counted
    [failure] = [r for r in log_records if r.getMessage() == "chat webhook post failed"]
    assert failure.__dict__["reason"].startswith(reason)
    assert failure.__dict__["error_type"] == "InvalidWebhookSecretError"
    assert failure.exc_info is None
    assert counted == ["NotificationFailed"]
    # And the secret appears in no log line, structured key or traceback
    assert TOKEN not in everything_logged(log_records)
    assert "hooks.example.com" not in everything_logged(log_records)


def test_a_name_resolving_to_instance_metadata_is_never_connected_to(
    log_records: list[logging.LogRecord], counted: list[str]
) -> None:
    # Given a well-formed secret whose name resolves to instance metadata (unit tests refuse
    # any connection, so an attempt would fail this test)
    resolve = resolver("169.254.169.254")
    notifier = notifier_with({"SecretString": HOOK}, resolve)

    # When a deploy is notified
    notifier.send(NOTIFICATION)

    # Then the name was looked up once, and the post refused before any connection
    assert resolve.calls == [("hooks.example.com", 443)]
    [failure] = [r for r in log_records if r.getMessage() == "chat webhook post failed"]
    assert failure.__dict__["reason"] == (
        "chat webhook secret refused: host resolves to a link-local address"
    )
    assert counted == ["NotificationFailed"]
    assert TOKEN not in everything_logged(log_records)


def test_a_secret_that_cannot_be_read_is_logged_by_error_code(
    log_records: list[logging.LogRecord], counted: list[str]
) -> None:
    # Given a secret Secrets Manager refuses to hand out
    denied = ClientError(
        {"Error": {"Code": "AccessDeniedException", "Message": "not authorized"}},
        "GetSecretValue",
    )
    notifier = notifier_with(denied)

    # When a deploy is notified
    notifier.send(NOTIFICATION)

    # Then the failure says which
    [failure] = [r for r in log_records if r.getMessage() == "chat webhook post failed"]
    assert failure.__dict__["reason"] == "secret could not be read (AccessDeniedException)"
    assert counted == ["NotificationFailed"]


def test_a_refused_secret_is_read_again_so_fixing_it_needs_no_cold_start(
    log_records: list[logging.LogRecord],
) -> None:
    # Given a warm notifier whose secret was refused
    secrets = FakeSecrets({"SecretString": "http://hooks.example.com/x"})
    resolve = resolver("10.0.0.8")
    notifier = Notifier(
        "arn:aws:sns:us-east-1:123456789012:autopilot",
        "autopilot/chat-webhook",
        sns=cast("SNSClient", FakeSns()),
        secrets=cast("SecretsManagerClient", secrets),
        resolve=resolve,
    )
    notifier.send(NOTIFICATION)

    # When the secret is changed and another deploy is notified
    secrets.response = {"SecretString": HOOK}
    notifier.send(NOTIFICATION)

    # Then the new value was read and checked (its name resolves to a private address here)
    assert secrets.reads == 2
    assert resolve.calls == [("hooks.example.com", 443)]
    reasons = [r.__dict__["reason"] for r in log_records if "reason" in r.__dict__]
    assert reasons == [
        "chat webhook secret refused: not https",
        "chat webhook secret refused: host resolves to a private address",
    ]

"""Chat webhooks: the URL kept in a secret is checked before every post, and the post goes to
an address that was checked.

Whoever can write the secret chooses where the executor connects. Without these rules that is a
way into the VPC, the Lambda Runtime API (127.0.0.1:9001) or instance metadata
(169.254.169.254, fd00:ec2::254). What is accepted:

- the secret is a string: the URL itself, or a JSON object {"url": "..."};
- the URL is https on port 443 (default or explicit). Every hosted chat service (Slack, Teams,
  Google Chat, Discord, Mattermost Cloud) posts on 443; another port would let the secret aim
  the executor at any service of any public host;
- no user info (`user@`, `user:pass@`): it can hide the real host from a reader;
- the host is a DNS name, never an IP address in any spelling (dotted, decimal `2130706433`,
  hex, octal, short `127.1`, IPv6 `[::1]`): the last label must be alphabetic (or `xn--`), as
  every top-level domain is;
- every address the name resolves to is public: not loopback, private, link-local, multicast,
  reserved, unspecified, shared (carrier-grade NAT, 100.64.0.0/10) or otherwise non-global,
  IPv4 addresses embedded in IPv6 (mapped, 6to4, Teredo, NAT64) included;
- the connection goes to those checked addresses (no second lookup that a rebinding DNS server
  could answer differently), and TLS is verified against the name (SNI and Host header too);
- a redirect is a failure, never followed.

Local runs post to a plain-http server on loopback: `allow_loopback=True` accepts an http or
https URL whose host is a loopback IP literal, on any port. Only the local runner and tests set
it; nothing in a deployed function does.

Errors and their messages say which rule or step failed; they never hold the URL or the secret.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import re
import socket
import ssl
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from autopilot.domain.errors import AutopilotError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# (host, port) -> the addresses it resolves to, as text (socket.getaddrinfo in production).
Resolve = Callable[[str, int], Sequence[str]]

HTTPS_PORT = 443
MAX_URL_LENGTH = 2048
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_TOP_LEVEL = re.compile(r"[a-z]{2,63}|xn--[a-z0-9-]{1,59}")
_SHARED = ipaddress.ip_network("100.64.0.0/10")  # carrier-grade NAT: not private, not public
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_USER_AGENT = "ecs-autopilot"


class WebhookError(AutopilotError):
    """A chat webhook post that did not happen or did not succeed.

    `reason` says which rule or step failed; it never holds the URL or the secret, so it can
    be logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class InvalidWebhookSecretError(WebhookError):
    """The secret does not hold a webhook URL this automation posts to: fix the secret."""

    def __init__(self, rule: str) -> None:
        super().__init__(f"chat webhook secret refused: {rule}")
        self.rule = rule


class WebhookPostError(WebhookError):
    """The URL is acceptable; the post failed (DNS, connection, TLS, HTTP status, redirect)."""


@dataclass(frozen=True, repr=False)
class WebhookTarget:
    """Where to post, checked. Its repr is redacted: the path is the secret part of the URL."""

    scheme: str
    host: str  # a DNS name; a loopback IP literal only when `loopback`
    port: int
    path: str  # path and query, as sent on the request line
    loopback: bool = False

    def __repr__(self) -> str:
        return "WebhookTarget(<redacted>)"


# -- the secret ----------------------------------------------------------------------------


def url_from_secret(secret: Mapping[str, Any]) -> str:
    """The URL in a GetSecretValue response: a plain string or a JSON object with "url"."""
    if "SecretString" not in secret:
        rule = "binary secret" if "SecretBinary" in secret else "secret has no value"
        raise InvalidWebhookSecretError(f"{rule}, expected a URL string")
    raw = secret["SecretString"]
    value = raw.strip() if isinstance(raw, str) else ""
    if not value:
        raise InvalidWebhookSecretError("empty secret")
    try:
        document = json.loads(value)
    except ValueError:
        if value[0] in "{[":
            # `from None`: the decode error keeps the whole secret in its `doc` attribute.
            raise InvalidWebhookSecretError("malformed JSON") from None
        return value  # not JSON: the URL itself
    if not isinstance(document, dict):
        kind = _json_kind(document)
        raise InvalidWebhookSecretError(f"JSON {kind}, expected a URL or an object with a url key")
    if "url" not in document:
        raise InvalidWebhookSecretError("JSON without a url key")
    url = document["url"]
    if not isinstance(url, str):
        raise InvalidWebhookSecretError(f"JSON url is not a string ({_json_kind(url)})")
    return url.strip()


def _json_kind(value: object) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, bool) or value is None:
        return "literal"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "object"


# -- the URL -------------------------------------------------------------------------------


def parse_url(url: str, *, allow_loopback: bool = False) -> WebhookTarget:
    """Check every rule that needs no DNS; raise InvalidWebhookSecretError naming the first
    one broken."""
    if len(url) > MAX_URL_LENGTH:
        raise InvalidWebhookSecretError(f"URL longer than {MAX_URL_LENGTH} characters")
    if not url.isascii():
        raise InvalidWebhookSecretError("URL is not ASCII (percent-encode it, xn-- host names)")
    if any(c.isspace() or not c.isprintable() or c == "\\" for c in url):
        raise InvalidWebhookSecretError("URL has whitespace, control characters or backslashes")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        # `from None`: urllib's message quotes the URL.
        raise InvalidWebhookSecretError("not a URL (bad brackets or port)") from None
    scheme = parts.scheme
    if scheme not in {"https", "http"} or (scheme == "http" and not allow_loopback):
        raise InvalidWebhookSecretError("not https")
    if "@" in parts.netloc:
        raise InvalidWebhookSecretError("has user info")
    host = parts.hostname or ""
    if not host:
        raise InvalidWebhookSecretError("has no host")
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    literal = _ip_literal(host)
    if literal is not None:
        if allow_loopback and literal.is_loopback:
            default = HTTPS_PORT if scheme == "https" else 80
            return WebhookTarget(scheme, str(literal), port or default, path, loopback=True)
        raise InvalidWebhookSecretError("host is an IP address, not a name")
    if scheme != "https":
        raise InvalidWebhookSecretError("not https")
    if port not in {None, HTTPS_PORT}:
        raise InvalidWebhookSecretError(f"port is not {HTTPS_PORT}")
    _check_host_name(host)
    return WebhookTarget(scheme, host, HTTPS_PORT, path)


def _ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


def _check_host_name(host: str) -> None:
    try:
        socket.inet_aton(host)  # pure parsing: accepts 2130706433, 0x7f.1, 0177.1, 127.1...
    except OSError:
        pass  # not an IPv4 address in any spelling: what we want
    else:
        raise InvalidWebhookSecretError("host is an IP address, not a name")
    labels = host.split(".")
    if (
        len(host) > 253
        or len(labels) < 2
        or not all(_LABEL.fullmatch(label) for label in labels)
        or not _TOP_LEVEL.fullmatch(labels[-1])
    ):
        raise InvalidWebhookSecretError("host is not a DNS name")


# -- the addresses -------------------------------------------------------------------------


def system_resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [str(info[4][0]) for info in infos]


def resolve_public(target: WebhookTarget, resolve: Resolve) -> tuple[IPAddress, ...]:
    """The target's addresses, each one checked; refused if ANY of them is not public (one bad
    answer is enough for a rebinding attacker, who only needs the connect to pick it)."""
    if target.loopback:
        return (ipaddress.ip_address(target.host),)
    try:
        answers = resolve(target.host, target.port)
    except OSError as exc:  # socket.gaierror and friends
        raise WebhookPostError("host name does not resolve") from exc
    addresses: list[IPAddress] = []
    for answer in answers:
        address = _ip_literal(answer)
        if address is None:
            raise InvalidWebhookSecretError("host resolves to something that is not an address")
        problem = non_public(address)
        if problem:
            raise InvalidWebhookSecretError(f"host resolves to a {problem} address")
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise WebhookPostError("host name does not resolve")
    return tuple(addresses)


def non_public(address: IPAddress) -> str | None:
    """What makes an address unfit to post to (None: a public address)."""
    # The embedded address first: ::ffff:127.0.0.1 is "loopback", not merely "reserved".
    for candidate in (*_embedded_ipv4(address), address):
        problem = _category(candidate)
        if problem:
            return problem
    return None


def _category(address: IPAddress) -> str | None:
    checks: tuple[tuple[bool, str], ...] = (
        (address.is_unspecified, "unspecified"),
        (address.is_loopback, "loopback"),
        (address.is_link_local, "link-local"),
        (address.is_multicast, "multicast"),
        (address in _SHARED, "carrier-grade NAT"),
        (address.is_reserved, "reserved"),
        (address.is_private, "private"),
        (not address.is_global, "non-public"),
    )
    return next((name for matched, name in checks if matched), None)


def _embedded_ipv4(address: IPAddress) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64)."""
    if not isinstance(address, ipaddress.IPv6Address):
        return []
    found = [a for a in (address.ipv4_mapped, address.sixtofour) if a is not None]
    if address.teredo is not None:
        found.extend(address.teredo)
    if address in _NAT64:
        found.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return found


# -- the post ------------------------------------------------------------------------------


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """HTTPS to a host name whose socket goes to addresses checked beforehand: the name is
    used for SNI, the certificate check and the Host header; no second DNS lookup happens."""

    def __init__(
        self,
        target: WebhookTarget,
        addresses: Sequence[IPAddress],
        timeout: float,
        tls: ssl.SSLContext,
    ) -> None:
        super().__init__(target.host, target.port, timeout=timeout, context=tls)
        self._addresses = addresses
        self._tls = tls
        self._budget = timeout

    def connect(self) -> None:
        sock = _connect_first(self._addresses, self.port, self._budget)
        sock.settimeout(self._budget)  # the handshake and each read get the full timeout
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _connect_first(addresses: Sequence[IPAddress], port: int, budget: float) -> socket.socket:
    """The first address that accepts, all of them within one time budget."""
    deadline = time.monotonic() + budget
    error: OSError = TimeoutError("no address left to try")
    for address in addresses:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        try:
            return socket.create_connection((str(address), port), timeout=remaining)
        except OSError as exc:
            error = exc
    raise error


def post_json(
    target: WebhookTarget,
    payload: Mapping[str, Any],
    *,
    resolve: Resolve,
    tls: ssl.SSLContext,
    timeout: float,
) -> None:
    """Resolve, check, connect to a checked address, post; WebhookError on any failure."""
    addresses = resolve_public(target, resolve)
    post_to_addresses(target, addresses, json.dumps(payload).encode(), tls=tls, timeout=timeout)


def post_to_addresses(
    target: WebhookTarget,
    addresses: Sequence[IPAddress],
    body: bytes,
    *,
    tls: ssl.SSLContext,
    timeout: float,
) -> None:
    """POST `body` to the target over a connection to one of `addresses` (already checked)."""
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, addresses, timeout, tls)
    else:  # a loopback literal in a local run
        connection = http.client.HTTPConnection(target.host, target.port, timeout=timeout)
    try:
        connection.request(
            "POST",
            target.path,
            body=body,
            headers={"Content-Type": "application/json", "User-Agent": _USER_AGENT},
        )
        status = connection.getresponse().status
    except ssl.SSLError as exc:
        raise WebhookPostError(f"TLS failed ({type(exc).__name__})") from exc
    except TimeoutError as exc:
        raise WebhookPostError("timed out") from exc
    except OSError as exc:
        raise WebhookPostError(f"connection failed ({type(exc).__name__})") from exc
    except http.client.HTTPException as exc:
        raise WebhookPostError(f"bad HTTP response ({type(exc).__name__})") from exc
    finally:
        connection.close()
    if 300 <= status < 400:
        # Never followed: the Location header could point anywhere, unchecked.
        raise WebhookPostError(f"redirect refused (HTTP {status})")
    if not 200 <= status < 300:
        raise WebhookPostError(f"rejected with HTTP {status}")


def tls_context() -> ssl.SSLContext:
    """Certificates and host names verified (the default context), TLS 1.2 at least."""
    context = ssl.create_default_context()
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context

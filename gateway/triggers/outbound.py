"""Calling subscribers' callbacks without becoming a way into the gateway's own network.

A callback URL names a host. When subscribing, the URL's form is checked and an address (or a
``localhost`` name) written in it must be public; no DNS is asked, so a subscription cannot be
made to wait on a slow resolver. Before each delivery the host is resolved (within the
attempt's deadline), refused unless every address it resolves to is a public unicast one (not
loopback, private, unique-local, link-local, multicast, unspecified, reserved or
documentation; IPv4-mapped addresses are read as IPv4), and the gateway connects to that
checked address itself, so a DNS answer that changes between the check and the connection
(DNS rebinding) cannot redirect it. Numeric spellings that resolvers
accept but that are not plain addresses (``0x7f000001``, ``2130706433``, ``127.1``, ``0177.0.0.1``)
and URLs with user info are refused outright. ``[Triggers] CallbackAllowedIPs`` lists the
internal addresses callbacks may deliberately reach.

An attempt is bounded as a whole: connecting, sending and reading the answer's head and
at most ``max_answer`` bytes of its body (then discarded) must all end within ``deadline``
seconds, after which the connection is cut. Nothing is taken from the environment: no proxy,
no ``.netrc`` (what ``requests`` calls ``trust_env``), no redirects.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from ..security.ipallow import Address, AddressList, parse_address

_PORTS = {"http": 80, "https": 443}
_CHUNK = 8192


class CallbackRefused(ValueError):
    """A callback URL the gateway will not call; the message says why (without the URL)."""


@dataclass(frozen=True)
class Callback:
    scheme: str
    host: str  # the name in the URL (sent as Host and, over TLS, checked on the certificate)
    port: int
    target: str  # path and query

    @classmethod
    def parse(cls, url: str) -> Callback:
        if any(ch.isspace() or not ch.isprintable() for ch in url):
            raise CallbackRefused("it must not contain spaces or control characters")
        try:
            parts = urlsplit(url)
        except ValueError:
            raise CallbackRefused("it is not a URL") from None
        if parts.scheme not in _PORTS or not parts.hostname:
            raise CallbackRefused("it must be an http(s) URL with a host")
        if parts.username is not None or parts.password is not None:
            raise CallbackRefused("it must not carry a user name or password")
        try:
            port = parts.port or _PORTS[parts.scheme]
        except ValueError:
            raise CallbackRefused("its port is not a number from 0 to 65535") from None
        try:  # an internationalized name as DNS and the Host header carry it
            host = parts.hostname.encode("idna").decode("ascii")
        except UnicodeError:
            raise CallbackRefused(f"'{parts.hostname}' is not a host name") from None
        _check_spelling(host)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return cls(parts.scheme, host, port, target)


def _check_spelling(host: str) -> None:
    """Refuse numeric hosts that are not an address written plainly."""
    with contextlib.suppress(ValueError):
        ipaddress.ip_address(host)
        return
    last = host.rstrip(".").rsplit(".", 1)[-1]
    if last.isdigit() or last.lower().startswith("0x") or _inet_aton(host):
        raise CallbackRefused(f"'{host}' is not a host name nor an address written plainly")


def _inet_aton(host: str) -> bool:
    try:
        socket.inet_aton(host)
    except OSError:
        return False
    return True


@dataclass(frozen=True)
class CallbackPolicy:
    allowed: AddressList  # internal addresses callbacks may reach all the same

    def check_form(self, url: str) -> Callback:
        """What can be checked without DNS: the URL's form and a host that is an address or
        a ``localhost`` name."""
        callback = Callback.parse(url)
        name = callback.host.rstrip(".").lower()
        if name == "localhost" or name.endswith(".localhost"):  # loopback by RFC 6761
            raise CallbackRefused(f"'{callback.host}' is this machine")
        address = parse_address(callback.host)
        if address is not None:
            self._check(address)
        return callback

    def check(self, url: str, timeout: float) -> tuple[Callback, Address]:
        """The callback and the address to connect to; ``CallbackRefused`` when any address
        its host resolves to (within ``timeout`` seconds) is not public (nor allowed)."""
        callback = self.check_form(url)
        addresses = _resolve(callback.host, callback.port, timeout)
        for address in addresses:
            self._check(address)
        return callback, addresses[0]

    def _check(self, address: Address) -> None:
        if address not in self.allowed and not _public(address):
            raise CallbackRefused(f"its host is {address}, an address the gateway does not "
                                  "call ([Triggers] CallbackAllowedIPs)")


def _resolve(host: str, port: int, timeout: float) -> list[Address]:
    """The host's addresses; the resolver, which has no timeout of its own, runs in a thread
    of its own so that a slow one cannot hold the delivery beyond ``timeout``."""
    result: list[list[tuple]] = []
    lookup = threading.Thread(target=lambda: result.append(_getaddrinfo(host, port)),
                              daemon=True)
    lookup.start()
    lookup.join(timeout)
    found = result[0] if result else []
    addresses = [parse_address(str(info[4][0])) for info in found]
    if not addresses or None in addresses:
        raise CallbackRefused(f"its host '{host}' cannot be resolved")
    return list(dict.fromkeys(a for a in addresses if a is not None))


def _getaddrinfo(host: str, port: int) -> list[tuple]:
    try:
        return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []


def _public(address: Address) -> bool:
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class Answer:
    status: int


def post(callback: Callback, address: Address, body: bytes, headers: dict[str, str], *,
         deadline: float, max_answer: int) -> Answer:
    """POST ``body`` to ``callback`` at ``address``; ``OSError`` (a timeout included) or
    ``http.client.HTTPException`` when it fails or the deadline passes."""
    connection = _connection(callback, address, deadline)
    timer = threading.Timer(deadline, _cut, (connection,))
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", callback.target, body=body, headers=headers)
        response = connection.getresponse()
        read = 0  # the answer is not used: read (a bounded part of) it, then hang up
        while read < max_answer:
            chunk = response.read(min(_CHUNK, max_answer - read))
            if not chunk:
                break
            read += len(chunk)
        if timer.finished.is_set():
            raise TimeoutError("the callback took longer than the delivery deadline")
        return Answer(response.status)
    except (OSError, http.client.HTTPException):
        if timer.finished.is_set():
            raise TimeoutError("the callback took longer than the delivery deadline") from None
        raise
    finally:
        timer.cancel()
        connection.close()


def _connection(callback: Callback, address: Address, deadline: float
                ) -> http.client.HTTPConnection:
    if callback.scheme == "https":
        return _PinnedHTTPS(callback.host, callback.port, str(address), deadline)
    return _PinnedHTTP(callback.host, callback.port, str(address), deadline)


def _cut(connection: http.client.HTTPConnection) -> None:
    """End the attempt: wakes a read blocked on the socket."""
    sock = connection.sock
    if sock is not None:
        with contextlib.suppress(OSError):  # already closed
            sock.shutdown(socket.SHUT_RDWR)


class _PinnedHTTP(http.client.HTTPConnection):
    """A connection to ``address`` for the host ``host`` (its Host header)."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Over TLS, the certificate is checked against ``host``, not the address."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout, context=ssl.create_default_context())
        self._address = address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # type: ignore[attr-defined]

"""``[Security] AllowedIPs`` and ``TrustedProxies``: which client addresses may call at all.

A rule is an address, a CIDR range (IPv4 or IPv6), ``*`` (everyone), or one of the forms CData
API Server users know: ``10.0.0.1-15`` (a range of the last octet; also ``10.0.0.1-10.0.0.15``)
and ``10.0.0.*``/``10.0.*.*`` (trailing wildcards). The default is loopback only.

``X-Forwarded-For`` is believed only when the connection comes from a trusted proxy, and then
only as far back as the chain stays trusted: the client is the right-most address not itself a
trusted proxy, so an address a client wrote into the header itself is never taken for its own.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from ..settings import Section

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
DEFAULT_ALLOWED = ("127.0.0.0/8", "::1")
EVERYONE = "*"


@dataclass(frozen=True)
class Span:
    """A closed range of addresses of one IP version."""

    first: Address
    last: Address

    def __contains__(self, address: Address) -> bool:
        # As numbers: mypy cannot tell the version check made the three addresses one type.
        return (address.version == self.first.version
                and int(self.first) <= int(address) <= int(self.last))


def parse_rule(text: str) -> Span:
    """One rule as a span; ``ValueError`` for anything else."""
    text = text.strip()
    if "*" in text:
        return _wildcard(text)
    if "-" in text:
        return _range(text)
    network = ipaddress.ip_network(text, strict=False)
    return Span(network.network_address, network.broadcast_address)


def _wildcard(text: str) -> Span:
    octets = text.split(".")
    fixed = [o for o in octets if o != "*"]
    if len(octets) != 4 or octets[len(fixed):] != ["*"] * (4 - len(fixed)):
        raise ValueError(f"{text!r}: only trailing octets may be '*' (e.g. 10.0.0.*)")
    base = ".".join(fixed + ["0"] * (4 - len(fixed)))
    network = ipaddress.IPv4Network(f"{base}/{8 * len(fixed)}")
    return Span(network.network_address, network.broadcast_address)


def _range(text: str) -> Span:
    """``10.0.0.1-15``, or in full ``10.0.0.1-10.0.0.15``."""
    start, _, end = (part.strip() for part in text.partition("-"))
    first = ipaddress.IPv4Address(start)
    last = ipaddress.IPv4Address(end if "." in end else f"{start.rsplit('.', 1)[0]}.{end}")
    if last < first:
        raise ValueError(f"{text!r}: the range ends before it starts")
    return Span(first, last)


def parse_address(text: str) -> Address | None:
    """An address as given by a socket or a proxy; IPv4-mapped IPv6 reads as IPv4."""
    try:
        address = ipaddress.ip_address(text.strip().split("%", 1)[0])
    except ValueError:
        return None
    mapped = getattr(address, "ipv4_mapped", None)
    return mapped or address


@dataclass(frozen=True)
class AddressList:
    spans: tuple[Span, ...]
    everyone: bool = False

    @classmethod
    def parse(cls, rules: Iterable[str]) -> AddressList:
        rules = [r.strip() for r in rules if r.strip()]
        return cls(tuple(parse_rule(r) for r in rules if r != EVERYONE), EVERYONE in rules)

    def __contains__(self, address: Address | None) -> bool:
        if address is None:
            return False
        return self.everyone or any(address in span for span in self.spans)


@dataclass(frozen=True)
class IpPolicy:
    allowed: AddressList
    proxies: AddressList

    @classmethod
    def from_settings(cls, security: Section) -> IpPolicy:
        return cls(_list(security, "AllowedIPs", DEFAULT_ALLOWED),
                   _list(security, "TrustedProxies", ()))

    def client(self, remote_addr: str, forwarded_for: str | None) -> Address | None:
        """The client's address (``None`` when a proxy handed on something unreadable)."""
        address = parse_address(remote_addr)
        if not forwarded_for:
            return address
        hops = [hop.strip() for hop in forwarded_for.split(",")]
        while address in self.proxies and hops:
            address = parse_address(hops.pop())
        return address

    def allows(self, address: Address | None) -> bool:
        return address in self.allowed


def _list(security: Section, key: str, default: tuple[str, ...]) -> AddressList:
    rules = security.get_list(key) or default
    try:
        return AddressList.parse(rules)
    except ValueError as exc:
        raise security.error(key, str(exc)) from None

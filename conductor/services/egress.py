"""The egress policy of HTTP tasks and status webhooks: where the server may connect.

Pure rules, no I/O. An entry is a hostname, an IP address or a CIDR, each optionally with a port
(`10.0.0.0/8`, `api.example.com:443`, `[fd00::1]:8080`). A destination is denied when a deny
entry matches it, or when an allow list is set and no allow entry matches it: deny always wins.
The server's own listening address is denied whatever the settings say, so a definition cannot
make the server call its own API (a redirect to /api/metadata/taskdefs returned its data).

A connection is checked twice: the URL before anything is sent (scheme, IP-literal host, denied
hostname), and every address a hostname resolves to, at connect time, with the hostname beside
it (services/egress_network.py), so a DNS answer that changes between the two checks gains
nothing. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are checked as the IPv4 address they reach.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

SCHEMES = frozenset({"http", "https"})
# Link-local (cloud metadata at 169.254.169.254, AWS's IPv6 one at fd00:ec2::254).
DEFAULT_DENY = ("169.254.0.0/16", "fe80::/10", "fd00:ec2::254")
_LOOPBACK = ("127.0.0.0/8", "::1/128")
# Connecting to the unspecified address reaches this machine (Linux sends it to loopback).
_UNSPECIFIED = ("0.0.0.0/32", "::/128")
_MAPPED = ipaddress.IPv6Network("::ffff:0:0/96")
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_PORTED = re.compile(r"^(?P<host>.+):(?P<port>[0-9]+)$")
_BRACKETED = re.compile(r"^\[(?P<host>[^\]]+)\](?::(?P<port>[0-9]+))?$")


def looks_like_ip(host: str) -> bool:
    """What aiohttp connects to without asking a resolver: anything with a colon, or only
    digits and dots. Such a host must be checked as an address before the request."""
    return ":" in host or host.replace(".", "").isdigit()


def normalise(address: IPAddress) -> IPAddress:
    """The address a connection really reaches: ::ffff:a.b.c.d is a.b.c.d, and a zone
    (fe80::1%eth0) says which interface, not which address."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address.scope_id is not None:
            return ipaddress.IPv6Address(int(address))
    return address


def parse_address(text: str) -> IPAddress | None:
    """An IP address as a URL or a resolver writes it (brackets and zone allowed), or None."""
    text = text.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        return normalise(ipaddress.ip_address(text))
    except ValueError:
        return None


def _network(text: str) -> IPNetwork:
    network = ipaddress.ip_network(text.split("%", 1)[0], strict=True)
    if isinstance(network, ipaddress.IPv6Network) and network.subnet_of(_MAPPED):
        return ipaddress.IPv4Network(
            (int(network.network_address) & 0xFFFFFFFF, network.prefixlen - 96)
        )
    return network


def _hostname(text: str) -> str:
    name = text.lower().rstrip(".")
    if looks_like_ip(name) or len(name) > 253 or not all(map(_LABEL.match, name.split("."))):
        raise ValueError("not a valid hostname")
    return name


@dataclass(frozen=True)
class Entry:
    """One allow or deny entry: a hostname or a network (an IP is a /32 or /128), maybe a port."""

    text: str
    host: str | None = None
    network: IPNetwork | None = None
    port: int | None = None

    @classmethod
    def parse(cls, text: str) -> Entry:
        """Read an entry; a ValueError names the entry and says what is wrong with it."""
        raw = text.strip()
        try:
            return cls._parse(raw)
        except ValueError as exc:
            raise ValueError(
                f"{raw!r}: {exc} (expected a hostname, an IP or a CIDR, optionally with :port;"
                " IPv6 with a port as [addr]:port)"
            ) from None

    @classmethod
    def _parse(cls, raw: str) -> Entry:
        if "://" in raw:
            raise ValueError("a URL; give its host only")
        bracketed = _BRACKETED.match(raw)
        if bracketed:  # [v6] or [v6]:port (a v6 CIDR too: [fd00::/8]:443)
            host, port = bracketed["host"], bracketed["port"]
        elif raw.count(":") == 1 and (ported := _PORTED.match(raw)):
            host, port = ported["host"], ported["port"]
        elif raw.count(":") == 1:
            raise ValueError("the port is not a number")
        else:  # no port, or a bare IPv6 address whose colons are not a port
            host, port = raw, None
        number = None
        if port is not None:
            number = int(port)
            if not 0 < number < 65536:
                raise ValueError("the port is out of range")
        if not host:
            raise ValueError("empty")
        if looks_like_ip(host) or "/" in host:
            return cls(raw, network=_network(host), port=number)
        return cls(raw, host=_hostname(host), port=number)

    def matches(self, host: str | None, address: IPAddress | None, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host is not None:
            return host is not None and host.lower().rstrip(".") == self.host
        return address is not None and self.network is not None and address in self.network


def parse_entries(texts: Iterable[str]) -> tuple[Entry, ...]:
    return tuple(Entry.parse(text) for text in texts if text.strip())


def own_entries(
    bind: Iterable[IPAddress], port: int, machine: Iterable[IPAddress]
) -> tuple[Entry, ...]:
    """The server's own listening address, to deny on its port. Bound to every address (0.0.0.0
    or ::), it listens on each loopback address, the unspecified one and each of the machine's
    own addresses; bound to one address, on that one (and the unspecified, which reaches it)."""
    binds = [normalise(address) for address in bind]
    nets = {_network(text) for text in _UNSPECIFIED}
    if any(address.is_unspecified for address in binds):
        nets.update(_network(text) for text in _LOOPBACK)
        binds.extend(normalise(address) for address in machine)
    nets.update(ipaddress.ip_network(address) for address in binds)
    return tuple(
        Entry("this server's own address", network=net, port=port)
        for net in sorted(nets, key=lambda net: (net.version, net))
    )


@dataclass(frozen=True)
class Denial:
    """Why a destination is refused; its text ends up in the task's reasonForIncompletion."""

    destination: str
    why: str

    def __str__(self) -> str:
        return f"{self.destination} {self.why}"


def _destination(host: str | None, address: IPAddress | None, port: int | None) -> str:
    shown = str(address) if address is not None else host or "?"
    if isinstance(address, ipaddress.IPv6Address) and port is not None:
        shown = f"[{shown}]"
    if port is not None:
        shown = f"{shown}:{port}"
    if host is not None and address is not None:
        shown = f"{host} ({shown})"
    return shown


@dataclass(frozen=True)
class EgressPolicy:
    """Deny entries (the defaults unless replaced), the server's own address, an allow list."""

    deny: tuple[Entry, ...] = field(default_factory=lambda: parse_entries(DEFAULT_DENY))
    allow: tuple[Entry, ...] = ()
    own: tuple[Entry, ...] = ()

    def check_url(self, scheme: str, host: str, port: int) -> Denial | None:
        """The check before a request: its scheme, an IP-literal host, a denied hostname. A
        hostname's addresses are checked when it is resolved (`check`)."""
        if scheme.lower() not in SCHEMES:
            return Denial(f"scheme {scheme!r}", "is not allowed (only http and https)")
        if looks_like_ip(host):
            address = parse_address(host)
            if address is None:
                return Denial(repr(host), "is not a valid IP address")
            return self.check(None, address, port)
        for entry in (*self.own, *self.deny):
            if entry.host is not None and entry.matches(host, None, port):
                return Denial(_destination(host, None, entry.port), f"is denied ({entry.text})")
        return None

    def check(self, host: str | None, address: IPAddress, port: int) -> Denial | None:
        """May the server connect to `address` on `port`, reached through `host` (None for an
        IP-literal URL)?"""
        address = normalise(address)
        for entry in (*self.own, *self.deny):
            if entry.matches(host, address, port):
                return Denial(_destination(host, address, entry.port), f"is denied ({entry.text})")
        if self.allow and not any(entry.matches(host, address, port) for entry in self.allow):
            return Denial(_destination(host, address, port), "is not in the allow list")
        return None

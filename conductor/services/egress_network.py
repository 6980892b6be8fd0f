"""What the egress policy (services/egress.py) needs from the network: a resolver that enforces
it on every address a hostname resolves to, and the addresses this server listens on.

The resolver is aiohttp's own (threaded or aiodns) with the denied addresses taken out of its
answer, so the connector can only ever connect to an address that was checked, whatever a DNS
server answers between the URL's check and the connection (DNS rebinding). IP-literal hosts never
reach a resolver in aiohttp: the HTTP client checks those itself before the request.
"""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path

from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from conductor.services.egress import Denial, EgressPolicy, IPAddress, parse_address


class EgressDenied(OSError):
    """A destination the policy refuses. An OSError, as a failed lookup is, so aiohttp reports
    it as a connection error and makes no connection."""

    def __init__(self, denial: Denial) -> None:
        super().__init__(str(denial))
        self.denial = denial


def denial_of(exc: BaseException) -> Denial | None:
    """The policy's refusal behind an aiohttp error, if that is what it is."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, EgressDenied):
            return seen.denial
        os_error = getattr(seen, "os_error", None)  # aiohttp's ClientConnectorError
        seen = os_error if isinstance(os_error, OSError) else seen.__cause__
    return None


class PolicyResolver(AbstractResolver):
    def __init__(self, policy: EgressPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self._inner = inner or DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        allowed: list[ResolveResult] = []
        first: Denial | None = None
        for result in await self._inner.resolve(host, port, family):
            address = parse_address(result["host"])
            denial = (
                Denial(f"{host} ({result['host']})", "is not an IP address")
                if address is None
                else self.policy.check(host, address, port)
            )
            if denial is None:
                allowed.append(result)
            else:
                first = first or denial
        if not allowed:
            raise EgressDenied(first or Denial(host, "has no address"))
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def bind_addresses(host: str) -> list[IPAddress]:
    """The addresses a server bound to `host` listens on (a hostname such as localhost is
    resolved; an empty host means every address, as aiohttp's run_app has it)."""
    if not host.strip():
        return [ipaddress.IPv4Address(0), ipaddress.IPv6Address(0)]
    address = parse_address(host)
    if address is not None:
        return [address]
    infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    return [a for info in infos if (a := parse_address(str(info[4][0]))) is not None]


def machine_addresses() -> set[IPAddress]:
    """This machine's own addresses, best effort: on Linux every interface's (from /proc), else
    those of its hostname and of its default routes."""
    found = _linux_addresses()
    if found:
        return found
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, type=socket.SOCK_STREAM)
        found.update(a for info in infos if (a := parse_address(str(info[4][0]))) is not None)
    except OSError:
        pass
    # A UDP "connection" sends nothing; it only picks the source address of the route.
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as sock:
                sock.connect((probe, 9))
                if (address := parse_address(str(sock.getsockname()[0]))) is not None:
                    found.add(address)
        except OSError:
            pass
    return found


def _linux_addresses() -> set[IPAddress]:
    found: set[IPAddress] = set()
    try:  # one line per IPv6 address: 32 hex digits first
        for line in Path("/proc/net/if_inet6").read_text().splitlines():
            found.add(ipaddress.IPv6Address(int(line.split()[0], 16)))
    except (OSError, ValueError, IndexError):
        pass
    try:  # the routing trie: an address leaf ("|-- a.b.c.d") then its kinds ("/32 host LOCAL")
        leaf = None
        for line in Path("/proc/net/fib_trie").read_text().splitlines():
            text = line.strip()
            if text.startswith("|-- "):
                leaf = text[4:]
            elif "host LOCAL" in text and leaf is not None:
                found.add(ipaddress.IPv4Address(leaf))
    except (OSError, ValueError):
        pass
    return found

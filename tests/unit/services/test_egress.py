"""The egress policy's rules: entries, the defaults, the server's own address, allow lists."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from conductor.services.egress import EgressPolicy, Entry, own_entries, parse_entries


def policy(deny: tuple[str, ...] | None = None, allow: tuple[str, ...] = (), **kw) -> EgressPolicy:
    if deny is None:
        return EgressPolicy(allow=parse_entries(allow), **kw)
    return EgressPolicy(deny=parse_entries(deny), allow=parse_entries(allow), **kw)


def denied(p: EgressPolicy, address: str, port: int = 80, host: str | None = None) -> str | None:
    denial = p.check(host, ip_address(address), port)
    return None if denial is None else str(denial)


@pytest.mark.parametrize(
    ("address", "port", "reason"),
    [
        ("169.254.169.254", 80, "169.254.169.254 is denied (169.254.0.0/16)"),
        ("169.254.0.1", 443, "169.254.0.1 is denied (169.254.0.0/16)"),
        ("fe80::1", 80, "fe80::1 is denied (fe80::/10)"),
        ("fd00:ec2::254", 80, "fd00:ec2::254 is denied (fd00:ec2::254)"),
        ("::ffff:169.254.169.254", 80, "169.254.169.254 is denied (169.254.0.0/16)"),
        ("fe80::1%eth0", 80, "fe80::1 is denied (fe80::/10)"),
        ("93.184.215.14", 443, None),
        ("127.0.0.1", 5000, None),
        ("fd00:ec2::253", 80, None),
    ],
)
def test_the_default_deny_list(address: str, port: int, reason: str | None) -> None:
    assert denied(policy(), address, port) == reason


def test_cidr_ip_and_port_entries() -> None:
    p = policy(deny=("10.0.0.0/8", "192.168.1.7", "172.16.0.0/12:5432", "[fd00::/8]:443"))
    assert denied(p, "10.200.3.4") == "10.200.3.4 is denied (10.0.0.0/8)"
    assert denied(p, "192.168.1.7", 9000) == "192.168.1.7 is denied (192.168.1.7)"
    assert denied(p, "192.168.1.8") is None
    assert denied(p, "172.20.0.1", 5432) == "172.20.0.1:5432 is denied (172.16.0.0/12:5432)"
    assert denied(p, "172.20.0.1", 5433) is None
    assert denied(p, "fd12::1", 443) == "[fd12::1]:443 is denied ([fd00::/8]:443)"
    assert denied(p, "fd12::1", 80) is None
    assert denied(p, "::ffff:10.1.1.1") == "10.1.1.1 is denied (10.0.0.0/8)"


def test_a_deny_list_replaces_the_defaults() -> None:
    p = policy(deny=("10.0.0.0/8",))
    assert denied(p, "169.254.169.254") is None


def test_hostname_entries_match_the_name_whatever_its_address() -> None:
    p = policy(deny=("Metadata.Google.Internal.", "db.internal:5432"))
    assert (
        denied(p, "10.9.9.9", host="metadata.google.internal")
        == "metadata.google.internal (10.9.9.9) is denied (Metadata.Google.Internal.)"
    )
    assert denied(p, "10.9.9.9", host="other.internal") is None
    assert denied(p, "10.9.9.9", 5432, host="DB.internal.") is not None
    assert denied(p, "10.9.9.9", 80, host="db.internal") is None
    assert denied(p, "10.9.9.9") is None  # an IP-literal URL has no name to match


def test_a_mapped_ipv4_entry_is_its_ipv4_address() -> None:
    p = policy(deny=("::ffff:10.0.0.0/104", "::ffff:192.168.0.1"))
    assert denied(p, "10.1.2.3") == "10.1.2.3 is denied (::ffff:10.0.0.0/104)"
    assert denied(p, "192.168.0.1") is not None


def test_the_allow_list_admits_only_what_it_names_and_deny_still_wins() -> None:
    p = policy(
        allow=("10.0.0.0/8", "api.example.com:443", "[2001:db8::/32]:8443", "169.254.0.0/16")
    )
    assert denied(p, "10.4.4.4", 8080) is None
    assert denied(p, "93.184.215.14", 443, host="api.example.com") is None
    assert (
        denied(p, "93.184.215.14", 80, host="api.example.com")
        == "api.example.com (93.184.215.14:80) is not in the allow list"
    )
    assert denied(p, "93.184.215.14", 443) == "93.184.215.14:443 is not in the allow list"
    assert denied(p, "2001:db8::5", 8443) is None
    assert denied(p, "2001:db8::5", 443) == "[2001:db8::5]:443 is not in the allow list"
    assert denied(p, "169.254.169.254") == "169.254.169.254 is denied (169.254.0.0/16)"


def test_own_address_bound_to_one_address() -> None:
    own = own_entries([ip_address("127.0.0.1")], 8080, [ip_address("192.0.2.2")])
    p = policy(deny=(), own=own)
    assert denied(p, "127.0.0.1", 8080) == "127.0.0.1:8080 is denied (this server's own address)"
    assert denied(p, "0.0.0.0", 8080) is not None  # connecting to 0.0.0.0 reaches loopback
    assert denied(p, "127.0.0.1", 8081) is None
    assert denied(p, "127.0.0.2", 8080) is None
    assert denied(p, "192.0.2.2", 8080) is None


@pytest.mark.parametrize("bind", ["0.0.0.0", "::"])
def test_own_address_bound_to_every_address(bind: str) -> None:
    machine = [ip_address("192.0.2.2"), ip_address("fd00::2")]
    p = policy(deny=(), own=own_entries([ip_address(bind)], 8080, machine))
    for address in ("127.0.0.1", "127.3.2.1", "::1", "0.0.0.0", "::", "192.0.2.2", "fd00::2"):
        assert denied(p, address, 8080) is not None, address
        assert denied(p, address, 8081) is None, address
    assert denied(p, "::ffff:127.0.0.1", 8080) is not None
    assert denied(p, "192.0.2.3", 8080) is None


def test_the_own_address_stays_denied_whatever_the_allow_list() -> None:
    own = own_entries([ip_address("0.0.0.0")], 8080, [])
    p = policy(deny=(), allow=("127.0.0.0/8",), own=own)
    assert denied(p, "127.0.0.1", 8080) is not None
    assert denied(p, "127.0.0.1", 9000) is None


def test_the_url_check_before_any_connection() -> None:
    p = policy(deny=("10.0.0.0/8", "blocked.example"))
    assert str(p.check_url("file", "", 0)) == "scheme 'file' is not allowed (only http and https)"
    assert str(p.check_url("gopher", "x", 70)).startswith("scheme 'gopher'")
    assert str(p.check_url("http", "10.1.1.1", 80)) == "10.1.1.1 is denied (10.0.0.0/8)"
    denial = policy().check_url("HTTPS", "::ffff:169.254.169.254", 443)
    assert str(denial) == "169.254.169.254 is denied (169.254.0.0/16)"
    assert p.check_url("http", "BLOCKED.example.", 80) is not None
    assert p.check_url("http", "fine.example", 80) is None  # its addresses: at resolve time
    # Numbers that socket would read as an address but are none: refused, not resolved.
    assert str(p.check_url("http", "2130706433", 80)) == "'2130706433' is not a valid IP address"
    assert p.check_url("http", "127.1", 80) is not None


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("10.0.0.1/8", "has host bits set"),
        ("10.0.0.0/33", "does not appear to be"),
        ("10.0.0", "does not appear to be"),
        ("bad..host", "not a valid hostname"),
        ("-bad.host", "not a valid hostname"),
        ("http://example.com", "a URL"),
        ("example.com:http", "the port is not a number"),
        ("example.com:0", "the port is out of range"),
        ("[::1]:70000", "the port is out of range"),
        ("[::1", "does not appear to be"),
        ("[]", "not a valid hostname"),
    ],
)
def test_malformed_entries_name_the_entry(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match="expected a hostname") as raised:
        Entry.parse(text)
    assert str(raised.value).startswith(repr(text) + ": ")
    assert problem in str(raised.value)


def test_entry_forms() -> None:
    assert Entry.parse(" api.example.com:443 ").host == "api.example.com"
    assert Entry.parse("::1").port is None  # bare IPv6: its colons are not a port
    assert Entry.parse("[::1]:8080").port == 8080
    assert Entry.parse("10.0.0.0/8:443").port == 443
    assert parse_entries(["a.example", " ", ""]) == (Entry("a.example", host="a.example"),)

"""The egress settings: read from the environment, built into a policy, refused when malformed."""

from __future__ import annotations

from ipaddress import ip_address

import pytest

from conductor import cli
from conductor.config import Settings, SettingsError
from conductor.services.egress_network import machine_addresses
from conductor.wiring import egress_policy


def test_the_environment_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONDUCTOR_HTTP_ALLOW", " 10.0.0.0/8, api.example.com:443 ,")
    monkeypatch.setenv("CONDUCTOR_HTTP_DENY", "10.0.0.9")
    monkeypatch.setenv("CONDUCTOR_HTTP_MAX_RESPONSE_BYTES", "2048")
    settings = Settings.from_env()
    assert settings.http_allow == ("10.0.0.0/8", "api.example.com:443")
    assert settings.http_deny == ("10.0.0.9",)
    assert settings.http_max_response_bytes == 2048


def test_unset_or_blank_keeps_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CONDUCTOR_HTTP_ALLOW", raising=False)
    monkeypatch.setenv("CONDUCTOR_HTTP_DENY", " , ")
    settings = Settings.from_env()
    assert settings.http_allow == () and settings.http_deny is None
    assert settings.http_max_response_bytes == 10485760
    policy = egress_policy(settings)
    assert str(policy.check(None, ip_address("169.254.169.254"), 80)) == (
        "169.254.169.254 is denied (169.254.0.0/16)"
    )


def test_a_deny_list_replaces_the_defaults_but_not_the_own_address() -> None:
    policy = egress_policy(Settings(host="127.0.0.1", port=8080, http_deny=("10.0.0.0/8",)))
    assert policy.check(None, ip_address("169.254.169.254"), 80) is None
    assert policy.check(None, ip_address("10.1.1.1"), 80) is not None
    assert str(policy.check(None, ip_address("127.0.0.1"), 8080)) == (
        "127.0.0.1:8080 is denied (this server's own address)"
    )
    assert policy.check(None, ip_address("127.0.0.2"), 8080) is None


def test_bound_to_every_address_the_port_is_denied_on_each_of_the_machines() -> None:
    policy = egress_policy(Settings(host="0.0.0.0", port=8080, http_deny=()))
    addresses = machine_addresses()
    assert addresses  # every machine has at least a loopback address
    for address in [*addresses, ip_address("127.0.0.1"), ip_address("::1")]:
        assert policy.check(None, address, 8080) is not None, address
        assert policy.check(None, address, 8081) is None, address


@pytest.mark.parametrize(
    ("setting", "value", "message"),
    [
        (
            "http_deny",
            ("10.0.0.1/8",),
            "CONDUCTOR_HTTP_DENY: '10.0.0.1/8': 10.0.0.1/8 has host bits",
        ),
        ("http_allow", ("ok.example", "bad host"), "CONDUCTOR_HTTP_ALLOW: 'bad host': not a valid"),
        ("http_max_response_bytes", 0, "CONDUCTOR_HTTP_MAX_RESPONSE_BYTES must be a positive"),
    ],
)
def test_malformed_settings_are_refused(setting: str, value: object, message: str) -> None:
    with pytest.raises(SettingsError) as raised:
        egress_policy(Settings(**{setting: value}))  # type: ignore[arg-type]
    assert str(raised.value).startswith(message)


def test_the_server_refuses_to_start_naming_the_entry(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("CONDUCTOR_HTTP_DENY", "169.254.0.0/16,metadata/x")
    assert cli.main(["server"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("conductor: CONDUCTOR_HTTP_DENY: 'metadata/x': ")

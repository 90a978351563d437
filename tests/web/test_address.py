"""The address a node advertises: the host it is bound to, or for a wildcard bind this machine's primary address,
found without sending traffic, with loopback as the last resort."""

from __future__ import annotations

import ipaddress
import socket

import pytest

from app.web.address import advertised_host, advertised_url, primary_address, url_of


def fake_primary(family):
    return {socket.AF_INET: "192.0.2.7", socket.AF_INET6: "2001:db8::7"}[family]


@pytest.mark.parametrize(
    ("host", "dual_stack", "expected"),
    [
        ("0.0.0.0", False, "192.0.2.7"),
        ("::", False, "2001:db8::7"),
        ("::", True, "192.0.2.7"),
        ("127.0.0.1", False, "127.0.0.1"),
        ("10.1.2.3", False, "10.1.2.3"),
        ("fe80::1", False, "fe80::1"),
        ("localhost", False, "localhost"),
        ("node7.example", False, "node7.example"),
    ],
)
def test_a_wildcard_bind_advertises_the_primary_address_and_any_other_itself(host, dual_stack, expected):
    assert advertised_host(host, dual_stack=dual_stack, primary=fake_primary) == expected


def test_the_primary_address_is_the_first_dialable_source_then_loopback():
    def nothing(family):
        return None

    def loopback(family):
        return "127.0.1.1"  # what Debian's /etc/hosts gives the hostname

    def wildcard(family):
        return "0.0.0.0"

    def lan(family):
        return "192.168.1.20"

    assert primary_address(sources=(nothing, loopback, lan)) == "192.168.1.20"
    assert primary_address(sources=(lan, nothing)) == "192.168.1.20"
    assert primary_address(sources=(nothing, loopback, wildcard)) == "127.0.0.1"
    assert primary_address(socket.AF_INET6, sources=(nothing,)) == "::1"


def test_the_primary_address_of_this_machine_is_an_address_of_it():
    address = primary_address()
    ip = ipaddress.ip_address(address)
    assert ip.version == 4 and not ip.is_unspecified
    with socket.socket() as s:  # it is this machine's: a socket binds to it
        s.bind((address, 0))


def test_a_socket_bound_to_every_interface_advertises_a_dialable_url():
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        port = s.getsockname()[1]
        url = advertised_url(s)
    assert url == f"http://{primary_address()}:{port}" and "0.0.0.0" not in url
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        assert advertised_url(s) == f"http://127.0.0.1:{s.getsockname()[1]}"


def test_url_of_brackets_ipv6():
    assert url_of("::1", 8) == "http://[::1]:8" and url_of("10.0.0.1", 8) == "http://10.0.0.1:8"

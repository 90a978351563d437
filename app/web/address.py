"""The address a node advertises (in the node table, for other nodes and clients to dial): the host it is bound
to, unless that is a wildcard (every interface: ``0.0.0.0``, ``::``), which no one can dial; then this machine's
primary address."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable

# connect() on a UDP socket only chooses the route and the source address: no packet is sent, so these need not
# exist. Private addresses, so the answer is the interface toward the local network (or the default route).
PROBES = {socket.AF_INET: "10.254.254.254", socket.AF_INET6: "fd00::1"}
LOOPBACK = {socket.AF_INET: "127.0.0.1", socket.AF_INET6: "::1"}


def _dialable(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not (ip.is_unspecified or ip.is_loopback or ip.is_link_local)


def _route_source(family: socket.AddressFamily) -> str | None:
    try:
        with socket.socket(family, socket.SOCK_DGRAM) as probe:
            probe.connect((PROBES[family], 9))
            return probe.getsockname()[0]
    except OSError:  # no route of that family (no network, or no IPv6)
        return None


def _hostname_address(family: socket.AddressFamily) -> str | None:
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, family, socket.SOCK_STREAM)
    except OSError:
        return None
    return next((str(info[4][0]) for info in infos if _dialable(str(info[4][0]))), None)


def primary_address(
    family: socket.AddressFamily = socket.AF_INET,
    *,
    sources: tuple[Callable[[socket.AddressFamily], str | None], ...] = (_route_source, _hostname_address),
) -> str:
    """This machine's primary address of ``family``: the source address of its route toward a private address,
    else what its hostname resolves to, else loopback (a node others cannot reach, but one that still works)."""
    for source in sources:
        address = source(family)
        if address and _dialable(address):
            return address
    return LOOPBACK[family]


def advertised_host(host: str, *, dual_stack: bool = False, primary=primary_address) -> str:
    """The host to advertise for a socket bound to ``host``: itself, or for a wildcard the primary address (an
    IPv4 one for ``::`` when the socket also takes IPv4, ``dual_stack``)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:  # a name (localhost, a hostname): others resolve it as we did
        return host
    if not ip.is_unspecified:
        return host
    if ip.version == 6 and not dual_stack:
        return primary(socket.AF_INET6)
    return primary(socket.AF_INET)


def advertised_url(sock: socket.socket) -> str:
    """``http://HOST:PORT`` of a listening socket, with the host others can dial."""
    host, port = sock.getsockname()[:2]
    dual_stack = sock.family == socket.AF_INET6 and not sock.getsockopt(
        socket.IPPROTO_IPV6, socket.IPV6_V6ONLY
    )
    return url_of(advertised_host(host, dual_stack=dual_stack), port)


def url_of(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

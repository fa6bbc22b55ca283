"""Address plan of the synthetic world and random host addresses inside it.

Every address comes from ranges reserved for private use, shared address space, benchmarking or
documentation (RFC 1918, 6598, 2544, 5737, 3849) and ASNs from the private-use ranges, so no
real network or company is ever implied. The ``networks`` table labels them like a real
IP-intelligence feed would (residential, mobile, datacenter, vpn, education, corporate).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import numpy as np

RESIDENTIAL_ISPS = ("Brightwave Broadband", "Calder Fibre", "Homeline Telecom", "Meadownet",
                    "Portside Cable", "Sunvale Internet")
MOBILE_CARRIERS = ("Cobalt Mobile", "Nimbus Wireless", "Orbit Cellular", "Pinecone Mobile")
HOSTING = ("Stratus Hosting", "Ferrous Cloud", "Quayside Compute", "Lattice Servers",
           "Northwind Datacenters", "Helio VPS", "Granite Colo", "Vantage Cloud Edge")
VPNS = ("TunnelHop VPN", "Veil Secure", "Passage VPN", "Shroud Networks")


@dataclass(frozen=True)
class Range:
    cidr: str
    asn: int
    as_name: str
    network_type: str


@dataclass
class AddressPlan:
    """The ranges used by the world; ``networks`` is written from ``ranges``."""

    ranges: list[Range] = field(default_factory=list)
    residential: list[Range] = field(default_factory=list)
    residential_v6: list[Range] = field(default_factory=list)
    mobile: list[Range] = field(default_factory=list)
    mobile_v6: list[Range] = field(default_factory=list)
    datacenter: list[Range] = field(default_factory=list)
    vpn: list[Range] = field(default_factory=list)
    _next_asn: int = 64600
    _next_small: int = 0

    def register(self, cidr: str, as_name: str, network_type: str, asn: int | None = None) -> Range:
        if asn is None:
            asn = self._next_asn
            self._next_asn += 1
        r = Range(cidr, asn, as_name, network_type)
        self.ranges.append(r)
        return r

    def small_block(self, as_name: str, network_type: str, asn: int | None = None) -> Range:
        """The next unused /24 of 192.168.0.0/16 (education, corporate and lab networks)."""
        third = self._next_small
        self._next_small += 1
        return self.register(f"192.168.{third}.0/24", as_name, network_type, asn)


def build_address_plan() -> AddressPlan:
    plan = AddressPlan()
    for i in range(16):  # 10.0.0.0/8 as sixteen /12s over six ISPs
        isp = RESIDENTIAL_ISPS[i % len(RESIDENTIAL_ISPS)]
        asn = 64512 + i % len(RESIDENTIAL_ISPS)
        plan.residential.append(plan.register(f"10.{i * 16}.0.0/12", isp, "residential", asn))
    for i, isp in enumerate(RESIDENTIAL_ISPS):
        plan.residential_v6.append(
            plan.register(f"2001:db8:{0x1000 + i * 0x100:x}::/40", isp, "residential", 64512 + i)
        )
    for i, carrier in enumerate(MOBILE_CARRIERS):  # 100.64.0.0/10 carrier-grade NAT
        plan.mobile.append(plan.register(f"100.{64 + i * 16}.0.0/12", carrier, "mobile", 64530 + i))
        plan.mobile_v6.append(
            plan.register(f"2001:db8:{0x2000 + i * 0x100:x}::/40", carrier, "mobile", 64530 + i)
        )
    for i, host in enumerate(HOSTING):  # 172.16.0.0/12 as eight /15s
        plan.datacenter.append(
            plan.register(f"172.{16 + 2 * i}.0.0/15", host, "datacenter", 64540 + i)
        )
    for i, vpn in enumerate(VPNS):  # 198.18.0.0/15 as four /17s
        plan.vpn.append(
            plan.register(f"198.{18 + i // 2}.{(i % 2) * 128}.0/17", vpn, "vpn", 64560 + i)
        )
    return plan


def random_hosts(rng: np.random.Generator, cidr: str, n: int) -> list[str]:
    """``n`` random host addresses inside ``cidr`` (network and broadcast excluded for IPv4)."""
    net = ipaddress.ip_network(cidr)
    size = net.num_addresses
    base = int(net.network_address)
    if net.version == 4:
        offs = rng.integers(1, size - 1, n, dtype=np.int64)
        a = base + offs
        return [f"{x >> 24}.{(x >> 16) & 255}.{(x >> 8) & 255}.{x & 255}" for x in a.tolist()]
    # IPv6: random /64 inside the prefix, random interface id (kept to 32 bits for brevity)
    prefix_bits = net.prefixlen
    subnets = rng.integers(0, 2 ** min(64 - prefix_bits, 24), n, dtype=np.int64)
    iid = rng.integers(1, 2**32, n, dtype=np.int64)
    return [
        str(ipaddress.IPv6Address(base + (int(s) << 64) + int(i))) for s, i in zip(subnets, iid)
    ]


def random_subnets(rng: np.random.Generator, cidr: str, n: int, prefixlen: int = 24) -> list[str]:
    """``n`` distinct random sub-prefixes of ``cidr`` (a tenant's slice of a hosting range)."""
    net = ipaddress.ip_network(cidr)
    count = 2 ** (prefixlen - net.prefixlen)
    picks = rng.choice(count, size=min(n, count), replace=False)
    size = 2 ** (net.max_prefixlen - prefixlen)
    return [
        str(ipaddress.ip_network((int(net.network_address) + int(k) * size, prefixlen)))
        for k in picks
    ]


def hosts_from(rng: np.random.Generator, ranges: list[Range], n: int) -> list[str]:
    """``n`` hosts spread over ``ranges`` (one range picked per host)."""
    pick = rng.integers(0, len(ranges), n)
    out: list[str] = [""] * n
    for k, r in enumerate(ranges):
        idx = np.flatnonzero(pick == k)
        for i, h in zip(idx.tolist(), random_hosts(rng, r.cidr, len(idx))):
            out[i] = h
    return out

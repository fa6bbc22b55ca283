"""The address plan of one world: blocks (CIDR, ASN, name, type) and every address handed out.

Blocks of /16 to /23 each get a /16 of their own; smaller blocks (/24 to /28) are carved out
of shared /16s one /24 apart, so unrelated organisations often sit in the same /16, as they do
on the real internet. IPv6 blocks are /48s under the documentation prefix 2001:db8::/32.
ASNs come from the private-use ranges, so none names a real network.

Addresses are kept in one text table (``ip_text``); everything else refers to them by index.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

import numpy as np
import pandas as pd

# first octets that are ordinary unicast space (no 0/8, 10/8, 100.64/10, 127/8, 169.254, 172.16/12, 192.168, 224+)
_FIRST_OCTETS = [o for o in range(11, 224) if o not in (100, 127, 169, 172, 192)]


@dataclass
class Block:
    cidr: str
    asn: int
    as_name: str
    network_type: str
    first: int  # first address as an integer
    size: int  # addresses in the block
    v6: bool


class AddressPlan:
    """Allocates blocks and addresses; renders the ``networks`` table."""

    def __init__(self, rng: np.random.Generator) -> None:
        self.rng = rng
        self.blocks: list[Block] = []
        self.ip_text: list[str] = []
        self._used16: set[int] = set()
        self._small16: int | None = None
        self._small_next = 0
        self._used48: set[int] = set()
        self._asns = [int(a) for a in rng.permutation(np.arange(64512, 65535))]
        self._asns32 = [int(a) for a in rng.integers(4_200_000_000, 4_294_967_294, 400)]

    def new_asn(self) -> int:
        """A fresh private-use ASN (16-bit mostly, sometimes 32-bit)."""
        if self.rng.random() < 0.2 and self._asns32:
            return self._asns32.pop()
        return self._asns.pop()

    def _fresh16(self) -> int:
        while True:
            first = _FIRST_OCTETS[int(self.rng.integers(len(_FIRST_OCTETS)))]
            second = int(self.rng.integers(0, 256))
            key = (first << 8) | second
            if key not in self._used16:
                self._used16.add(key)
                return key << 16

    def block(self, prefix: int, asn: int, as_name: str, network_type: str) -> Block:
        """A new IPv4 block of ``/prefix`` (16..28)."""
        prefix = int(min(max(prefix, 16), 28))
        size = 1 << (32 - prefix)
        if prefix < 24:
            base16 = self._fresh16()
            base = base16 + int(self.rng.integers(0, (1 << 16) // size)) * size
        else:
            if self._small16 is None or self._small_next >= 256:
                self._small16 = self._fresh16()
                self._small_next = int(self.rng.integers(0, 64))
            base = self._small16 + (self._small_next << 8)
            self._small_next += int(self.rng.integers(1, 4))
        cidr = f"{_v4(base)}/{prefix}"
        block = Block(cidr, asn, as_name, network_type, base, size, False)
        self.blocks.append(block)
        return block

    def block6(self, asn: int, as_name: str, network_type: str) -> Block:
        """A new IPv6 /48 under 2001:db8::/32."""
        while True:
            sub = int(self.rng.integers(1, 1 << 16))
            if sub not in self._used48:
                self._used48.add(sub)
                break
        base = (0x20010DB8 << 96) | (sub << 80)
        block = Block(f"2001:db8:{sub:x}::/48", asn, as_name, network_type, base, 1 << 80, True)
        self.blocks.append(block)
        return block

    def addresses(self, block: Block, count: int, distinct: bool = True) -> np.ndarray:
        """``count`` addresses of ``block`` (distinct when possible); their indexes in ``ip_text``."""
        count = int(count)
        if block.v6:
            subnet = self.rng.integers(0, 1 << 16, count).astype(object)
            host = self.rng.integers(1, 1 << 62, count).astype(object)
            values = [str(ipaddress.IPv6Address(block.first | (int(s) << 64) | int(h))) for s, h in zip(subnet, host)]
        else:
            usable = max(block.size - 2, 1)
            if distinct and count <= usable:
                offsets = self.rng.choice(usable, count, replace=False) + 1
            else:
                offsets = self.rng.integers(0, usable, count) + 1
            values = [_v4(block.first + int(o)) for o in offsets]
        start = len(self.ip_text)
        self.ip_text.extend(values)
        return np.arange(start, start + count, dtype=np.int64)

    def spread(self, blocks: list[Block], count: int, weights: np.ndarray | None = None) -> np.ndarray:
        """``count`` addresses spread over several blocks (by weight), in random order."""
        if count == 0:
            return np.zeros(0, dtype=np.int64)
        w = np.ones(len(blocks)) if weights is None else np.asarray(weights, dtype=float)
        which = self.rng.choice(len(blocks), count, p=w / w.sum())
        out = np.empty(count, dtype=np.int64)
        for i, block in enumerate(blocks):
            rows = np.flatnonzero(which == i)
            if rows.size:
                out[rows] = self.addresses(block, rows.size)
        return out

    def networks_frame(self) -> pd.DataFrame:
        return pd.DataFrame({
            "cidr": [b.cidr for b in self.blocks],
            "asn": np.array([b.asn for b in self.blocks], dtype=np.int64),
            "as_name": [b.as_name for b in self.blocks],
            "network_type": [b.network_type for b in self.blocks],
        })


def _v4(value: int) -> str:
    return f"{value >> 24 & 255}.{value >> 16 & 255}.{value >> 8 & 255}.{value & 255}"

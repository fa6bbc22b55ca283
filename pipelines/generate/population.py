"""Accounts of the world as column arrays, grouped by population segment, plus shared pools.

A ``Group`` holds one segment's accounts (table columns, truth, and the behaviour profile the
activity generator expands into requests). Addresses, user agents and API keys of an account are
(offset, count) blocks into shared pools, so the same address can serve unrelated accounts (a
proxy exit, a NAT) and activity can be drawn per request with array arithmetic only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .network import AddressPlan
from .prompts import PromptMaterial, StringPool
from .world import WINDOW_END

NEVER = np.iinfo(np.int64).max

#: Local-time hour weights of the timing profiles (index = profile id)
TIMING_PROFILES = {
    "diurnal": [1, 0.6, 0.4, 0.3, 0.3, 0.4, 0.8, 1.5, 2.5, 3.5, 4.0, 4.2, 4.0, 3.8, 3.8, 3.7, 3.6,
                3.5, 3.6, 4.0, 4.4, 4.2, 3.2, 2.0],
    "office_hours": [0, 0, 0, 0, 0, 0, 0, 0.2, 1, 4, 4, 4, 2.5, 4, 4, 4, 4, 3, 1, 0.2, 0, 0, 0, 0],
    "round_the_clock": [1.0] * 24,
    "student": [2.5, 1.8, 1.0, 0.5, 0.2, 0.1, 0.2, 0.5, 1.2, 2.0, 2.5, 3.0, 3.0, 3.2, 3.5, 3.6,
                3.6, 3.4, 3.2, 3.6, 4.0, 4.2, 4.0, 3.4],
}
PROFILE_IDS = {name: i for i, name in enumerate(TIMING_PROFILES)}
WEEKDAY_ONLY = np.array([name == "office_hours" for name in TIMING_PROFILES])

ALPHANUM = np.array(list("abcdefghijklmnopqrstuvwxyz0123456789"))


def random_tokens(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """Opaque lowercase tokens; every 6th character is a letter so no long digit run can occur."""
    codes = rng.integers(0, 36, size=(n, length))
    codes[:, ::6] = rng.integers(0, 26, size=codes[:, ::6].shape)
    return ALPHANUM[codes].view(f"<U{length}").ravel()


def unique_tokens(rng: np.random.Generator, n: int, length: int, prefix: str) -> list[str]:
    """``n`` distinct tokens with a prefix (redrawn until unique; deterministic in ``rng``)."""
    tokens = np.unique(random_tokens(rng, n, length))
    while len(tokens) < n:
        tokens = np.unique(np.concatenate([tokens, random_tokens(rng, n - len(tokens), length)]))
    order = rng.permutation(n)  # np.unique sorts; shuffle so ids carry no order
    return [prefix + t for t in tokens[:n][order].tolist()]


@dataclass
class Payments:
    """Payment method rows of a group; ``account`` is the account's index inside the group."""

    account: list[np.ndarray] = field(default_factory=list)
    added_at: list[np.ndarray] = field(default_factory=list)
    fingerprint: list[str] = field(default_factory=list)
    card_bin: list[str] = field(default_factory=list)
    last4: list[str] = field(default_factory=list)
    exp: list[str] = field(default_factory=list)
    billing_name: list[str | None] = field(default_factory=list)
    billing_address: list[str | None] = field(default_factory=list)
    billing_postcode: list[str | None] = field(default_factory=list)
    billing_country: list[str | None] = field(default_factory=list)


class Group:
    """One population segment: table columns, truth and behaviour profile, all length ``n``."""

    def __init__(self, kind: str, n: int) -> None:
        self.kind = kind
        self.n = n
        z = np.zeros(n, dtype=np.int64)
        self.created_at = z.copy()
        self.email: list[str] = [""] * n
        self.display_name: list[str | None] = [None] * n
        self.declared_org: list[str | None] = [None] * n
        self.country: list[str | None] = [None] * n
        self.phone: list[str | None] = [None] * n
        self.operator: list[str] = [""] * n
        self.org_id: list[str | None] = [None] * n
        self.is_campaign = np.zeros(n, dtype=bool)
        # behaviour profile
        self.n_ex = z.copy()
        self.t_start = z.copy()
        self.t_end = np.full(n, WINDOW_END, dtype=np.int64)
        self.timing = np.full(n, PROFILE_IDS["diurnal"], dtype=np.int64)
        self.tz = np.zeros(n)
        self.cadence_s = np.zeros(n)
        self.jitter_s = np.zeros(n)
        self.ip_a_off, self.ip_a_cnt = z.copy(), np.ones(n, dtype=np.int64)
        self.ip_b_off, self.ip_b_cnt = z.copy(), np.ones(n, dtype=np.int64)
        self.p_b = np.zeros(n)
        self.signup_ip = z.copy()
        self.ua_off, self.ua_cnt = z.copy(), np.ones(n, dtype=np.int64)
        self.browser_ua = z.copy()
        self.tmpl_off, self.tmpl_cnt = z.copy(), np.ones(n, dtype=np.int64)
        self.p_tmpl = np.zeros(n)
        self.topics = np.zeros((n, 3), dtype=np.int64)
        self.switch_at = np.full(n, NEVER, dtype=np.int64)
        self.p_new = np.full(n, 0.97)
        self.p_mini = np.full(n, 0.15)
        self.p_legacy = np.full(n, 0.05)
        self.ctx_tokens = np.full(n, 200.0)
        self.n_keys = np.ones(n, dtype=np.int64)
        self.payments = Payments()


@dataclass
class Population:
    """Shared pools and the groups built so far."""

    rng: np.random.Generator
    plan: AddressPlan
    prompts: PromptMaterial
    ips: StringPool = field(default_factory=StringPool)
    uas: StringPool = field(default_factory=StringPool)
    groups: list[Group] = field(default_factory=list)
    organizations: list[dict] = field(default_factory=list)
    #: (offset, count) blocks of shared address and client pools, set by ``build_world``
    proxy_block: tuple[int, int] = (0, 0)
    mobile_block: tuple[int, int] = (0, 0)
    benign_ua_block: tuple[int, int] = (0, 0)
    browser_ua_block: tuple[int, int] = (0, 0)
    #: issuer BINs ordinary customers' cards come from
    benign_bins: list[str] = field(default_factory=list)

    def add_group(self, group: Group) -> Group:
        self.groups.append(group)
        return group

    def add_cards(
        self,
        group: Group,
        accounts: np.ndarray,
        added_at: np.ndarray,
        fingerprints: list[str],
        bins: list[str],
        last4: list[str],
        exp: list[str],
        billing_name: list[str | None],
        billing_address: list[str | None],
        billing_postcode: list[str | None],
        billing_country: list[str | None],
    ) -> None:
        p = group.payments
        p.account.append(np.asarray(accounts, dtype=np.int64))
        p.added_at.append(np.minimum(np.asarray(added_at, dtype=np.int64), WINDOW_END - 60))
        p.fingerprint += fingerprints
        p.card_bin += bins
        p.last4 += last4
        p.exp += exp
        p.billing_name += billing_name
        p.billing_address += billing_address
        p.billing_postcode += billing_postcode
        p.billing_country += billing_country


def new_cards(
    rng: np.random.Generator, n: int, bins: list[str] | np.ndarray
) -> tuple[list[str], list[str], list[str], list[str]]:
    """``n`` distinct physical cards: (fingerprint, bin, last4, MM/YY expiry)."""
    fps = unique_tokens(rng, n, 16, "fp_")
    b = [str(x) for x in rng.choice(np.asarray(bins), n)]
    last4 = [f"{int(x):04d}" for x in rng.integers(0, 10_000, n)]
    exp = [f"{int(m):02d}/{int(y)}" for m, y in zip(rng.integers(1, 13, n), rng.integers(26, 32, n))]
    return fps, b, last4, exp


def random_bins(rng: np.random.Generator, n: int) -> list[str]:
    """Issuer BINs: mostly 6 digits, some 8 (4/5/3 leading digit like the networks)."""
    lead = rng.choice(["4", "5", "3"], n, p=[0.55, 0.38, 0.07])
    eight = rng.random(n) < 0.2
    body = rng.integers(0, 10_000_000, n)
    return [
        f"{ld}{int(b):07d}" if e else f"{ld}{int(b) % 100_000:05d}"
        for ld, b, e in zip(lead, body, eight)
    ]

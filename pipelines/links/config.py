"""The settings of blocking, scoring and clustering, and the domain facts they rest on:
one place that every stage reads, so a knob or a fact is defined once."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ResolutionConfig:
    """Knobs of blocking, scoring and clustering. Defaults are structural (costs and
    priors), not fitted to a generator: the weights themselves come from EM on the data."""

    all_pairs_cap: int = 25
    generic_cap: int = 2000
    ring_k: int = 4
    ip_hour_cap: int = 40          # more accounts on one IP in one hour: NAT / VPN / proxy hub
    template_generic_share: float = 0.05  # a template used by > 5% of accounts says nothing
    random_pairs: int = 200_000
    em_iterations: int = 40
    prior_match_share: float = 0.1  # initial lambda for EM
    match_probability: float = 0.5  # edges at or above this posterior enter the clustering
    cluster_support: float = 0.25   # split a component while its weakest cut's conductance is below this
    core_min_size: int = 10         # in entities this large, a member needs >= 2 links inside
    seed: int = 17


# Domain facts, not fitted to a generator (see docs/resolution.md, "Constants"):
EVENT_SPAN_US = 2 * 86_400_000_000  # "one afternoon", "one class": a template alive <= 2 days
EVENT_LIFE_SHARE = 0.25  # ... or alive for under a quarter of its users' own activity (a week's exercise)
FAMILY_MIN = 5  # templates used side by side: an operation's script (20-200), not a class exercise (1-2)
INSTITUTIONAL_NETWORKS = {"education", "corporate"}  # networks.csv types that put many people behind one NAT

"""The Fellegi–Sunter model of a pair's comparison levels: m and u per level, two match types,
EM to estimate them, and how the kinds' weights combine into a pair's log2 Bayes factor.

Scoring follows Fellegi–Sunter: each evidence kind has comparison levels, ``m`` and ``u``
per level are estimated by EM on the candidate pairs (``u`` initialised from random account
pairs), and the pair's log2 Bayes factor is the sum over kinds (``combine_weights``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .comparisons import Comparison
from .config import ResolutionConfig


# Two kinds of "same operator" among the candidates, each with its own m: an *operation*'s
# accounts share its scripts and its rhythm; a *person*'s or a household's accounts share a
# card, a name, a home address. With one m, the tens of thousands of pairs inside one
# operation outweigh the few thousand households, and "no shared template" or "different
# hours" read as strong evidence against every household (-28 bits at seed scale).
MATCH_TYPES = ("operation", "personal")
# A personal match shares something that names a person: a card, a name or e-mail local
# part, an e-mail or phone. Without this anchor the personal type, free of the campaigns'
# weight, explains any coherent group of coincidences among candidates (strangers with cards
# of one BIN and expiry behind one proxy pool) as matches. A billing address alone is no
# anchor: an office building bills several companies.
PERSONAL_ANCHOR = {"payment": 3, "name": 2, "identity": 2}
# Operator evidence says "same owner"; context evidence says "same place / time / tool".
# A crowd shares context (a NAT, a hackathon, a class, a VPN, a reseller's client), so
# context only adds to a pair that already has operator evidence, and its kinds count once
# (their strongest), not summed: one event explains all of them together. Incidental
# template sharing (level 1) is operator evidence too weak to open the gate.
OPERATOR_KINDS = ("payment", "name", "identity", "templates")
# level from which an operator kind opens the gate for context evidence
GATE_LEVEL = {"payment": 1, "name": 3, "identity": 2, "templates": 3}  # a name alone never opens it (namesakes); one shared template neither (a class)
CONTEXT_KINDS = ("ip", "ip_overlap", "signup_time", "timing", "client_ua", "event_template")


def combine_weights(contrib: dict[str, np.ndarray], levels: dict[str, np.ndarray],
                    disagreement: bool = True) -> np.ndarray:
    """Pair log Bayes factor from per-kind weights.

    Operator kinds at or above their GATE_LEVEL add up; their weaker agreements (an
    organisation's e-mail domain, incidental template overlap, a similar name) behave like
    context. Context counts once (its strongest agreement) and only when the pair has strong
    operator evidence; otherwise it can only lower the score.
    """
    n = len(next(iter(levels.values()))) if levels else 0
    operator = np.zeros(n)
    gate = np.zeros(n, dtype=bool)
    context_terms = []
    for k in OPERATOR_KINDS:
        if k not in contrib:
            continue
        strong = levels[k] >= GATE_LEVEL[k]
        weak = (levels[k] > 0) & ~strong
        operator += np.where(weak, 0.0, contrib[k])
        gate |= strong
        context_terms.append(np.where(weak, contrib[k], -np.inf))
    own = [contrib[k] for k in CONTEXT_KINDS if k in contrib]
    context_terms += own
    context = np.max(np.vstack(context_terms), axis=0) if context_terms else np.zeros(n)
    context = np.where(np.isfinite(context), context, 0.0)
    # the strongest disagreement counts too, whatever agrees: two operations on one proxy
    # provider running public templates share addresses and scripts, not their client.
    # Only for an operation (``disagreement``): a company's staff or a household share a
    # card and a name, each with their own browser and hours
    against = np.min(np.minimum(np.vstack(own), 0.0), axis=0) if own and disagreement else np.zeros(n)
    return operator + np.where(gate, np.maximum(context, 0.0), 0.0) + against


@dataclass
class FSParameters:
    """m per match type, kind and level; u per kind and level; the share of each match type
    among candidates (their sum is the match share λ)."""

    m: dict[str, dict[str, np.ndarray]]
    u: dict[str, np.ndarray]
    type_share: dict[str, float]
    candidate_share: float = 1.0
    # accounts in the population the model was fitted on: the term-frequency shares of a
    # reused model are taken against it, so a day's new accounts do not move every weight
    n_accounts: int = 0
    # per term-frequency kind, the reference per level (mean (g/N)^2 over the distinct values
    # seen at that level when fitted): held with the model, or a daily run's new values would
    # move every adjusted weight of the level a little (see score_candidates)
    tf_reference: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def match_share(self) -> float:
        return float(sum(self.type_share.values()))

    def weights(self) -> dict[str, dict[str, np.ndarray]]:
        """log2(m / u) per match type, kind and level."""
        return {t: {k: np.log2(m[k] / self.u[k]) for k in m} for t, m in self.m.items()}

    def to_json(self, scheme: dict[str, list[str]]) -> str:
        """The model as JSON, with the scheme it was fitted under (level names per kind and
        the settings, ``_model_scheme``): ``from_json`` refuses it for another one."""
        return json.dumps({
            "scheme": scheme,
            "m": {t: {k: v.tolist() for k, v in m.items()} for t, m in self.m.items()},
            "u": {k: v.tolist() for k, v in self.u.items()},
            "type_share": self.type_share, "candidate_share": self.candidate_share,
            "n_accounts": self.n_accounts,
            "tf_reference": {k: v.tolist() for k, v in self.tf_reference.items()},
        }, indent=1)

    @staticmethod
    def from_json(text: str, scheme: dict[str, list[str]]) -> "FSParameters | None":
        """The model in ``text``, or None when it was fitted under another scheme (a code or
        settings change) or does not parse."""
        try:
            raw = json.loads(text)
            if raw["scheme"] != scheme or set(raw["m"]) != set(MATCH_TYPES):
                return None
            return FSParameters(
                m={t: {k: np.asarray(v, dtype=float) for k, v in m.items()} for t, m in raw["m"].items()},
                u={k: np.asarray(v, dtype=float) for k, v in raw["u"].items()},
                type_share={t: float(v) for t, v in raw["type_share"].items()},
                candidate_share=float(raw["candidate_share"]), n_accounts=int(raw["n_accounts"]),
                tf_reference={k: np.asarray(v, dtype=float) for k, v in raw.get("tf_reference", {}).items()})
        except (ValueError, KeyError, TypeError):
            return None

    def as_frame(self, names: dict[str, list[str]]) -> pd.DataFrame:
        rows = []
        for t, m in self.m.items():
            for k in m:
                for lvl, (mm, uu) in enumerate(zip(m[k], self.u[k])):
                    rows.append({"match_type": t, "type_share": self.type_share[t], "kind": k, "level": lvl,
                                 "level_name": names[k][lvl], "m": mm, "u": uu, "weight": float(np.log2(mm / uu))})
        return pd.DataFrame(rows)


def _level_counts(levels: np.ndarray, n_levels: int, weights: np.ndarray | None = None) -> np.ndarray:
    return np.bincount(levels, weights=weights, minlength=n_levels).astype(float)


def _level_patterns(levels: dict[str, np.ndarray], n_levels: dict[str, int]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """(levels per distinct pattern, pattern of each pair) over the kinds' level columns."""
    key = np.zeros(len(next(iter(levels.values()))), dtype=np.int64)
    for k, lv in levels.items():
        key = key * np.int64(n_levels[k]) + lv
    uniq, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    return {k: lv[first] for k, lv in levels.items()}, inverse.ravel()


def _operation_like(pattern_levels: dict[str, np.ndarray]) -> np.ndarray:
    """Patterns that start as the "operation" match type: shared script templates (the
    level that opens the gate). Only the starting point: EM moves pairs between types."""
    if "templates" not in pattern_levels:
        return np.zeros(len(next(iter(pattern_levels.values()))), dtype=bool)
    return pattern_levels["templates"] >= GATE_LEVEL["templates"]


def _type_shares(resp: dict[str, np.ndarray], n_pairs: np.ndarray) -> dict[str, float]:
    """Share of each match type among the candidates; together at most 0.9 (as λ in stage 1)."""
    shares = {t: max(float((n_pairs * r).sum() / n_pairs.sum()), 1e-6) for t, r in resp.items()}
    total = sum(shares.values())
    return {t: v * 0.9 / total for t, v in shares.items()} if total > 0.9 else shares


def type_allowed(levels: dict[str, np.ndarray]) -> np.ndarray:
    """(match type x pair) mask: the pairs each match type can explain (``PERSONAL_ANCHOR``)."""
    n = len(next(iter(levels.values())))
    personal = np.zeros(n, dtype=bool)
    for kind, level in PERSONAL_ANCHOR.items():
        if kind in levels:
            personal |= levels[kind] >= level
    return np.vstack([np.ones(n, dtype=bool) if t == "operation" else personal for t in MATCH_TYPES])


def estimate_parameters(cand: Comparison, random_cmp: Comparison, config: ResolutionConfig,
                        candidate_share: float = 1.0) -> FSParameters:
    """EM over candidate pairs with u fixed at its random-pair estimate, then EM with two
    match types (``MATCH_TYPES``).

    u comes from random pairs (the whole population) while EM sees only candidates, so the
    non-match likelihood of a candidate is u(γ) / candidate_share: blocking already made
    every candidate agree on something, and that agreement alone is no evidence. Dirichlet
    smoothing keeps every level's probability away from 0.

    Stage 1 fits one match type, as Fellegi–Sunter does. Its posterior is split by
    ``_operation_like`` into the two types' starting responsibilities; stage 2 fits m and
    the share of each type (a three-class latent model: non-match, operation, personal).
    """
    kinds = list(cand.levels)
    n_levels = {k: len(cand.level_names[k]) for k in kinds}
    u = {}
    m = {}
    for k in kinds:
        ru = _level_counts(random_cmp.levels[k], n_levels[k]) + 1.0
        u[k] = ru / ru.sum()
        # initial m: monotone in the level (higher level = more agreement)
        prior = np.linspace(1.0, 4.0, n_levels[k])
        prior[0] = 2.0
        m[k] = prior / prior.sum()
    lam = config.prior_match_share
    n = len(next(iter(cand.levels.values()))) if kinds else 0
    if n == 0:
        return FSParameters(m={t: {k: v.copy() for k, v in m.items()} for t in MATCH_TYPES}, u=u,
                            type_share={t: lam / len(MATCH_TYPES) for t in MATCH_TYPES},
                            candidate_share=candidate_share)
    # a pair's posterior depends only on its levels: EM runs over the distinct level
    # patterns (a few thousand), each weighted by its number of pairs, not over millions of
    # candidates (the same sums: the per-pair arithmetic is elementwise)
    pattern_levels, pair_pattern = _level_patterns(cand.levels, n_levels)
    n_pairs = np.bincount(pair_pattern).astype(float)
    offset = np.log(candidate_share)  # the non-match likelihood of a candidate is u / candidate_share

    allowed = dict(zip(MATCH_TYPES, type_allowed(pattern_levels)))

    def log_odds(m_type: dict[str, np.ndarray], share: float, match_type: str | None = None) -> np.ndarray:
        ratios = {k: np.log(m_type[k][pattern_levels[k]]) - np.log(u[k][pattern_levels[k]]) for k in kinds}
        odds = np.log(share) + offset + combine_weights(ratios, pattern_levels, disagreement=match_type != "personal")
        return odds if match_type is None else np.where(allowed[match_type], odds, -np.inf)

    def m_step(resp: np.ndarray) -> dict[str, np.ndarray]:
        w = n_pairs * resp
        return {k: (_level_counts(pattern_levels[k], n_levels[k], w) + 0.5) / (w.sum() + 0.5 * n_levels[k]) for k in kinds}

    # stage 1: one match type
    for _ in range(config.em_iterations):
        post = 1.0 / (1.0 + np.exp(-np.clip(log_odds(m, lam) - np.log(1 - lam), -50, 50)))
        new_lam = float(np.clip((n_pairs * post).sum() / n, 1e-4, 0.9))
        m = m_step(post)
        converged = abs(new_lam - lam) < 1e-6
        lam = new_lam
        if converged:
            break
    post = 1.0 / (1.0 + np.exp(-np.clip(log_odds(m, lam) - np.log(1 - lam), -50, 50)))
    # stage 2: two match types
    operation = _operation_like(pattern_levels)
    resp = {t: post * allowed[t] * (operation if t == "operation" else ~operation) for t in MATCH_TYPES}
    for _ in range(config.em_iterations):
        m_types = {t: m_step(r) for t, r in resp.items()}
        shares = _type_shares(resp, n_pairs)
        logs = np.vstack([log_odds(m_types[t], shares[t], t) for t in MATCH_TYPES]
                         + [np.full(len(n_pairs), np.log(1.0 - sum(shares.values())))])
        logs -= logs.max(axis=0)
        joint = np.exp(logs)
        joint /= joint.sum(axis=0)
        new = dict(zip(MATCH_TYPES, joint[:-1]))
        change = max(float(np.abs(new[t] - resp[t]).max()) for t in MATCH_TYPES)
        resp = new
        if change < 1e-6:
            break
    m_types = {t: m_step(r) for t, r in resp.items()}
    return FSParameters(m=m_types, u=u, type_share=_type_shares(resp, n_pairs), candidate_share=candidate_share)


def mixture_score(contrib_of: Callable[[int], dict[str, np.ndarray]], levels: dict[str, np.ndarray],
                  params: FSParameters) -> tuple[np.ndarray, np.ndarray]:
    """(log2 Bayes factor, index of the likelier match type) per pair: the match types'
    factors (``combine_weights`` of ``contrib_of(type index)``) averaged with the types'
    shares among matches; a type that cannot explain a pair (``type_allowed``) adds nothing."""
    prior = np.log2([params.type_share[t] / params.match_share for t in MATCH_TYPES])
    per_type = np.vstack([combine_weights(contrib_of(i), levels, disagreement=MATCH_TYPES[i] != "personal") + prior[i]
                          for i in range(len(MATCH_TYPES))])
    per_type[~type_allowed(levels)] = -np.inf
    best = per_type.argmax(axis=0)
    top = per_type[best, np.arange(per_type.shape[1])]
    return top + np.log2(np.exp2(per_type - top).sum(axis=0)), best.astype(np.int8)


def random_pairs(n_accounts: int, n_pairs: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, n_accounts, size=n_pairs)
    b = rng.integers(0, n_accounts, size=n_pairs)
    keep = a != b
    a, b = a[keep], b[keep]
    return np.minimum(a, b), np.maximum(a, b)

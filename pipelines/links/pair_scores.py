"""Stage 5, second half: the Fellegi–Sunter score of every candidate pair, and what its
explanation needs (``PairEvidence``), from the comparisons and the model (estimated by EM,
or a saved one reused).

Exact-value kinds are term-frequency adjusted: the weight of a shared value is
log2(m / u_value) with u_value = share of accounts holding that value, capped by the
level's EM weight (``tf_adjustments``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from pipelines.features import AccountFeatures
from pipelines.normalize import NormalizedTables

from .blocking import account_codes, exact_values
from .comparisons import PAIR_CHUNK, Comparison, compare_pairs
from .config import ResolutionConfig
from .evidence_text import evidence_json, evidence_json_of_rows
from .fellegi_sunter import MATCH_TYPES, FSParameters, estimate_parameters, mixture_score, random_pairs
from .templates import template_weights


TF_ADJUSTED = {"payment", "name", "identity", "client_ua"}


class PairEvidence:
    """What the explanation of a scored pair needs after scoring: the comparison levels,
    the shared values per kind and the (TF-adjusted) weights.

    Kept beside the scored pairs so that evidence text is built only for the pairs that are
    shown (the links of links.csv and the graph), chunk by chunk, after clustering: at
    seed scale the accepted candidates' text alone is gigabytes and most of it is never
    written."""

    def __init__(self, cmp: Comparison, weights: dict[str, dict[str, np.ndarray]],
                 tf_adjust: dict[str, tuple[np.ndarray, np.ndarray]], a: np.ndarray, b: np.ndarray) -> None:
        self.a, self.b = a, b  # account codes per pair (for the lazily looked-up kinds)
        self.lazy = cmp.lazy
        self.levels = cmp.levels
        self.level_names = cmp.level_names
        # per kind, a (match type x level) table of weights (rows in MATCH_TYPES order)
        self.weights = {k: np.vstack([weights[t][k] for t in MATCH_TYPES]) for k in cmp.levels}
        self.tf_adjust = tf_adjust
        # per pair, the index in MATCH_TYPES of its more likely match type (set by the scoring):
        # the weights a pair's explanation shows are that type's
        self.match_type = np.zeros(len(a), dtype=np.int8)
        # per kind (pair, value), sorted by pair; the TF shares were folded into tf_adjust
        self.values: dict[str, tuple[np.ndarray, object]] = {}
        for kind, (p, vals, _) in cmp.evidence.items():
            if len(p) and not bool(np.all(p[1:] >= p[:-1])):
                order = np.argsort(p, kind="stable")
                p, vals = p[order], vals[order]
            self.values[kind] = (p, vals)

    def contrib(self, rows: np.ndarray, match_type: int | None = None) -> dict[str, np.ndarray]:
        """Per kind, the weight of each pair in ``rows`` (TF-adjusted where it applies) under
        its more likely match type, or under ``match_type`` (an index in MATCH_TYPES)."""
        types = self.match_type[rows] if match_type is None else np.full(len(rows), match_type, dtype=np.int8)
        contrib = {k: self.weights[k][types, lv[rows]] for k, lv in self.levels.items()}
        for kind, (p_sorted, adj) in self.tf_adjust.items():
            if len(p_sorted) == 0:
                continue
            pos = np.minimum(np.searchsorted(p_sorted, rows), len(p_sorted) - 1)
            hit = p_sorted[pos] == rows
            contrib[kind][hit] += adj[pos[hit]]
        return contrib

    def values_for(self, rows: np.ndarray) -> dict[str, tuple[np.ndarray, object]]:
        """(pair, value) per kind, sorted by pair: the stored kinds, and the lazy kinds
        looked up for the sorted ``rows`` alone."""
        out = dict(self.values)
        for kind, lookup in self.lazy.items():
            sel = rows[self.levels[kind][rows] > 0]
            out[kind] = lookup(sel, self.a[sel], self.b[sel])
        return out

    def comparison(self, rows: np.ndarray) -> Comparison:
        """The comparison with the evidence values that the sorted ``rows`` show."""
        return Comparison(levels=self.levels, level_names=self.level_names,
                          evidence={k: (p, v, None) for k, (p, v) in self.values_for(rows).items()})

    def text(self, rows: np.ndarray) -> pd.arrays.ArrowStringArray:
        """Evidence JSON of the distinct pairs ``rows`` (any order), aligned with ``rows``:
        the same text ``evidence_json`` gives them (``evidence_json_of_rows``)."""
        return evidence_json_of_rows(Comparison(levels=self.levels, level_names=self.level_names),
                                     self.values_for, self.contrib, rows)


# what a saved model's numbers depend on besides the data: blocking (the candidate share)
# and EM's own settings; the clustering knobs are applied after scoring and may change freely
_MODEL_CONFIG = ("all_pairs_cap", "generic_cap", "ring_k", "ip_hour_cap", "template_generic_share",
                 "random_pairs", "em_iterations", "prior_match_share", "seed")


def _model_scheme(level_names: dict[str, list[str]], config: ResolutionConfig) -> dict[str, list[str]]:
    """The comparison levels plus the settings a model was fitted under (``FSParameters.from_json``
    reuses a model only for the same scheme)."""
    return {**level_names, "_config": [f"{k}={getattr(config, k)!r}" for k in _MODEL_CONFIG]}


def score_candidates(candidates: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                     config: ResolutionConfig | None = None, tw: pd.DataFrame | None = None,
                     values: pd.DataFrame | None = None,
                     reuse: str | None = None) -> tuple[pd.DataFrame, PairEvidence]:
    """Fellegi–Sunter score (log2 Bayes factor) and match probability per candidate pair,
    without text: (frame, evidence). Frame columns: a, b (account codes, int32), score,
    match_probability, lvl_<kind> (int8); ``attrs["parameters"]`` holds the EM estimates.
    ``evidence.text(rows)`` explains the pairs that are shown (see ``score_pairs`` for the
    same with account ids and evidence text of every accepted pair). ``values``: the
    ``exact_values`` blocking used, if the caller kept them (the same table).

    ``reuse``: a model saved by an earlier run (``FSParameters.to_json``, from
    ``attrs["parameters_json"]``). When it fits today's comparison levels, EM is skipped and
    its m, u, shares and population size score today's pairs: a daily run between refits
    then gives an unchanged pair the same score and evidence weights as yesterday (a
    re-fit moves every weight a little, and the graph load rewrites every such link).
    A model fitted under other blocking or EM settings (``_MODEL_CONFIG``), or on half or
    twice today's number of accounts (another data folder, not a day's growth), is not reused. ``attrs["parameters_reused"]`` says which happened."""
    config = config or ResolutionConfig()
    n_acc = len(norm.accounts)
    values = exact_values(norm, feats) if values is None else values
    a = candidates["a"].to_numpy(dtype=np.int64)
    b = candidates["b"].to_numpy(dtype=np.int64)
    # template weights (a per-template median over its users) once for both comparisons
    tw = template_weights(feats, n_acc, config) if tw is None and len(feats.account_templates) else tw
    cmp = compare_pairs(a, b, norm, feats, config, values=values, with_evidence=True, tw=tw)
    scheme = _model_scheme(cmp.level_names, config)
    params = FSParameters.from_json(reuse, scheme) if reuse else None
    if params is not None and not 0.5 <= n_acc / max(params.n_accounts, 1) <= 2.0:
        params = None  # another population (a different data folder), not a day's growth
    reused = params is not None
    if params is None:
        ra, rb = random_pairs(n_acc, min(config.random_pairs, max(n_acc * (n_acc - 1) // 2, 1)), config.seed) if n_acc > 1 else (np.zeros(0, np.int64),) * 2
        rcmp = compare_pairs(ra, rb, norm, feats, config, values=values, tw=tw)
        del ra, rb
        n_all_pairs = max(n_acc * (n_acc - 1) / 2, 1)
        params = estimate_parameters(cmp, rcmp, config, candidate_share=min(len(a) / n_all_pairs, 1.0))
        params.n_accounts = n_acc
        del rcmp
    del values
    weights = params.weights()

    n = len(a)
    tf_adjust = tf_adjustments(cmp, params, n_acc, reused)
    code = np.int32 if n_acc < 2**31 - 1 else np.int64
    a, b = a.astype(code), b.astype(code)
    explain = PairEvidence(cmp, weights, tf_adjust, a, b)
    del cmp  # its TF shares (a float per shared value) are folded into tf_adjust

    # the pair's Bayes factor sums over the match types, each weighted by its share among
    # matches; in chunks of pairs: per-kind weight columns of all pairs at once are
    # gigabytes at seed scale (the arithmetic is per pair, so the scores are the same)
    score = np.zeros(n)
    for lo in range(0, n, PAIR_CHUNK):
        rows = np.arange(lo, min(lo + PAIR_CHUNK, n))
        score[rows], explain.match_type[rows] = mixture_score(
            lambda t: explain.contrib(rows, t), {k: lv[rows] for k, lv in explain.levels.items()}, params)
    # score: log2 Bayes factor of the pair given it is a candidate (see estimate_parameters)
    score += np.log2(params.candidate_share)
    prior_logit = np.log2(params.match_share / (1 - params.match_share))
    prob = 1.0 / (1.0 + np.power(2.0, -np.clip(score + prior_logit, -60, 60)))
    columns = {"a": a, "b": b, "score": score, "match_probability": prob}
    del a, b
    columns.update({f"lvl_{k}": lv for k, lv in explain.levels.items()})
    out = pd.DataFrame(columns, copy=False)
    # plain lists, not a DataFrame: pandas compares attrs when concatenating frames
    out.attrs["parameters"] = params.as_frame(explain.level_names).to_dict("list")
    out.attrs["parameters_json"] = params.to_json(scheme)
    out.attrs["parameters_reused"] = reused
    return out, explain


def tf_adjustments(cmp: Comparison, params: FSParameters, n_acc: int,
                   reused: bool) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per term-frequency kind (``TF_ADJUSTED``): (sorted pairs, weight change <= 0) of the
    pairs that share a value. ``reused``: ``params`` is a saved model, whose reference per
    level is kept where it saw that level; otherwise the references are stored in it."""
    n_ref = params.n_accounts or n_acc
    # term-frequency adjustment. Two strangers agree on a value held by g accounts with
    # probability (g/N)^2; an operator's accounts agree on their own value whatever its g. So,
    # against the level's typical value, a value's Bayes factor changes by
    # log2(mean (g/N)^2 / (g/N)^2), the mean taken over the distinct values seen at that level
    # (not u of the level: random pairs weigh values by g^2, so the big groups dominate it and
    # no value ever exceeded it). Lowered only, never raised above what EM learnt.
    tf_adjust: dict[str, tuple[np.ndarray, np.ndarray]] = {}  # kind -> (sorted pairs, weight change <= 0)
    for kind, (p, value, share) in cmp.evidence.items():
        if kind not in TF_ADJUSTED:
            continue
        share = share * (n_acc / n_ref)  # g / N of the fitted population
        s2 = np.maximum(share * share, 1.0 / max(n_ref, 1) ** 2)
        lv = cmp.levels[kind][p]
        # evidence values are categoricals: their codes name the values without a Python
        # object per pair (millions at seed scale); a value's share is the same on every pair,
        # so the per-level mean over distinct values is two scatters, not a group-by
        codes = value.codes if isinstance(value, pd.Categorical) else pd.factorize(np.asarray(value, dtype=object))[0]
        n_codes = int(codes.max()) + 1 if len(codes) else 0
        value_s2 = np.zeros(n_codes)
        value_s2[codes] = s2
        seen = np.zeros((int(lv.max()) + 1 if len(lv) else 0, n_codes), dtype=bool)
        seen[lv, codes] = True
        reference = (seen * value_s2).sum(axis=1) / np.maximum(seen.sum(axis=1), 1)
        held = params.tf_reference.get(kind)
        if reused and held is not None:  # the fitted reference, where the fit saw that level
            k = min(len(held), len(reference))
            reference[:k] = np.where(held[:k] > 0, held[:k], reference[:k])
        elif not reused:
            params.tf_reference[kind] = reference
        tf_delta = np.log2(reference[lv] / s2)
        order = np.argsort(p, kind="stable")
        tf_adjust[kind] = (p[order], np.minimum(tf_delta, 0.0)[order])
        del tf_delta, order, codes, value_s2, seen
    return tf_adjust


def score_pairs(candidates: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                config: ResolutionConfig | None = None, tw: pd.DataFrame | None = None,
                reuse: str | None = None) -> pd.DataFrame:
    """Fellegi–Sunter score (log2 Bayes factor), match probability and evidence per pair.

    Columns: account_a, account_b, a, b, score, match_probability, evidence (JSON list of
    {"kind","value","weight"} for the accepted pairs, "[]" for the others), lvl_<kind>.
    Parameters are estimated here by EM, or taken from ``reuse`` (see ``score_candidates``);
    they are also attached as ``result.attrs["parameters"]`` for the documentation and the report. (``run_resolution``
    uses ``score_candidates`` and explains only the links it writes.)
    """
    config = config or ResolutionConfig()
    lean, explain = score_candidates(candidates, norm, feats, config, tw=tw, reuse=reuse)
    a = lean["a"].to_numpy(dtype=np.int64)
    b = lean["b"].to_numpy(dtype=np.int64)
    prob = lean["match_probability"].to_numpy()
    # explanations for the links that can justify a merge (the rest are never shown)
    accepted = np.flatnonzero(prob >= config.match_probability)
    evidence = evidence_json(explain.comparison(accepted), explain.contrib, len(a), accepted)
    out = pd.DataFrame(
        {
            # Arrow-backed text (no Python string object per pair)
            "account_a": _account_text(candidates, "account_a", a, norm),
            "account_b": _account_text(candidates, "account_b", b, norm),
            "a": a,
            "b": b,
            "score": lean["score"].to_numpy(),
            "match_probability": prob,
            "evidence": evidence,
        }
    )
    for k in explain.levels:
        out[f"lvl_{k}"] = lean[f"lvl_{k}"].to_numpy()
    out.attrs.update(lean.attrs)
    return out


def _account_text(candidates: pd.DataFrame, column: str, codes: np.ndarray, norm: NormalizedTables) -> pd.api.extensions.ExtensionArray:
    """Account ids of one side of the pairs as Arrow text: the candidates' column, or (when
    the caller dropped it to save memory while comparing) taken from the codes."""
    if column in candidates:
        return candidates[column].array.astype("str")
    ids = pa.array(account_codes(norm).to_numpy(dtype=object), pa.large_string())
    return pd.array(ids.take(pa.array(codes)), dtype="string").astype("str")

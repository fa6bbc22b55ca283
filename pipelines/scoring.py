"""Stage 8: per-entity campaign score and a first attribution to organizations.

Campaign score: behaviour features per entity, each turned into a robust z-score against the
population of entities (median and MAD, so a minority of campaigns cannot move the
baseline), squashed to 0..1 and averaged. ``is_campaign`` uses a cut estimated from the
data: the two-group (Otsu) split of the account-weighted score distribution, and never below
the score an entity gets when it is three robust deviations out on a majority of features.

Attribution: organization indicators (e-mail domains, ASNs, CIDRs, legal billing names,
names and aliases) are matched against the entity's accounts; each matching account adds
evidence whose reliability depends on the kind; an organisation wins only when its evidence
dominates any competitor, and the entity stays unattributed when the evidence is weak.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from rapidfuzz import fuzz, process

from pipelines.features import AccountFeatures
from pipelines.normalize import NormalizedTables, lookup_networks, normalize_name

ENTITY_COLUMNS = ["entity_id", "n_accounts", "org_id", "attribution_confidence", "campaign_score", "is_campaign"]

# Reliability of one matching account per indicator kind (probability the match is not a
# coincidence); combined over accounts as independent clues, at most three per kind.
INDICATOR_RELIABILITY = {
    "email_domain": 0.8,
    "cidr": 0.8,
    "asn": 0.6,
    "billing_name": 0.7,
    "declared_org": 0.5,
}
ATTRIBUTION_MIN_CONFIDENCE = 0.5
# indicator kinds by which accounts name their organisation themselves (sybil_factor)
SELF_DECLARED = ("email_domain", "declared_org")


def _robust_z(values: np.ndarray) -> np.ndarray:
    """(x - median) / robust scale; scale falls back to the mean absolute deviation when
    more than half the population shares one value (MAD = 0)."""
    med = np.nanmedian(values)
    mad = np.nanmedian(np.abs(values - med)) * 1.4826
    if not np.isfinite(mad) or mad <= 1e-9:
        mad = np.nanmean(np.abs(values - med))
    if not np.isfinite(mad) or mad <= 1e-9:
        mad = 1.0
    return (values - med) / mad


def entity_behaviour(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures) -> pd.DataFrame:
    """Per entity: the behaviour features the campaign score is built from."""
    fa = feats.accounts.copy()
    fa["entity_id"] = fa["account_id"].map(account_entities.set_index("account_id")["entity_id"]).astype("string")
    w = fa["n_exchanges"].to_numpy(dtype=float)
    fa["_w"] = w
    for col in ("share_cot", "share_coding", "share_reasoning", "share_tool_use", "share_datacenter",
                "new_model_share", "night_share"):
        fa[f"_{col}"] = fa[col].to_numpy(dtype=float) * w
    g = fa.groupby("entity_id", sort=True)
    out = pd.DataFrame({"n_accounts": g.size(), "n_exchanges": g["_w"].sum()})
    tot = out["n_exchanges"].clip(lower=1)
    for col in ("share_cot", "share_coding", "share_reasoning", "share_tool_use", "share_datacenter",
                "new_model_share", "night_share"):
        out[col] = g[f"_{col}"].sum() / tot
    out["distill_task_share"] = (out["share_coding"] + out["share_reasoning"] + out["share_tool_use"]).clip(upper=1)
    out["exchanges_per_account"] = out["n_exchanges"] / out["n_accounts"]

    # template reuse: share of the entity's traffic on templates used by >= 2 of its accounts
    at = feats.account_templates.merge(account_entities, on="account_id")
    if len(at):
        per = at.groupby(["entity_id", "template_id"]).agg(acc=("account_id", "size"), n=("n", "sum")).reset_index()
        reused = per[per["acc"] >= 2].groupby("entity_id")["n"].sum()
        out["template_reuse"] = (reused.reindex(out.index).fillna(0) / tot).clip(upper=1)
        out["n_shared_templates"] = per[per["acc"] >= 2].groupby("entity_id").size().reindex(out.index).fillna(0)
    else:
        out["template_reuse"] = 0.0
        out["n_shared_templates"] = 0.0

    # burst creation: share of accounts created within 6 hours of another account of the entity
    acc = norm.accounts[["account_id", "created_at"]].merge(account_entities, on="account_id")
    t = pd.to_datetime(acc["created_at"], utc=True).astype("int64").to_numpy() // 1_000_000
    acc = acc.assign(t=t).sort_values(["entity_id", "t"])
    same_prev = acc["entity_id"].to_numpy()[1:] == acc["entity_id"].to_numpy()[:-1]
    gap = np.diff(acc["t"].to_numpy())
    close = np.zeros(len(acc), dtype=bool)
    near = same_prev & (gap <= 6 * 3600)
    close[1:] |= near
    close[:-1] |= near
    out["burst_share"] = pd.Series(close, index=acc["entity_id"].to_numpy()).groupby(level=0).mean().reindex(out.index).fillna(0)

    # self-identification: share of accounts on the entity's most common organisation e-mail
    # domain (a company's staff, a university's students); campaigns leak theirs on 1-3%
    dom = norm.accounts[["account_id", "email_org_domain"]].merge(account_entities, on="account_id").dropna()
    if len(dom):
        top = dom.groupby(["entity_id", "email_org_domain"]).size().groupby(level=0).max()
        out["org_domain_share"] = (top.reindex(out.index).fillna(0) / out["n_accounts"]).where(top.reindex(out.index).fillna(0) >= 2, 0.0)
    else:
        out["org_domain_share"] = 0.0
    return out


FEATURES_FOR_SCORE = ["share_cot", "distill_task_share", "template_reuse", "burst_share", "share_datacenter",
                      "new_model_share", "log_accounts", "log_exchanges_per_account"]


def campaign_scores(behaviour: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, float]:
    """(campaign_score 0..1, is_campaign, cut) per entity, thresholds from the data."""
    b = behaviour.copy()
    b["log_accounts"] = np.log1p(b["n_accounts"])
    b["log_exchanges_per_account"] = np.log1p(b["exchanges_per_account"])
    if len(b) == 0:
        return np.zeros(0), np.zeros(0, bool), 1.0
    zs = np.column_stack([_robust_z(b[c].to_numpy(dtype=float)) for c in FEATURES_FOR_SCORE])
    # only excess counts (being *less* campaign-like than the median is not evidence)
    squashed = 1.0 / (1.0 + np.exp(-(zs - 3.0)))
    score = squashed.mean(axis=1) * sybil_factor(b)
    weights = b["n_accounts"].to_numpy(dtype=float)
    cut = _otsu_cut(score, weights)
    # floor: an entity 3 robust deviations out on half of the features scores 0.5 * 0.5
    floor = 0.25
    cut = max(cut, floor)
    # a campaign is many accounts: one account cannot show sybil behaviour
    return score, (score >= cut) & (b["n_accounts"].to_numpy() >= 2), cut


def sybil_factor(behaviour: pd.DataFrame) -> np.ndarray:
    """0..1 multiplier: how much the entity hides that its accounts belong together.

    Volume and a narrow topic are also what a company's evaluation job or a class looks
    like; a distillation campaign in addition spreads the work over accounts that do not
    say who runs them. An entity whose accounts mostly carry the same organisation's
    indicators (its e-mail domain, legal billing name, declared name, network) operates in
    the open: factor 1 - open share (campaigns leak such clues on 1-3% of accounts, domain
    notes). A single account shows no multi-account behaviour at all: factor 1/2, and it is
    never flagged on its own.
    """
    open_share = behaviour["open_share"].to_numpy(dtype=float) if "open_share" in behaviour else np.zeros(len(behaviour))
    single = behaviour["n_accounts"].to_numpy() < 2
    return np.where(single, 0.5, 1.0) * (1.0 - np.clip(open_share, 0.0, 1.0))


def _otsu_cut(score: np.ndarray, weights: np.ndarray, bins: int = 200) -> float:
    """Threshold maximising the between-group variance of the weighted score histogram."""
    if len(score) < 2 or np.allclose(score.min(), score.max()):
        return 1.0
    hist, edges = np.histogram(score, bins=bins, range=(0.0, 1.0), weights=weights)
    centers = (edges[:-1] + edges[1:]) / 2
    w0 = np.cumsum(hist)
    w1 = w0[-1] - w0
    m0 = np.cumsum(hist * centers)
    mu0 = m0 / np.maximum(w0, 1e-12)
    mu1 = (m0[-1] - m0) / np.maximum(w1, 1e-12)
    between = w0 * w1 * (mu0 - mu1) ** 2
    k = int(np.argmax(between[:-1]))
    return float(edges[k + 1])


# ----------------------------------------------------------------------------- attribution


def _split_list(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [v.strip() for v in value.split(";") if v.strip()]


def attribute_entities(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                       organizations: pd.DataFrame) -> pd.DataFrame:
    """entity_id, org_id, attribution_confidence (only for entities with evidence)."""
    empty = pd.DataFrame({"entity_id": pd.array([], dtype="string"), "org_id": pd.array([], dtype="string"),
                          "attribution_confidence": np.zeros(0), "indicator_accounts": np.zeros(0, np.int64)})
    if organizations is None or len(organizations) == 0:
        return empty
    orgs = organizations.reset_index(drop=True)
    hits = []  # (account_id, org_id, kind)
    acc = norm.accounts

    # e-mail domains
    dom = [(d.lower(), o) for o, v in zip(orgs["org_id"], orgs["email_domains"]) for d in _split_list(v)]
    if dom:
        dmap = pd.DataFrame(dom, columns=["email_domain", "org_id"])
        m = acc[["account_id", "email_domain"]].dropna().merge(dmap, on="email_domain")
        hits.append(m.assign(kind="email_domain")[["account_id", "org_id", "kind"]])

    # network: every IP the account was seen on (sign-up, logins, API)
    ips = pd.concat([
        acc[["account_id", "signup_ip"]].rename(columns={"signup_ip": "ip"}).dropna(),
        feats.ip_hours[["account_id", "ip"]],
    ], ignore_index=True).drop_duplicates()
    cidr_rows = [(c, o) for o, v in zip(orgs["org_id"], orgs["cidrs"]) for c in _split_list(v)]
    if cidr_rows and len(ips):
        ref = pd.DataFrame({"cidr": [c for c, _ in cidr_rows], "asn": np.arange(len(cidr_rows)),
                            "as_name": [o for _, o in cidr_rows], "network_type": "corporate"})
        info = lookup_networks(ips["ip"].astype("string"), ref)
        m = ips.assign(org_id=info["as_name"].to_numpy()).dropna(subset=["org_id"])
        hits.append(m.assign(kind="cidr")[["account_id", "org_id", "kind"]])
    asn_rows = [(int(a), o) for o, v in zip(orgs["org_id"], orgs["asns"]) for a in _split_list(v) if a.isdigit()]
    if asn_rows and len(ips) and len(norm.networks):
        info = lookup_networks(ips["ip"].astype("string"), norm.networks)
        amap = pd.DataFrame(asn_rows, columns=["asn", "org_id"])
        m = ips.assign(asn=info["asn"].to_numpy()).dropna(subset=["asn"])
        m["asn"] = m["asn"].astype(np.int64)
        m = m.merge(amap, on="asn")
        hits.append(m.assign(kind="asn")[["account_id", "org_id", "kind"]])

    # legal billing names (fuzzy) and declared organisation vs name/aliases (fuzzy)
    bn = [(n, o) for o, v in zip(orgs["org_id"], orgs["billing_names"]) for n in _split_list(v)]
    pm = norm.payment_methods[["account_id", "billing_name_norm"]].dropna()
    hits.append(_fuzzy_hits(pm, "billing_name_norm", bn, "billing_name"))
    names = [(n, o) for o, nm, al in zip(orgs["org_id"], orgs["name"], orgs["aliases"]) for n in [nm, *_split_list(al)] if isinstance(n, str)]
    hits.append(_fuzzy_hits(acc[["account_id", "declared_org_norm"]].dropna(), "declared_org_norm", names, "declared_org"))

    hits = [h for h in hits if h is not None and len(h)]
    if not hits:
        return empty
    allh = pd.concat(hits, ignore_index=True).drop_duplicates()
    allh = allh.merge(account_entities, on="account_id")
    per = allh.groupby(["entity_id", "org_id", "kind"])["account_id"].nunique().rename("n").reset_index()
    per["rel"] = per["kind"].map(INDICATOR_RELIABILITY).astype(float)
    per["log_miss"] = np.minimum(per["n"], 3) * np.log1p(-per["rel"])
    org_ev = per.groupby(["entity_id", "org_id"])["log_miss"].sum().reset_index()
    org_ev["conf"] = 1.0 - np.exp(org_ev["log_miss"])
    org_ev = org_ev.sort_values(["entity_id", "conf", "org_id"], ascending=[True, False, True])
    best = org_ev.drop_duplicates("entity_id").set_index("entity_id")
    total = org_ev.groupby("entity_id")["conf"].sum()
    # competing organisations dilute the confidence
    conf = best["conf"] * best["conf"] / total.reindex(best.index)
    # accounts that carry any indicator of the winning organisation (for the openness test)
    carriers = allh.merge(best["org_id"].rename("best_org").reset_index(), on="entity_id")
    # only what the accounts say about themselves counts as operating in the open: a
    # company's staff sign up with its domain; an operation's cards may carry a listed
    # shell company's name and its traffic the lab's own network without saying so
    carriers = carriers[(carriers["org_id"] == carriers["best_org"]) & carriers["kind"].isin(list(SELF_DECLARED))]
    carriers = carriers.groupby("entity_id")["account_id"].nunique()
    out = pd.DataFrame({"entity_id": best.index.astype("string"), "org_id": best["org_id"].astype("string").to_numpy(),
                        "attribution_confidence": conf.to_numpy(),
                        "indicator_accounts": carriers.reindex(best.index).fillna(0).to_numpy(dtype=np.int64)})
    return out[out["attribution_confidence"] >= ATTRIBUTION_MIN_CONFIDENCE].reset_index(drop=True)


def _fuzzy_hits(frame: pd.DataFrame, column: str, targets: list[tuple[str, str]], kind: str) -> pd.DataFrame | None:
    if not targets or len(frame) == 0:
        return None
    tnorm = normalize_name(pd.Series([t for t, _ in targets], dtype="string")).fillna("").tolist()
    tor = [o for _, o in targets]
    uniq = frame[column].astype("string").dropna().unique().tolist()
    if not uniq:
        return None
    sims = process.cdist(uniq, tnorm, scorer=fuzz.token_sort_ratio, workers=1, score_cutoff=90)
    ui, ti = np.nonzero(sims)
    if len(ui) == 0:
        return None
    vmap = pd.DataFrame({column: [uniq[i] for i in ui], "org_id": [tor[j] for j in ti]})
    m = frame.astype({column: "string"}).merge(vmap.astype({column: "string"}), on=column)
    return m.assign(kind=kind)[["account_id", "org_id", "kind"]]


# ----------------------------------------------------------------------------- entities.csv


def entity_scores(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                  organizations: pd.DataFrame | None) -> pd.DataFrame:
    """The contract's entities table: entity_id, n_accounts, org_id, attribution_confidence,
    campaign_score, is_campaign (one row per entity, sorted by entity_id)."""
    behaviour = entity_behaviour(account_entities, norm, feats)
    att = attribute_entities(account_entities, norm, feats, organizations)
    carriers = att.set_index("entity_id")["indicator_accounts"].reindex(behaviour.index.astype("string")).fillna(0).to_numpy()
    behaviour["open_share"] = np.maximum(carriers / behaviour["n_accounts"].to_numpy(dtype=float),
                                         behaviour["org_domain_share"].to_numpy(dtype=float))
    score, flag, cut = campaign_scores(behaviour)
    out = pd.DataFrame({
        "entity_id": behaviour.index.astype("string"),
        "n_accounts": behaviour["n_accounts"].to_numpy(dtype=np.int64),
        "campaign_score": np.round(score, 4),
        "is_campaign": flag.astype(bool),
    })
    out = out.merge(att.drop(columns="indicator_accounts"), on="entity_id", how="left")
    out["attribution_confidence"] = out["attribution_confidence"].fillna(0.0).round(4)
    out["org_id"] = out["org_id"].astype("string")
    out.attrs["campaign_cut"] = cut
    return out[ENTITY_COLUMNS].sort_values("entity_id").reset_index(drop=True)

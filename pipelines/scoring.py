"""Stage 8: per-entity campaign score and a first attribution to organizations.

Campaign score: behaviour features per entity, each turned into a robust z-score against the
population of entities (median and MAD, so a minority of campaigns cannot move the
baseline), squashed to 0..1 and averaged. ``is_campaign`` uses a cut estimated from the
data: the two-group (Otsu) split of the account-weighted score distribution, and never below
the score an entity gets when it is three robust deviations out on a majority of features.

Attribution: organization indicators (e-mail domains, ASNs, CIDRs, legal billing names,
names and aliases) are matched against the entity's accounts; the evidence of each kind is
weighed against the entity's size and against how common the indicator is in the population
(``AttributionSettings``), organizations compete, and entities without indicators of their own
can take an attribution from infrastructure they share with attributed ones. The same rules
(``decide_attributions``) decide the graph's attribution (``pipelines.attribution``), from the
same evidence gathered there by Cypher.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz import fuzz, process

from pipelines.features import AccountFeatures
from pipelines.normalize import NormalizedTables, lookup_networks, normalize_name

ENTITY_COLUMNS = ["entity_id", "n_accounts", "org_id", "attribution_confidence", "campaign_score", "is_campaign"]


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
#
# One definition of the attribution rules, fed by two gatherers of the same evidence:
# ``indicator_hits`` / ``infrastructure_usage`` below read the stage frames (``sybilgraph
# resolve``: entities.csv), and the ``attribution_*`` Cypher statements read the loaded graph
# (``pipelines.attribution.run_attribution``: the pipeline's ATTRIBUTED_TO). Both hand their
# rows to ``decide_attributions``, so without analyst decisions the graph's attribution is
# entities.csv's, entity by entity (tests/test_attribution_graph.py checks it on a real Neo4j).

#: organization indicator kinds matched per account
INDICATOR_KINDS = ("email_domain", "billing_name", "declared_org", "cidr", "asn")
#: indicator kinds by which accounts name their organisation themselves (sybil_factor)
SELF_DECLARED = ("email_domain", "declared_org")
#: shared-infrastructure kinds that carry an attribution to entities without indicators
INFRA_KINDS = ("card", "ip", "template")
#: columns of an indicator hit, whichever gatherer produced it
HIT_COLUMNS = ["entity_id", "account_id", "org_id", "kind", "value", "similarity", "matched"]
#: columns of infrastructure usage: accounts of ``entity_id`` using ``value``, and its size
USAGE_COLUMNS = ["kind", "value", "entity_id", "k", "entity_size"]

# Corporate-form words carry no identity: "Halcyon Research Ltd" and "Halcyon Research
# Limited" are the same legal name, so they are dropped before comparing.
LEGAL_FORM_WORDS = frozenset(
    "ltd limited inc incorporated llc llp lp plc gmbh mbh ag kg sa sas sarl srl spa bv nv pte pty "
    "co corp corporation company companies kk oy ab as aps kft sro zoo sp holdings group the".split()
)
#: shorter comparison keys match too much by chance ("ai", "lab")
MIN_KEY_CHARS = 4
_CDIST_CHUNK_ROWS = 20_000
NAME_MATCH_COLUMNS = ["org_id", "similarity", "matched"]


@dataclass(frozen=True)
class AttributionSettings:
    """The attribution rules' constants (one set, for entities.csv and for the graph).

    Evidence for "entity e belongs to organization o", per indicator kind (natural log-odds):

    * ``K`` of e's ``N_e`` accounts carry a kind-t indicator of o; ``p`` is how common the
      indicator is outside e: (accounts outside e carrying it + 1) / (accounts outside e + 1).
      The evidence is the binomial log-likelihood ratio of K in N_e at rate K/N_e against rate
      p, capped at ``max_kind_logodds``: an indicator on 1 of 200 accounts counts little, an
      ASN half the population uses counts nothing, a lab's own domain on 3 accounts of a
      40-account entity counts a lot.
    * While the indicator does not cover the whole entity (K < N_e) it gives at most
      ``account_logodds * log2(1 + K)``: a coincidence (one member of the organisation caught
      in a big entity) brings one account and usually one kind, never enough alone.
    * Each kind is divided by how many entities share its values: with E = 1 / sum_i (share of
      the value's accounts in entity i)^2 (the effective number of entities using it), weight
      min(1, ``community_entities`` / E). A value spread over many independent entities marks a
      community (a campus NAT or a university domain used by 200 students: E = 200), not an
      operator, and says little about any one of them; a lab's network or domain used by its
      operations (E of 1-3) counts fully, also for their fragments.

    The kinds add up; with ``prior_logodds`` per organization, P(o) = exp(prior + L_o) /
    (1 + sum over organizations exp(prior + L)), so competing organizations dilute each other.
    The best organization is attributed when P >= ``min_confidence``. Entities attributed that
    way with P >= ``min_source_confidence`` (or confirmed by an analyst) then lend their
    organization to entities without an attribution that share their cards, IPs or prompt
    templates (see ``decide_attributions``), which needs at least ``min_infra_kinds`` kinds,
    net of the absence of the organization's indicators (``absence_evidence``).

    Every constant below was set on training draws only (never on held-out seeds >= 11);
    docs/resolution.md lists them with the range over which accuracy does not move.
    """

    #: rapidfuzz ratio (0..1) above which a billing name or declared organization "resembles"
    #: an organization's legal name, alias or name (one typo in a 15-letter name is about 0.93)
    name_similarity: float = 0.86
    #: log-odds that an entity belongs to a given organization before any evidence
    prior_logodds: float = -2.5
    #: no single indicator kind may contribute more than this
    max_kind_logodds: float = 6.0
    #: per log2(1 + accounts) while an indicator does not cover the whole entity
    account_logodds: float = 2.0
    #: an indicator value shared by more entities than this (effective number) counts
    #: proportionally less for each of them
    community_entities: float = 10.0
    #: below this posterior probability an entity stays unattributed
    min_confidence: float = 0.5
    #: log-odds per doubling of shared-infrastructure support, per kind
    infra_weights: dict[str, float] = field(default_factory=lambda: {"card": 3.0, "ip": 1.5, "template": 1.5})
    #: shared infrastructure: at most this per kind, and this in all
    max_infra_kind_logodds: float = 4.0
    max_infra_logodds: float = 6.0
    #: shared infrastructure counts only when this many of its kinds agree (one residential
    #: proxy exit or one public prompt template shared with a campaign is chance)
    min_infra_kinds: int = 2
    #: values used by more accounts than this are generic and never carry an attribution
    max_value_accounts: int = 200
    #: a shared value carries an attribution only if the attributed entity itself uses it with
    #: at least this many accounts (a physical card: one is enough)
    min_source_accounts: dict[str, int] = field(default_factory=lambda: {"card": 1, "ip": 2, "template": 2})
    #: only attributions at least this sure lend their organization to other entities
    min_source_confidence: float = 0.8


def _split_list(value: object) -> list[str]:
    if not isinstance(value, str):
        return []
    return [v.strip() for v in value.split(";") if v.strip()]


# --- fuzzy names (rapidfuzz; Cypher has no fuzzy matcher, so the graph gets these rows too)


def comparison_key(values: pd.Series) -> pd.Series:
    """Normalised (lower case, no accents or punctuation, token-sorted) minus legal-form words
    and single letters (what is left of a punctuated legal form: "B.V." normalises to "b v",
    "BV" to "bv", and both must go)."""
    normalised = normalize_name(values.astype("string"))
    return normalised.map(
        lambda v: " ".join(t for t in v.split() if t not in LEGAL_FORM_WORDS and len(t) > 1) if isinstance(v, str) else v
    ).astype("string")


def organization_name_variants(organizations: pd.DataFrame, columns: Iterable[str]) -> pd.DataFrame:
    """One row per (org_id, raw variant, comparison key) from the given name columns.

    ``name`` is a single value; ``aliases`` and ``billing_names`` are ``;``-separated lists.
    """
    parts = []
    for column in columns:
        if column not in organizations.columns:
            continue
        raw = organizations[column].astype("string").fillna("")
        listed = raw.str.split(";") if column != "name" else raw.map(lambda v: [v])
        parts.append(
            pd.DataFrame({"org_id": organizations["org_id"].astype("string"), "variant": listed})
            .explode("variant")
        )
    if not parts:
        return pd.DataFrame(columns=["org_id", "variant", "key"])
    variants = pd.concat(parts, ignore_index=True)
    variants["variant"] = variants["variant"].astype("string").str.strip()
    variants = variants[variants["variant"].fillna("") != ""].copy()
    variants["key"] = comparison_key(variants["variant"]).to_numpy()
    variants = variants[variants["key"].fillna("").str.len() >= MIN_KEY_CHARS]
    return variants.drop_duplicates(["org_id", "key"]).reset_index(drop=True)


def match_names(values: pd.Series, variants: pd.DataFrame, min_similarity: float) -> pd.DataFrame:
    """Best similarity of each value to each organization whose variants it resembles.

    Returns ``value_index`` (position in ``values``), ``org_id``, ``similarity`` (0..1) and
    ``matched`` (the organization's raw variant). Compared in chunks with ``process.cdist``.
    """
    columns = ["value_index", *NAME_MATCH_COLUMNS]
    keys = comparison_key(values.reset_index(drop=True))
    usable = np.flatnonzero(keys.fillna("").str.len().to_numpy() >= MIN_KEY_CHARS)
    if len(usable) == 0 or variants.empty:
        return pd.DataFrame(columns=columns)
    choices = variants["key"].tolist()
    found = []
    for start in range(0, len(usable), _CDIST_CHUNK_ROWS):
        rows = usable[start:start + _CDIST_CHUNK_ROWS]
        scores = process.cdist(
            keys.iloc[rows].tolist(), choices, scorer=fuzz.ratio,
            score_cutoff=min_similarity * 100.0, dtype=np.float32, workers=1,
        )
        hit_row, hit_col = np.nonzero(scores)
        found.append(
            pd.DataFrame(
                {
                    "value_index": rows[hit_row],
                    "org_id": variants["org_id"].to_numpy()[hit_col],
                    "similarity": scores[hit_row, hit_col].astype(np.float64) / 100.0,
                    "matched": variants["variant"].to_numpy()[hit_col],
                }
            )
        )
    hits = pd.concat(found, ignore_index=True)
    if hits.empty:
        return pd.DataFrame(columns=columns)
    best = hits.sort_values(["value_index", "org_id", "similarity", "matched"], ascending=[True, True, False, True])
    return best.drop_duplicates(["value_index", "org_id"]).reset_index(drop=True)[columns]


def similar_billing_names(
    billing_names_frame: pd.DataFrame, organizations: pd.DataFrame, min_similarity: float = 0.86
) -> pd.DataFrame:
    """Billing names resembling an organization's legal names, aliases or name.

    ``billing_names_frame`` has ``name_norm`` (the normalised billing name, the graph's
    BillingName key); ``organizations`` is the organizations table (raw ``;``-separated lists).
    Returns ``name_norm, org_id, similarity, matched`` (the graph's SIMILAR_BILLING_NAME rows).
    """
    return _similar_names(billing_names_frame, "name_norm", organizations,
                          ["billing_names", "aliases", "name"], min_similarity)


def similar_declared_orgs(
    declared_frame: pd.DataFrame, organizations: pd.DataFrame, min_similarity: float = 0.86
) -> pd.DataFrame:
    """Organizations typed at sign-up (``declared_org``, raw) resembling an organization.

    Returns ``declared_org, org_id, similarity, matched`` (the graph's DECLARED_ORG_MATCHES rows).
    """
    return _similar_names(declared_frame, "declared_org", organizations,
                          ["name", "aliases", "billing_names"], min_similarity)


def _similar_names(frame: pd.DataFrame, column: str, organizations: pd.DataFrame,
                   variant_columns: list[str], min_similarity: float) -> pd.DataFrame:
    """Distinct values of ``column`` matched against the organizations' name variants."""
    variants = organization_name_variants(organizations, variant_columns)
    values = frame[column].astype("string").dropna().drop_duplicates().reset_index(drop=True)
    hits = match_names(values, variants, min_similarity)
    out = hits.assign(**{column: values.to_numpy()[hits["value_index"].to_numpy(dtype=np.int64)]})
    return out[[column, *NAME_MATCH_COLUMNS]].reset_index(drop=True)


# --- the organizations' own indicators, parsed as the graph load and the Cypher statements do


def organization_domains(organizations: pd.DataFrame) -> pd.DataFrame:
    """org_id, domain (lower case): the graph's USES_DOMAIN."""
    rows = [(o, d.lower()) for o, v in zip(organizations["org_id"], organizations["email_domains"]) for d in _split_list(v)]
    return pd.DataFrame(rows, columns=["org_id", "domain"]).drop_duplicates()


def organization_asns(organizations: pd.DataFrame) -> pd.DataFrame:
    """org_id, asn (int): the graph's OWNS_ASN (entries that are all digits)."""
    rows = [(o, int(a)) for o, v in zip(organizations["org_id"], organizations["asns"])
            for a in _split_list(v) if a.isascii() and a.isdigit()]
    return pd.DataFrame(rows, columns=["org_id", "asn"]).drop_duplicates()


def organization_cidrs(organizations: pd.DataFrame) -> pd.DataFrame:
    """org_id, cidr, base, prefix_len for the IPv4 prefixes (attribution_org_networks.cypher:
    IPv6 prefixes are left to the ASN)."""
    rows = []
    for o, v in zip(organizations["org_id"], organizations["cidrs"]):
        for cidr in _split_list(v):
            if "." not in cidr:
                continue
            address, _, length = cidr.partition("/")
            octets = address.split(".")
            try:
                prefix_len = int(length) if length else 32
                parts = [int(p) for p in octets]
            except ValueError:
                continue
            if len(parts) != 4 or not 0 <= prefix_len <= 32:
                continue
            base = ((parts[0] * 256 + parts[1]) * 256 + parts[2]) * 256 + parts[3]
            rows.append((o, cidr, base, prefix_len))
    return pd.DataFrame(rows, columns=["org_id", "cidr", "base", "prefix_len"]).drop_duplicates(["org_id", "cidr"])


def used_ips(norm: NormalizedTables, feats: AccountFeatures) -> pd.DataFrame:
    """account_id, ip: every address an account used (sign-up, log-ins, API), distinct; the
    graph's USED_IP."""
    signup = norm.accounts[["account_id", "signup_ip"]].dropna().rename(columns={"signup_ip": "ip"})
    usage = pd.concat([feats.ip_hours[["account_id", "ip"]], signup], ignore_index=True)
    return usage.astype({"account_id": "string", "ip": "string"}).drop_duplicates().reset_index(drop=True)


def _graph_subnet_asns(ips: pd.Series, networks: pd.DataFrame) -> pd.Series:
    """ASN of each address the way the graph has it: IP -> its /24 Subnet -> ASN, where a
    Subnet carries the ASN of the lowest (as text) used address in it (graph.build_graph_frames
    keeps the first address per subnet of the sorted distinct addresses). Only that first
    address per subnet is looked up (addresses are canonical: the contract checks them)."""
    distinct = pd.Series(np.sort(ips.dropna().unique().astype(str)), dtype=object)
    dotted = distinct.str.fullmatch(r"\d+\.\d+\.\d+\.\d+").to_numpy(dtype=bool)
    # a dotted quad's /24 is its text up to the last dot; other addresses (IPv6) are few
    group = distinct.where(~dotted, distinct.str.rsplit(".", n=1).str[0])
    first = ~group.duplicated().to_numpy() | ~dotted
    info = lookup_networks(pd.Series(distinct[first].to_numpy(), dtype="string"), networks).reset_index(drop=True)
    table = pd.DataFrame({"ip": distinct[first].to_numpy(), "group": group[first].to_numpy(),
                          "subnet": info["subnet"].to_numpy(), "asn": info["asn"].to_numpy()})
    table = table.dropna(subset=["subnet"])
    by_subnet = table.drop_duplicates("subnet").set_index("subnet")["asn"]
    v4 = table[table["ip"].str.contains(".", regex=False)].set_index("group")["subnet"]
    subnet = pd.Series(np.where(dotted, group.map(v4).to_numpy(), None), index=distinct.to_numpy())
    v6 = table[~table["ip"].str.contains(".", regex=False)].set_index("ip")["subnet"]
    subnet = subnet.where(dotted, pd.Series(distinct.to_numpy(), index=distinct.to_numpy()).map(v6))
    return subnet.map(by_subnet).dropna()


def _ipv4_values(ips: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """(text, integer value) of the distinct dotted-quad addresses among ``ips``, parsed as
    attribution_org_networks.cypher parses them (four integers; IPv6 has a ':' and is skipped)."""
    text = pd.Series(ips.dropna().astype(str).unique(), dtype=object)
    parts = text.str.extract(r"^(\d+)\.(\d+)\.(\d+)\.(\d+)$")
    ok = parts.notna().all(axis=1).to_numpy()
    octets = parts[ok].astype(np.int64).to_numpy().reshape(-1, 4)
    values = ((octets[:, 0] * 256 + octets[:, 1]) * 256 + octets[:, 2]) * 256 + octets[:, 3]
    return text.to_numpy()[ok].astype(str), values


def indicator_hits(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                   organizations: pd.DataFrame | None, settings: AttributionSettings | None = None,
                   ips: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every account carrying one of an organization's own indicators (``HIT_COLUMNS``), from
    the stage frames; ``attribution_indicator_hits.cypher`` gives the same rows from the graph.

    ``email_domain``: the account signed up on a listed domain; ``cidr``: it used an IPv4
    address inside a listed prefix (value: the prefix); ``asn``: it used an address whose /24
    belongs to a listed ASN; ``billing_name``: a billing name resembling a legal name, alias or
    name (value: the normalised name); ``declared_org``: the organization it typed at sign-up
    resembles one (value: as typed).
    """
    settings = settings or AttributionSettings()
    if organizations is None or len(organizations) == 0:
        return _empty_hits()
    orgs = organizations.reset_index(drop=True)
    members = account_entities[["account_id", "entity_id"]].astype("string")
    acc = norm.accounts
    parts = []

    domains = organization_domains(orgs)
    if len(domains):
        m = acc[["account_id", "email_domain"]].dropna().astype("string").merge(
            domains.astype("string"), left_on="email_domain", right_on="domain")
        parts.append(m.assign(kind="email_domain", value=m["domain"], similarity=1.0, matched=m["domain"]))

    cidrs, asns = organization_cidrs(orgs), organization_asns(orgs)
    if len(cidrs) or len(asns):
        ips = used_ips(norm, feats) if ips is None else ips
        distinct = ips["ip"].drop_duplicates()
        if len(cidrs):
            text, value = _ipv4_values(distinct)
            found = []
            for row in cidrs.itertuples(index=False):
                block = 1 << (32 - row.prefix_len)
                inside = (value // block) == (row.base // block)
                found.append(pd.DataFrame({"ip": text[inside], "org_id": row.org_id, "value": row.cidr}))
            net = pd.concat(found, ignore_index=True).astype("string")
            m = ips.merge(net, on="ip")
            parts.append(m.assign(kind="cidr", similarity=1.0, matched=m["value"]))
        if len(asns):
            ip_asn = _graph_subnet_asns(distinct, norm.networks).dropna()
            table = pd.DataFrame({"ip": ip_asn.index.astype(str), "asn": ip_asn.to_numpy().astype(np.int64)})
            m = ips.merge(table.astype({"ip": "string"}), on="ip").merge(asns, on="asn")
            value = "AS" + m["asn"].astype(str)
            parts.append(m.assign(kind="asn", value=value, similarity=1.0, matched=value))

    pm = norm.payment_methods[["account_id", "billing_name_norm"]].dropna().astype("string")
    if len(pm):
        similar = similar_billing_names(pm.rename(columns={"billing_name_norm": "name_norm"}), orgs,
                                        settings.name_similarity)
        m = pm.merge(similar.astype({"name_norm": "string"}), left_on="billing_name_norm", right_on="name_norm")
        parts.append(m.assign(kind="billing_name", value=m["name_norm"]))

    declared = acc[["account_id", "declared_org"]].dropna().astype("string")
    declared = declared[declared["declared_org"] != ""]
    if len(declared):
        similar = similar_declared_orgs(declared, orgs, settings.name_similarity)
        m = declared.merge(similar.astype({"declared_org": "string"}), on="declared_org")
        parts.append(m.assign(kind="declared_org", value=m["declared_org"]))

    parts = [p[["account_id", "org_id", "kind", "value", "similarity", "matched"]] for p in parts if len(p)]
    if not parts:
        return _empty_hits()
    hits = pd.concat(parts, ignore_index=True).astype(
        {"account_id": "string", "org_id": "string", "kind": "string", "value": "string", "matched": "string"})
    hits = hits.merge(members, on="account_id")
    return _canonical_hits(hits)


def _empty_hits() -> pd.DataFrame:
    frame = pd.DataFrame({c: pd.array([], dtype="string") for c in HIT_COLUMNS})
    return frame.astype({"similarity": "float64"})


def _canonical_hits(hits: pd.DataFrame) -> pd.DataFrame:
    """One row per (account, organization, kind, value), in a fixed order: the decisions are
    then bit-for-bit the same whichever gatherer produced the rows, in whatever order."""
    if len(hits) == 0:
        return _empty_hits()
    out = hits[HIT_COLUMNS].astype({c: "string" for c in HIT_COLUMNS if c != "similarity"})
    out = out.astype({"similarity": "float64"})
    out = out.sort_values(["entity_id", "org_id", "kind", "value", "account_id", "similarity"],
                          ascending=[True, True, True, True, True, False], kind="stable")
    return out.drop_duplicates(["account_id", "org_id", "kind", "value"]).reset_index(drop=True)


def infrastructure_usage(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                         sources: Iterable[str], settings: AttributionSettings | None = None,
                         ips: pd.DataFrame | None = None) -> pd.DataFrame:
    """``USAGE_COLUMNS``: for every card, IP and prompt template the ``sources`` entities use,
    the accounts of each entity using it (values used by more than ``max_value_accounts``
    accounts left out), from the stage frames; ``attribution_infra_usage.cypher`` gives the
    same rows from the graph. Prompt templates as the graph loads them (used by >= 2 accounts)."""
    from pipelines.graph import MIN_TEMPLATE_ACCOUNTS

    settings = settings or AttributionSettings()
    entity_of = pd.Series(account_entities["entity_id"].astype("string").to_numpy(),
                          index=account_entities["account_id"].astype("string").to_numpy())
    sources = pd.Index(pd.array(list(sources), dtype="string")).unique()
    if len(sources) == 0:
        return _empty_usage()
    source_accounts = entity_of.index[entity_of.isin(sources).to_numpy()]
    pm = norm.payment_methods[["account_id", "card_fingerprint"]].dropna().rename(columns={"card_fingerprint": "value"})
    ips = used_ips(norm, feats) if ips is None else ips
    loaded = feats.templates.loc[feats.templates["n_accounts"] >= MIN_TEMPLATE_ACCOUNTS, "template_id"]
    tpl = feats.account_templates[["account_id", "template_id"]].rename(columns={"template_id": "value"})
    parts = []
    for kind, frame in (("card", pm), ("ip", ips.rename(columns={"ip": "value"})), ("template", tpl)):
        account = frame["account_id"].astype("string")
        value = frame["value"].astype("string")
        used = value[_isin(account, source_accounts)].unique()
        if kind == "template":
            used = used[_isin(pd.Series(used, dtype="string"), loaded)]
        keep = _isin(value, used)
        usage = pd.DataFrame({"account_id": account[keep], "value": value[keep]}).drop_duplicates()
        n = usage.groupby("value", sort=False)["account_id"].transform("size")
        usage = usage[(n <= settings.max_value_accounts).to_numpy()]
        usage["entity_id"] = usage["account_id"].map(entity_of)
        k = usage.dropna(subset=["entity_id"]).groupby(["value", "entity_id"]).size().rename("k").reset_index()
        parts.append(k.assign(kind=kind))
    sizes = entity_of.value_counts()
    out = pd.concat(parts, ignore_index=True)
    out["entity_size"] = out["entity_id"].map(sizes).fillna(0).astype(np.int64)
    return _canonical_usage(out)


def _isin(values: pd.Series, wanted: Iterable[str]) -> np.ndarray:
    """Boolean mask of the strings ``values`` found in ``wanted``, through Arrow (pandas'
    ``isin`` on Arrow strings goes through Python objects: 10x slower at demo size)."""
    array = pa.array(pd.Series(values).astype("string"))
    value_set = pa.array(pd.Series(np.asarray(wanted, dtype=object)).astype("string"))
    return pc.fill_null(pc.is_in(array, value_set=value_set), False).to_numpy(zero_copy_only=False)


def _empty_usage() -> pd.DataFrame:
    return pd.DataFrame({"kind": pd.array([], dtype="string"), "value": pd.array([], dtype="string"),
                         "entity_id": pd.array([], dtype="string"), "k": np.zeros(0, np.int64),
                         "entity_size": np.zeros(0, np.int64)})


def _canonical_usage(usage: pd.DataFrame) -> pd.DataFrame:
    if len(usage) == 0:
        return _empty_usage()
    out = usage[USAGE_COLUMNS].astype({"kind": "string", "value": "string", "entity_id": "string", "k": "int64",
                                       "entity_size": "int64"})
    return out.sort_values(["kind", "value", "entity_id"], kind="stable").reset_index(drop=True)


# --- the rules


@dataclass
class AttributionResult:
    """``attributions``: one row per attributed entity (``ATTRIBUTION_RESULT_COLUMNS``);
    ``candidates``: every (entity, organization) with evidence (``CANDIDATE_COLUMNS``)."""

    attributions: pd.DataFrame
    candidates: pd.DataFrame


ATTRIBUTION_RESULT_COLUMNS = ["entity_id", "org_id", "confidence", "logodds", "method", "evidence", "runner_up",
                              "indicator_accounts"]
CANDIDATE_COLUMNS = ["entity_id", "org_id", "direct_logodds", "direct_evidence", "infra_logodds", "infra_evidence"]


def _binomial_llr(k: np.ndarray, n: np.ndarray, p: np.ndarray) -> np.ndarray:
    """log P(k of n | rate k/n) - log P(k of n | rate p) where the entity's rate k/n exceeds
    the background rate p, else 0 (an entity carrying an indicator less often than everybody
    else is no evidence for the organization)."""
    q = k / n
    with np.errstate(divide="ignore", invalid="ignore"):
        rest = np.where(n > k, (n - k) * (np.log1p(-np.minimum(q, 1 - 1e-12)) - np.log1p(-p)), 0.0)
        return np.where(q > p, k * (np.log(q) - np.log(p)) + rest, 0.0)


def _items(frame: pd.DataFrame, text: pd.Series, keys: list[str], limit: int = 3) -> pd.Series:
    """Per key group: its first ``limit`` texts (in the frame's order) joined, and '; ... N more'."""
    rank = frame.groupby(keys, sort=False).cumcount().to_numpy()
    total = frame.groupby(keys, sort=False)[keys[0]].transform("size").to_numpy()
    shown = rank < limit
    text = pd.Series(np.where((rank == limit - 1) & (total > limit),
                              text.to_numpy(dtype=object) + "; ... " + (total - limit).astype(str) + " more",
                              text.to_numpy(dtype=object)), index=frame.index)
    return text[shown].groupby([frame.loc[shown, k] for k in keys], sort=False).agg("; ".join)


def direct_evidence(hits: pd.DataFrame, entity_sizes: pd.Series, population: int,
                    settings: AttributionSettings | None = None, explain: bool = True) -> pd.DataFrame:
    """Per (entity, organization, kind): accounts ``K``, log-odds and (with ``explain``) the
    evidence in words (``AttributionSettings`` describes the rule)."""
    s = settings or AttributionSettings()
    columns = ["entity_id", "org_id", "kind", "K", "n_kind", "logodds", "evidence"]
    h = _canonical_hits(hits)
    if len(h) == 0:
        return pd.DataFrame(columns=columns)
    keys = ["entity_id", "org_id", "kind"]
    per = h.groupby(keys, sort=True)["account_id"].nunique().rename("K").reset_index()
    n_kind = h.groupby(["org_id", "kind"])["account_id"].nunique().rename("n_kind")
    per = per.join(n_kind, on=["org_id", "kind"])
    size = entity_sizes.astype("int64")
    size.index = size.index.astype("string")
    per["size"] = per["entity_id"].map(size).astype("float64")
    if per["size"].isna().any():
        raise ValueError("entity_sizes lacks entities of the indicator hits")
    K = per["K"].to_numpy(dtype=np.float64)
    Ne = per["size"].to_numpy(dtype=np.float64)
    p = (np.maximum(per["n_kind"].to_numpy(dtype=np.float64) - K, 0.0) + 1.0) / (max(float(population), 1.0) - Ne + 1.0)
    p = np.clip(p, 1e-12, 1.0 - 1e-12)
    llr = np.clip(_binomial_llr(K, Ne, p), 0.0, s.max_kind_logodds)
    llr = np.where(K < Ne, np.minimum(llr, s.account_logodds * np.log2(1.0 + K)), llr)
    # weighted by how few entities share the values (effective number of entities)
    val = h.groupby(["org_id", "kind", "value", "entity_id"], sort=True)["account_id"].nunique().rename("k").reset_index()
    n_val = val.groupby(["org_id", "kind", "value"])["k"].transform("sum").astype(np.float64)
    val["n"] = n_val.astype(np.int64)
    val["conc"] = (val["k"].astype(np.float64) ** 2).groupby([val["org_id"], val["kind"], val["value"]]).transform("sum") / n_val ** 2
    val["wk"] = val["k"] * val["conc"]
    conc = val.groupby(keys)["wk"].sum() / val.groupby(keys)["k"].sum()
    per["conc"] = conc.reindex(pd.MultiIndex.from_frame(per[keys])).to_numpy()
    weight = np.minimum(1.0, s.community_entities * per["conc"].to_numpy())
    per["logodds"] = llr * weight
    if not explain:
        per["evidence"] = ""
        return per[columns]
    # evidence text: per kind, its figures and its most used values
    hv = h.merge(val[["org_id", "kind", "value", "entity_id", "k", "n"]], on=["org_id", "kind", "value", "entity_id"])
    hv = hv.drop_duplicates(["entity_id", "org_id", "kind", "value"]).sort_values(
        ["entity_id", "org_id", "kind", "k", "value"], ascending=[True, True, True, False, True], kind="stable")
    sim = np.where(hv["similarity"] < 1.0, " (similarity " + hv["similarity"].round(2).astype(str) + ")", "")
    item = hv["value"].astype(str) + ": " + hv["k"].astype(str) + " of the " + hv["n"].astype(str) \
        + " accounts with it are here" + sim
    values = _items(hv, pd.Series(item, index=hv.index), keys).reindex(pd.MultiIndex.from_frame(per[keys]))
    head = ("+" + per["logodds"].round(2).astype(str) + " " + per["kind"].astype(str) + ": "
            + per["K"].astype(str) + " of the entity's " + per["size"].astype(np.int64).astype(str) + " accounts ("
            + per["n_kind"].astype(str) + " in all)")
    per["evidence"] = (head + " - " + values.to_numpy()).to_numpy()
    return per[columns]


def infrastructure_evidence(usage: pd.DataFrame, sources: pd.DataFrame, targets: Iterable[str],
                            settings: AttributionSettings | None = None, explain: bool = True) -> pd.DataFrame:
    """Per (entity, organization): log-odds and evidence from cards, IPs and prompt templates
    the entity shares with ``sources`` (entity_id, org_id, confidence), for the ``targets``.

    For a value v of kind t used by k_f accounts of source f (attributed to o with confidence
    c) and k_e accounts of e, among n accounts in all: share = k_f / (n - k_e) (1 when only f
    and e use it), support = sum over v of c * k_e * share^2 (a residential exit used by many
    strangers is mostly not f's: small share, squared). Per kind weight[t] * log2(1 + support),
    at most ``max_infra_kind_logodds``; counted only when ``min_infra_kinds`` kinds give some,
    at most ``max_infra_logodds`` in all. f must use v with ``min_source_accounts[t]`` accounts.
    """
    s = settings or AttributionSettings()
    columns = ["entity_id", "org_id", "infra_logodds", "infra_evidence"]
    u = _canonical_usage(usage)
    targets = pd.Index(pd.array(list(targets), dtype="string")).unique()
    if len(u) == 0 or len(sources) == 0 or len(targets) == 0:
        return pd.DataFrame(columns=columns)
    u["n"] = u.groupby(["kind", "value"])["k"].transform("sum")
    src = sources[["entity_id", "org_id", "confidence"]].astype({"entity_id": "string", "org_id": "string"})
    f = u.merge(src.rename(columns={"entity_id": "source"}), left_on="entity_id", right_on="source")
    f = f[f["k"] >= f["kind"].astype(object).map(s.min_source_accounts).fillna(1).astype(np.int64)]
    f = f.rename(columns={"k": "k_f"})[["kind", "value", "n", "source", "org_id", "confidence", "k_f"]]
    e = u[u["entity_id"].isin(targets)].rename(columns={"k": "k_e"})
    pairs = f.merge(e[["kind", "value", "entity_id", "k_e"]], on=["kind", "value"])
    pairs = pairs[pairs["entity_id"] != pairs["source"]]
    if len(pairs) == 0:
        return pd.DataFrame(columns=columns)
    share = pairs["k_f"].to_numpy(np.float64) / (pairs["n"] - pairs["k_e"]).to_numpy(np.float64)
    pairs["support"] = pairs["confidence"].to_numpy(np.float64) * pairs["k_e"].to_numpy(np.float64) * share ** 2
    pairs = pairs.sort_values(["entity_id", "org_id", "kind", "support", "value", "source"],
                              ascending=[True, True, True, False, True, True], kind="stable")
    keys = ["entity_id", "org_id", "kind"]
    per = pairs.groupby(keys, sort=True)["support"].sum().rename("support").reset_index()
    weight = per["kind"].astype(object).map(s.infra_weights).fillna(0.0).astype(np.float64)
    per["logodds"] = np.minimum(weight * np.log2(1.0 + per["support"]), s.max_infra_kind_logodds)
    per = per[per["logodds"] > 0]
    n_kinds = per.groupby(["entity_id", "org_id"])["kind"].transform("size")
    per = per[n_kinds >= s.min_infra_kinds]
    if len(per) == 0:
        return pd.DataFrame(columns=columns)
    # summed in one fixed order (entity, organization, kind) whether or not words are wanted
    out = per.groupby(["entity_id", "org_id"], sort=True)["logodds"].sum().clip(upper=s.max_infra_logodds) \
        .rename("infra_logodds").reset_index()
    if not explain:
        out["infra_evidence"] = [[] for _ in range(len(out))]
        return out[columns]
    item = (pairs["kind"].astype(str) + " " + pairs["value"].astype(str) + ": " + pairs["k_e"].astype(str)
            + " accounts here, shared with " + pairs["source"].astype(str) + " (" + pairs["n"].astype(str)
            + " accounts use it)")
    items = _items(pairs, pd.Series(item, index=pairs.index), keys).reindex(pd.MultiIndex.from_frame(per[keys]))
    per["text"] = ("+" + per["logodds"].round(2).astype(str) + " " + items.to_numpy()).to_numpy()
    per = per.sort_values(["entity_id", "org_id", "logodds", "kind"], ascending=[True, True, False, True], kind="stable")
    texts = per.groupby(["entity_id", "org_id"], sort=True)["text"].agg(list)
    out["infra_evidence"] = texts.reindex(pd.MultiIndex.from_frame(out[["entity_id", "org_id"]])).to_numpy()
    return out[columns]


def absence_evidence(hits: pd.DataFrame, entity_sizes: pd.Series, sources: pd.DataFrame,
                     candidates: pd.DataFrame, population: int) -> pd.DataFrame:
    """Per candidate (entity, organization) of the shared-infrastructure round: log-odds <= 0
    from how few of the entity's accounts carry the organization's indicators, against the
    share its attributed entities (``sources``) carry. An operation that puts its shell
    companies' names on half its accounts does not run 300 accounts without one: sharing its
    proxy provider and a few look-alike scripts makes such an entity a neighbour, not a part.

    Binomial: K of the entity's N accounts carry an indicator of o, at o's sources' rate r
    against the rate p0 of accounts outside them; min(0, LLR). A fragment of five accounts of
    an operation whose accounts carry a clue one time in five loses about one unit."""
    columns = ["entity_id", "org_id", "absence_logodds", "absence_evidence"]
    if len(candidates) == 0 or len(sources) == 0:
        return pd.DataFrame(columns=columns)
    h = _canonical_hits(hits).drop_duplicates(["account_id", "org_id"])[["entity_id", "account_id", "org_id"]]
    size = entity_sizes.astype("int64")
    size.index = size.index.astype("string")
    src = sources[["entity_id", "org_id"]].astype("string").drop_duplicates()
    src_size = src.assign(n=src["entity_id"].map(size).fillna(0).astype(np.float64)).groupby("org_id")["n"].sum()
    src_hits = h.merge(src, on=["entity_id", "org_id"]).groupby("org_id")["account_id"].nunique().reindex(src_size.index).fillna(0)
    all_hits = h.groupby("org_id")["account_id"].nunique().reindex(src_size.index).fillna(0)
    rate = (src_hits + 0.5) / (src_size + 1.0)
    base = (all_hits - src_hits + 0.5) / (max(float(population), 1.0) - src_size + 1.0)
    own = h.groupby(["entity_id", "org_id"])["account_id"].nunique()
    c = candidates[["entity_id", "org_id"]].astype("string").drop_duplicates().reset_index(drop=True)
    k = own.reindex(pd.MultiIndex.from_frame(c)).fillna(0).to_numpy(dtype=np.float64)
    n = c["entity_id"].map(size).fillna(0).to_numpy(dtype=np.float64)
    r = np.clip(c["org_id"].map(rate).to_numpy(dtype=np.float64), 1e-6, 1 - 1e-6)
    p0 = np.clip(c["org_id"].map(base).to_numpy(dtype=np.float64), 1e-6, 1 - 1e-6)
    llr = np.minimum(k * np.log(r / p0) + (n - k) * np.log((1 - r) / (1 - p0)), 0.0)
    c["absence_logodds"] = llr
    c["absence_evidence"] = [
        f"{v:+.2f} absence: {int(kk)} of the entity's {int(nn)} accounts carry the organization's indicators "
        f"(its attributed entities: {rr:.0%} of their accounts)" for v, kk, nn, rr in zip(llr, k, n, r)]
    return c[columns]


def _with_absence(infra: pd.DataFrame, absence: pd.DataFrame, explain: bool) -> pd.DataFrame:
    """Shared-infrastructure log-odds net of the absence of the organization's indicators."""
    if len(infra) == 0 or len(absence) == 0:
        return infra
    out = infra.merge(absence, on=["entity_id", "org_id"], how="left")
    penalty = out["absence_logodds"].astype("float64").fillna(0.0)
    out["infra_logodds"] = out["infra_logodds"].astype("float64") + penalty
    if explain:
        out["infra_evidence"] = [list(ev) + ([text] if p < 0 else []) for ev, text, p in
                                 zip(out["infra_evidence"], out["absence_evidence"], penalty)]
    return out.drop(columns=["absence_logodds", "absence_evidence"])


def _pick(scores: pd.DataFrame, settings: AttributionSettings) -> pd.DataFrame:
    """Per entity, over its candidate organizations: the best, its posterior probability
    (organizations and 'none' compete) and the runner-up. ``scores``: entity_id, org_id, L."""
    sc = scores.copy()
    sc["lo"] = settings.prior_logodds + sc["L"].to_numpy(np.float64)
    sc = sc.sort_values(["entity_id", "lo", "org_id"], ascending=[True, False, True], kind="stable")
    top = sc.groupby("entity_id", sort=False)["lo"].transform("max").clip(lower=0.0)
    weight = np.exp(sc["lo"] - top)
    denominator = weight.groupby(sc["entity_id"], sort=False).transform("sum") + np.exp(-top)
    sc["confidence"] = weight / denominator
    rank = sc.groupby("entity_id", sort=False).cumcount()
    best = sc[rank == 0].set_index("entity_id")
    second = sc[rank == 1].set_index("entity_id")
    best["runner_up"] = (second["org_id"].astype(str) + " (log-odds " + second["lo"].round(2).astype(str) + ")"
                         ).reindex(best.index)
    return best


def decide_attributions(
    hits: pd.DataFrame,
    entity_sizes: pd.Series,
    population: int,
    settings: AttributionSettings | None = None,
    infrastructure: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    confirmed: pd.DataFrame | None = None,
    rejected: pd.DataFrame | None = None,
    explain: bool = True,
) -> AttributionResult:
    """The attribution rules, whoever gathered the evidence.

    ``hits``: ``HIT_COLUMNS`` (``indicator_hits`` or the graph's); ``entity_sizes``: accounts
    per entity (at least those in ``hits``); ``population``: accounts in all;
    ``infrastructure(sources)``: ``USAGE_COLUMNS`` rows for the values the source entities use
    (with each using entity's size)
    (``infrastructure_usage`` or the graph's); ``confirmed`` / ``rejected``: analyst decisions
    (entity_id, org_id; CONFIRMED_ORG / NOT_ORG); ``explain``: build the evidence in words
    (the graph stores it; entities.csv has no room for it). The figures never depend on it.

    1. Direct evidence per (entity, organization): ``direct_evidence``.
    2. Each entity's best organization (rejected ones are never candidates; confirmed
       entities keep the analyst's organization and are not scored) when its posterior
       probability reaches ``min_confidence``.
    3. Entities attributed with ``min_source_confidence`` or more, and confirmed ones, lend
       their organization through shared infrastructure (``infrastructure_evidence``) to the
       entities step 2 left unattributed, which are then decided again on direct plus shared
       evidence.
    Confidence is the posterior probability, rounded to 4 places (entities.csv's precision).
    """
    s = settings or AttributionSettings()
    confirmed = _decision_pairs(confirmed)
    rejected = _decision_pairs(rejected)
    direct = direct_evidence(hits, entity_sizes, population, s, explain)
    keys = ["entity_id", "org_id"]
    if len(direct):
        cand = direct.groupby(keys, sort=True).agg(direct_logodds=("logodds", "sum")).reset_index()
        if explain:
            texts = direct.sort_values(keys + ["logodds", "kind"], ascending=[True, True, False, True], kind="stable") \
                .groupby(keys, sort=True)["evidence"].agg(list).rename("direct_evidence").reset_index()
            cand = cand.merge(texts, on=keys)
        else:
            cand["direct_evidence"] = [[] for _ in range(len(cand))]
    else:
        cand = pd.DataFrame(columns=keys + ["direct_logodds", "direct_evidence"])
    cand = cand.astype({"entity_id": "string", "org_id": "string"})
    confirmed_entities = set(confirmed["entity_id"])
    rejected_pairs = set(zip(rejected["entity_id"], rejected["org_id"]))

    def decidable(frame: pd.DataFrame) -> pd.DataFrame:
        keep = [(e not in confirmed_entities) and ((e, o) not in rejected_pairs)
                for e, o in zip(frame["entity_id"], frame["org_id"])]
        return frame[np.asarray(keep, dtype=bool)] if len(frame) else frame

    first = decidable(cand)
    best = _pick(first.assign(L=first["direct_logodds"]), s) if len(first) else _pick_empty()
    attributed = best[best["confidence"] >= s.min_confidence]

    infra = pd.DataFrame(columns=["entity_id", "org_id", "infra_logodds", "infra_evidence"])
    if infrastructure is not None:
        sources = pd.concat([
            attributed.loc[attributed["confidence"] >= s.min_source_confidence, ["org_id", "confidence"]]
            .reset_index(),
            confirmed.assign(confidence=1.0),
        ], ignore_index=True).astype({"entity_id": "string", "org_id": "string"})
        if len(sources):
            usage = infrastructure(sources)
            done = set(attributed.index) | confirmed_entities
            targets = sorted(set(usage["entity_id"].astype(str)) - done) if len(usage) else []
            infra = infrastructure_evidence(usage, sources, targets, s, explain)
            infra = decidable(infra.astype({"entity_id": "string", "org_id": "string"}))
            # the targets' sizes come with their usage (the graph's hits name only entities with indicators)
            users = usage.drop_duplicates("entity_id")
            known_sizes = pd.concat([entity_sizes.rename(index=str), pd.Series(
                users["entity_size"].to_numpy(), index=users["entity_id"].astype(str).to_numpy())])
            known_sizes = known_sizes[~known_sizes.index.duplicated()]
            infra = _with_absence(infra, absence_evidence(hits, known_sizes, sources, infra, population), explain)
    cand = cand.merge(infra, on=keys, how="outer")
    cand["direct_logodds"] = cand["direct_logodds"].astype("float64").fillna(0.0)
    cand["infra_logodds"] = cand["infra_logodds"].astype("float64").fillna(0.0)
    for column in ("direct_evidence", "infra_evidence"):
        cand[column] = [v if isinstance(v, list) else [] for v in cand[column]]
    cand = cand.sort_values(keys, kind="stable").reset_index(drop=True)

    second_round = cand[cand["entity_id"].isin(set(infra["entity_id"])) & ~cand["entity_id"].isin(set(attributed.index))]
    second_round = decidable(second_round)
    if len(second_round):
        more = _pick(second_round.assign(L=second_round["direct_logodds"] + second_round["infra_logodds"]), s)
        more = more[more["confidence"] >= s.min_confidence]
        attributed = pd.concat([attributed, more])
    result = attributed.reset_index()[["entity_id", "org_id", "confidence", "lo", "runner_up"]]
    result = result.merge(cand, on=keys, how="left")
    result["method"] = np.where(
        (result["infra_logodds"] > 0) & (result["direct_logodds"] > 0), "indicators+infrastructure",
        np.where(result["infra_logodds"] > 0, "infrastructure", "indicators"))
    result["evidence"] = [d + i for d, i in zip(result["direct_evidence"], result["infra_evidence"])]
    result["confidence"] = result["confidence"].astype(np.float64).round(4)
    result["logodds"] = result["lo"].astype(np.float64).round(4)
    # accounts carrying what the winning organization's members would say about themselves
    h = _canonical_hits(hits)
    own = h[h["kind"].isin(list(SELF_DECLARED))].merge(result[keys], on=keys)
    carriers = own.groupby("entity_id")["account_id"].nunique()
    result["indicator_accounts"] = result["entity_id"].map(carriers).fillna(0).astype(np.int64)
    result["runner_up"] = result["runner_up"].astype(object).where(result["runner_up"].notna(), None)
    result = result.sort_values("entity_id", kind="stable").reset_index(drop=True)
    cand["direct_logodds"] = cand["direct_logodds"].round(4)
    cand["infra_logodds"] = cand["infra_logodds"].round(4)
    return AttributionResult(attributions=result[ATTRIBUTION_RESULT_COLUMNS], candidates=cand[CANDIDATE_COLUMNS])


def _pick_empty() -> pd.DataFrame:
    return pd.DataFrame(columns=["org_id", "L", "lo", "confidence", "runner_up"],
                        index=pd.Index([], dtype="string", name="entity_id"))


def _decision_pairs(decisions: pd.DataFrame | None) -> pd.DataFrame:
    if decisions is None or len(decisions) == 0:
        return pd.DataFrame({"entity_id": pd.array([], dtype="string"), "org_id": pd.array([], dtype="string")})
    return decisions[["entity_id", "org_id"]].astype("string").drop_duplicates().reset_index(drop=True)


def attribute_entities(account_entities: pd.DataFrame, norm: NormalizedTables, feats: AccountFeatures,
                       organizations: pd.DataFrame | None,
                       settings: AttributionSettings | None = None) -> pd.DataFrame:
    """entity_id, org_id, attribution_confidence, indicator_accounts (attributed entities
    only): ``decide_attributions`` on the evidence of the stage frames."""
    settings = settings or AttributionSettings()
    empty = pd.DataFrame({"entity_id": pd.array([], dtype="string"), "org_id": pd.array([], dtype="string"),
                          "attribution_confidence": np.zeros(0), "indicator_accounts": np.zeros(0, np.int64)})
    if organizations is None or len(organizations) == 0:
        return empty
    ips = used_ips(norm, feats)
    hits = indicator_hits(account_entities, norm, feats, organizations, settings, ips=ips)
    if len(hits) == 0:
        return empty
    sizes = account_entities.groupby(account_entities["entity_id"].astype("string")).size()
    result = decide_attributions(
        hits, sizes, len(account_entities), settings,
        infrastructure=lambda sources: infrastructure_usage(account_entities, norm, feats, sources["entity_id"],
                                                            settings, ips=ips),
        explain=False,
    )
    att = result.attributions
    return pd.DataFrame({"entity_id": att["entity_id"].astype("string"), "org_id": att["org_id"].astype("string"),
                         "attribution_confidence": att["confidence"].to_numpy(dtype=np.float64),
                         "indicator_accounts": att["indicator_accounts"].to_numpy(dtype=np.int64)})


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

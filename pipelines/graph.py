"""Stage 6: load the evidence graph and the entities into Neo4j.

Two halves. ``build_graph_frames`` turns the stage frames into one row frame per load
statement in ``graph_schema/load/`` (pure pandas, unit-testable without a server).
``load_graph`` makes the graph hold exactly those rows, sending ``UNWIND $rows`` batches:

* incremental by default: a snapshot (keys and a content hash per row) of the last complete
  load is kept next to the pipeline state, and a marker node ``(:GraphLoad)`` in the graph
  names the frames it holds; when both agree, only new and changed rows are written and
  vanished ones deleted, so a daily run with little new data writes little;
* otherwise (no snapshot, marker missing or different: graph wiped, edited, loaded by another
  state folder or interrupted; load format changed) a full load: derived nodes and
  relationships are removed and every row written again. Both paths give the same graph;
* loading the same frames twice writes nothing (the marker already names them);
* analyst decisions are never touched, nor are the nodes they hang on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
from neo4j import Driver
from neo4j.exceptions import ServiceUnavailable, SessionExpired, TransientError

from pipelines.neo4j_client import load_cypher
from pipelines.normalize import NormalizedTables, lookup_networks, parse_user_agent

# Order matters: nodes a statement MATCHes must exist before it runs.
LOAD_ORDER: list[str] = [
    "organizations",
    "org_owns_asn",
    "org_uses_domain",
    "networks",
    "ips",
    "accounts",
    "email_domains",
    "account_email_domain",
    "cards",
    "card_bins",
    "billing_names",
    "payment_methods",
    "account_used_ip",
    "user_agents",
    "account_used_client",
    "prompt_templates",
    "account_used_template",
    "entities",
    "resolved_to",
    "links",
]
DEFAULT_BATCH_ROWS = 10_000
# Smaller transactions for statements that store many properties per row: ~29 per Account.
# On a warm server (2026-11-30 12:05 UTC, two sessions, 2-5 rounds each) the accounts statement used
# 6.4-8.4 s of JVM CPU at 1,000-2,500 rows against 8.7-12.5 s at 10,000, wall 5.4-6.4 s
# against 6.4-9.5 s (docs/benchmarks.md, Neo4j load: findings and history). A cap: a smaller
# batch_rows still wins.
STATEMENT_BATCH_ROWS: dict[str, int] = {"accounts": 2_500}
MIN_TEMPLATE_ACCOUNTS = 2  # templates used by fewer accounts are not loaded as nodes
# Statements whose batches touch disjoint nodes only (a MERGE on a unique key, no
# relationship to a shared node): their batches may run in parallel sessions without lock
# waits or deadlocks. Relationship statements have their own rules (the two settings below).
PARALLEL_STATEMENTS = frozenset({
    "organizations", "email_domains", "cards", "card_bins", "billing_names", "user_agents",
    "prompt_templates", "accounts", "entities",
})
DEFAULT_WORKERS = 2  # one per core of the 2-core reference machine
# Relationship statements in parallel too, their rows sorted by start node so that two
# batches in flight share no start node (end nodes such as a popular template may still be
# shared: the driver retries a deadlocked transaction). Measured on a warm server, demo:
# USED_TEMPLATE 12 s instead of 19 s, LINKED 10-11 s instead of 15 s, same JVM CPU
# (docs/benchmarks.md, Neo4j load: findings and history).
PARALLEL_RELATIONSHIPS = True
# An incremental load MERGEs the relationships that changed (a new count on USED_TEMPLATE, a
# new score on LINKED), and a MERGE may lock both end nodes. Two sessions deadlocked on the
# popular ends (a template or client many accounts share) in every daily load, each retried by
# the driver after a ~1 s back-off with a warning in the run's log; those merges run in one
# session. Measured on the demo day's incremental load, warm server, six loads each way (s, one
# session against two): USED_TEMPLATE 1.2-2.0 vs 2.2-3.4, USED_CLIENT 0.4-0.8 vs 1.4-1.8, but
# LINKED 3.7-4.5 vs 2.2-3.4 and USED_IP 0.9-1.5 vs 0.6-1.0 (no deadlock), so those stay in two.
SERIAL_MERGES = frozenset({"account_used_template", "account_used_client"})

_ACCOUNT_PROPS = [
    "email_norm", "email_domain", "display_name", "declared_org", "country",
    "signup_ip", "signup_user_agent",
]
_BEHAVIOUR_PROPS = [
    "n_exchanges", "n_templates", "share_coding", "share_reasoning", "share_tool_use", "share_cot",
    "share_datacenter", "share_residential", "share_vpn", "night_share", "active_days",
]


@dataclass
class LoadReport:
    rows_sent: dict[str, int] = field(default_factory=dict)
    seconds_by: dict[str, float] = field(default_factory=dict)  # statement -> seconds (for bench/)
    seconds: float = 0.0
    load_token: str = ""  # carried by every Account and PaymentMethod: the load format (``load_format``)
    frames_token: str = ""  # content hash of the frames, on the graph's load marker
    mode: str = ""  # "full", "incremental" or "unchanged"
    full_reason: str = ""  # why not incremental
    stale_deleted: int = 0

    @property
    def total_rows(self) -> int:
        return sum(self.rows_sent.values())


# ----------------------------------------------------------------------------- frames


def _epoch_hours(ts: pd.Series) -> pd.Series:
    """Whole hours since the epoch, the resolution of IP co-occurrence."""
    values = pd.to_datetime(ts, utc=True)
    return ((values - pd.Timestamp(0, tz="UTC")) // pd.Timedelta(hours=1)).astype(np.int64)


def _epoch_us(ts: pd.Series) -> pd.Series:
    """Microseconds since the epoch (NaT -> NA). Timestamps travel as integers and become
    DATETIME in the load statement (``datetime({epochSeconds, nanosecond, timezone: 'UTC'})``,
    the same value the driver would store for a UTC ``datetime``): the driver spends ~70 µs
    of Python per datetime parameter, which made it the largest client-side cost of a load."""
    values = pd.to_datetime(ts, utc=True).dt.as_unit("us")
    return pd.Series(values.astype("int64"), index=ts.index).astype("Int64").where(values.notna(), pd.NA)


WEEK_PROPS = ["week_starts", "week_n", "week_coding", "week_reasoning", "week_tool_use", "week_cot"]


def weekly_arrays(weekly: pd.DataFrame) -> pd.DataFrame:
    """Per account, aligned lists (weeks ascending) of exchanges per week, in total and per
    task: a few dozen numbers per account instead of a node per account-week."""
    if weekly.empty:
        return pd.DataFrame(columns=WEEK_PROPS, index=pd.Index([], name="account_id"))
    ordered = weekly.sort_values(["account_id", "week"])
    account = ordered["account_id"]
    # the rows of an account are contiguous: each column becomes an Arrow list array cut at
    # the account boundaries (no Python call per account)
    codes = pd.factorize(account, sort=False)[0]
    bounds = np.flatnonzero(codes[1:] != codes[:-1]) + 1
    index = pd.Index(account.iloc[np.r_[0, bounds]], name="account_id")
    offsets = pa.array(np.r_[0, bounds, len(ordered)], type=pa.int64())

    def lists(values: np.ndarray) -> list[list]:
        return pa.LargeListArray.from_arrays(offsets, pa.array(values)).to_pylist()

    out = pd.DataFrame({"week_starts": lists(ordered["week"].astype(str).to_numpy(dtype=object))}, index=index)
    for prop, column in zip(WEEK_PROPS[1:], ["n", "n_coding", "n_reasoning", "n_tool_use", "n_cot"]):
        out[prop] = lists(ordered[column].to_numpy(dtype=np.int64))
    return out


def template_tasks(templates: pd.DataFrame) -> pd.Series:
    """template_id -> its first matching task (coding, reasoning, tool_use, cot) or None,
    from the template's example prompt with the features stage's task flags."""
    from pipelines.features import FLAG_NAMES, task_flags

    example = pa.array(templates["example"].astype("string").fillna(""), type=pa.large_string())
    if isinstance(example, pa.ChunkedArray):  # a frame read back from multi-row-group Parquet
        example = example.combine_chunks()
    flags = task_flags(example)  # the signatures' flags without their hashing
    task = np.full(len(templates), None, dtype=object)
    for bit in reversed(range(len(FLAG_NAMES))):  # the first category wins
        task[(flags >> np.uint8(bit)) & np.uint8(1) > 0] = FLAG_NAMES[bit]
    return pd.Series(task, index=templates["template_id"].astype(str).to_numpy())


# an evidence item's kind in links.csv's JSON text (a kind is an identifier: no quote, no escape)
EVIDENCE_KIND = re.compile(r'"kind":\s*"([^"\\]*)"')


def evidence_kinds(evidence: pd.Series) -> list[list[str]]:
    """Per evidence JSON list, its distinct kinds sorted (``LINKED.kinds``, what the
    Browser's filters use): a regex over the text, not a JSON parse of every item."""
    return [sorted(set(EVIDENCE_KIND.findall(text))) for text in evidence.astype("string").fillna("[]")]


def _split_list(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.split(";").map(lambda xs: [x.strip() for x in xs if x.strip()])


def _props(frame: pd.DataFrame, keys: list[str], prop_cols: list[str]) -> pd.DataFrame:
    """Frame of key columns plus a ``props`` column of maps (only the columns present)."""
    cols = [c for c in prop_cols if c in frame.columns]
    # column by column to plain Python values (None where missing), then one dict per row:
    # `to_dict("records")` boxed each of the accounts' ~3M values through pandas one by one
    values = [frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in cols]
    out = frame[keys].copy()
    out["props"] = [dict(zip(cols, row)) for row in zip(*values)] if cols else [{} for _ in range(len(frame))]
    return out


def build_graph_frames(
    norm: NormalizedTables,
    account_features: pd.DataFrame,
    account_templates: pd.DataFrame,
    templates: pd.DataFrame,
    ip_hours: pd.DataFrame,
    weekly_activity: pd.DataFrame,
    links: pd.DataFrame,
    account_entities: pd.DataFrame,
    entities: pd.DataFrame,
) -> dict[str, pd.DataFrame]:
    """One row frame per statement of ``LOAD_ORDER``, keyed by statement name."""
    frames: dict[str, pd.DataFrame] = {}

    orgs = norm.organizations
    frames["organizations"] = orgs[["org_id", "name", "aliases", "email_domains", "asns", "cidrs", "billing_names"]]
    org_asns = orgs[["org_id"]].assign(asn=_split_list(orgs["asns"])).explode("asn").dropna(subset=["asn"])
    org_asns = org_asns[org_asns["asn"].astype(str).str.fullmatch(r"\d+")]
    # the AS name from the reference networks, so an ASN reads the same whether a used subnet
    # or only an organization leads to it (and an incremental load equals a full one)
    as_names = norm.networks.dropna(subset=["asn"]).drop_duplicates("asn").set_index("asn")["as_name"]
    org_asns = org_asns.assign(asn=org_asns["asn"].astype(np.int64))
    frames["org_owns_asn"] = org_asns.assign(as_name=org_asns["asn"].map(as_names))
    org_domains = orgs[["org_id"]].assign(domain=_split_list(orgs["email_domains"])).explode("domain")
    frames["org_uses_domain"] = org_domains.dropna(subset=["domain"]).assign(
        domain=lambda f: f["domain"].str.lower()
    )

    # --- addresses: every IP an account used (logins, API calls, sign-up)
    usage = ip_hours[["account_id", "ip", "hour"]]
    signup = norm.accounts[["account_id", "signup_ip", "created_at"]].dropna(subset=["signup_ip"])
    signup_hours = pd.DataFrame(
        {
            "account_id": signup["account_id"],
            "ip": signup["signup_ip"],
            "hour": _epoch_hours(signup["created_at"]),
        }
    )
    usage = pd.concat([usage, signup_hours], ignore_index=True).drop_duplicates()
    used_ip = (
        usage.groupby(["account_id", "ip"], observed=True)["hour"]
        .agg(first_hour="min", last_hour="max", n_events="size")
        .reset_index()
    )
    used_ip["first_seen_us"] = used_ip["first_hour"].astype(np.int64) * 3_600_000_000
    used_ip["last_seen_us"] = used_ip["last_hour"].astype(np.int64) * 3_600_000_000
    frames["account_used_ip"] = used_ip[["account_id", "ip", "first_seen_us", "last_seen_us", "n_events"]]

    ip_degree = used_ip.groupby("ip", observed=True).size().rename("n_accounts")
    ips = pd.DataFrame({"ip": ip_degree.index.astype("string")})
    info = lookup_networks(ips["ip"], norm.networks).reset_index(drop=True)
    ips = pd.concat([ips, info[["subnet", "asn", "as_name", "network_type"]]], axis=1)
    ips["n_accounts"] = ip_degree.to_numpy()
    ips = ips.dropna(subset=["subnet"])
    frames["networks"] = ips.drop_duplicates("subnet")[["subnet", "asn", "as_name", "network_type"]]
    frames["ips"] = ips[["ip", "subnet", "network_type", "n_accounts"]]

    # --- accounts with their behaviour summary
    acc = norm.accounts.copy()
    acc["created_at_us"] = _epoch_us(acc["created_at"])
    acc = acc.join(weekly_arrays(weekly_activity), on="account_id")
    feats = account_features.set_index("account_id")
    behaviour = feats[[c for c in _BEHAVIOUR_PROPS if c in feats.columns]]
    acc = acc.join(behaviour, on="account_id")
    for prop, column in (("first_seen_us", "first_ts_us"), ("last_seen_us", "last_ts_us")):
        us = pd.array(feats[column].reindex(acc["account_id"]).to_numpy(), dtype="Int64")
        acc[prop] = pd.Series(us, index=acc.index).where(pd.Series(us, index=acc.index) > 0, pd.NA)
    frames["accounts"] = _props(
        acc, ["account_id", "created_at_us", "first_seen_us", "last_seen_us"],
        _ACCOUNT_PROPS + _BEHAVIOUR_PROPS + WEEK_PROPS,
    )

    domains = acc.dropna(subset=["email_domain"])
    frames["account_email_domain"] = domains[["account_id", "email_domain"]].rename(columns={"email_domain": "domain"})
    account_domains = (
        domains.groupby("email_domain", observed=True)
        .agg(n_accounts=("account_id", "nunique"), is_freemail=("email_freemail", "first"),
             is_disposable=("email_disposable", "first"))
        .reset_index()
        .rename(columns={"email_domain": "domain"})
    )
    # An organization's domain nobody signs up with is a node too (USES_DOMAIN), without
    # counts: listed here so that an incremental load keeps it when its last account goes.
    org_only = frames["org_uses_domain"][["domain"]].drop_duplicates()
    org_only = org_only[~org_only["domain"].isin(account_domains["domain"].astype(str))]
    frames["email_domains"] = pd.concat([account_domains, org_only], ignore_index=True).astype(
        {"n_accounts": "Int64"})

    pm = norm.payment_methods.copy()
    pm["added_at_us"] = _epoch_us(pm["added_at"])
    for statement, column in (("cards", "card_fingerprint"), ("card_bins", "card_bin"), ("billing_names", "billing_name_norm")):
        frames[statement] = (
            pm.dropna(subset=[column]).groupby(column, observed=True)["account_id"].nunique()
            .rename("n_accounts").reset_index()
        )
    frames["payment_methods"] = _props(
        pm,
        ["payment_method_id", "account_id", "card_fingerprint", "card_bin", "billing_name_norm", "added_at_us"],
        ["card_bin", "card_last4", "card_exp", "billing_name", "billing_country", "billing_postcode"],
    )

    # --- clients: API traffic and log-ins, one row per (account, user agent)
    ua_rows = pd.concat(
        [
            norm.exchanges[["account_id", "ts", "user_agent"]],
            norm.ip_events[["account_id", "ts", "user_agent"]],
        ],
        ignore_index=True,
    ).dropna(subset=["user_agent"])
    used_client = (
        ua_rows.groupby(["account_id", "user_agent"], observed=True)["ts"]
        .agg(first_seen_us="min", last_seen_us="max", n="size")
        .reset_index()
        .rename(columns={"user_agent": "ua"})
    )
    used_client["first_seen_us"] = _epoch_us(used_client["first_seen_us"])
    used_client["last_seen_us"] = _epoch_us(used_client["last_seen_us"])
    frames["account_used_client"] = used_client
    agents = used_client.groupby("ua", observed=True).size().rename("n_accounts").reset_index()
    parsed = parse_user_agent(agents["ua"].astype("string")).reset_index(drop=True)
    agents["family"] = parsed["ua_family"].to_numpy()
    agents["version"] = parsed["ua_version"].to_numpy()
    frames["user_agents"] = agents

    # A template one account alone uses ties nobody together: it stays counted on the Account
    # (n_templates) but gets no node. On demo that is 85% of the templates and 23% of the load.
    shared = templates[templates["n_accounts"] >= MIN_TEMPLATE_ACCOUNTS]
    tmpl = shared[["template_id", "example", "n_accounts", "n_exchanges"]].copy()
    tmpl["task"] = template_tasks(shared).to_numpy()
    frames["prompt_templates"] = tmpl
    used = account_templates[account_templates["template_id"].isin(shared["template_id"])]
    frames["account_used_template"] = used[["account_id", "template_id", "n"]]

    # --- entities and memberships
    ent = entities.copy()
    n_ex = (
        account_entities.join(feats["n_exchanges"], on="account_id")
        .groupby("entity_id", observed=True)["n_exchanges"].sum()
    )
    ent["n_exchanges"] = ent["entity_id"].map(n_ex).fillna(0).astype(np.int64)
    frames["entities"] = _props(
        ent,
        ["entity_id"],
        # attribution lives in ATTRIBUTED_TO, written by the attribution stage; a copy of the
        # first guess here would contradict it in the Browser
        ["n_accounts", "campaign_score", "is_campaign", "n_exchanges"],
    )
    frames["resolved_to"] = account_entities[["account_id", "entity_id"]]

    lk = links[["account_a", "account_b", "score", "evidence"]].copy()
    lk["kinds"] = evidence_kinds(lk["evidence"])
    frames["links"] = lk
    return frames


def frames_token(frames: dict[str, pd.DataFrame], hashes: dict[str, pd.Series] | None = None) -> str:
    """Content hash of the row frames (from ``row_hashes``, passed in when already computed):
    same data, same token, so loading the same frames again writes nothing."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(name.encode())
        digest.update(str(len(frame)).encode())
        digest.update((hashes[name] if hashes and name in hashes else row_hashes(frame)).to_numpy().tobytes())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- incremental

# The identity of what each statement writes: the node's unique key, or the relationship's
# two endpoint keys. Incremental loads compare rows by these columns.
ROW_KEYS: dict[str, list[str]] = {
    "organizations": ["org_id"],
    "org_owns_asn": ["org_id", "asn"],
    "org_uses_domain": ["org_id", "domain"],
    "networks": ["subnet"],
    "ips": ["ip"],
    "accounts": ["account_id"],
    "email_domains": ["domain"],
    "account_email_domain": ["account_id", "domain"],
    "cards": ["card_fingerprint"],
    "card_bins": ["card_bin"],
    "billing_names": ["billing_name_norm"],
    "payment_methods": ["payment_method_id"],
    "account_used_ip": ["account_id", "ip"],
    "user_agents": ["ua"],
    "account_used_client": ["account_id", "ua"],
    "prompt_templates": ["template_id"],
    "account_used_template": ["account_id", "template_id"],
    "entities": ["entity_id"],
    "resolved_to": ["account_id", "entity_id"],
    "links": ["account_a", "account_b"],
}
RELATIONSHIP_STATEMENTS = frozenset({
    "org_owns_asn", "org_uses_domain", "account_email_domain", "account_used_ip",
    "account_used_client", "account_used_template", "resolved_to", "links",
})
# Nodes a statement MATCHes (column -> node statement): a row whose node is new in this load
# is written again even if the row itself did not change, because its earlier write found no
# node to attach to (an account back from quarantine, an IP that got a subnet).
ROW_DEPENDS: dict[str, dict[str, str]] = {
    "org_owns_asn": {"org_id": "organizations"},
    "org_uses_domain": {"org_id": "organizations", "domain": "email_domains"},
    "ips": {"subnet": "networks"},
    "account_email_domain": {"account_id": "accounts", "domain": "email_domains"},
    "payment_methods": {"account_id": "accounts", "card_fingerprint": "cards", "card_bin": "card_bins",
                        "billing_name_norm": "billing_names"},
    "account_used_ip": {"account_id": "accounts", "ip": "ips"},
    "account_used_client": {"account_id": "accounts", "ua": "user_agents"},
    "account_used_template": {"account_id": "accounts", "template_id": "prompt_templates"},
    "resolved_to": {"account_id": "accounts", "entity_id": "entities"},
    "links": {"account_a": "accounts", "account_b": "accounts"},
}
# Statements that also write relationships to other nodes named in the row: before a changed
# row is written again, graph_schema/load/unlink/<name> removes those, since it may name others.
UNLINK_STATEMENTS = frozenset({"networks", "ips", "payment_methods"})
# Full loads write these statements with graph_schema/load/full/<name>: the wipe left no
# derived relationship (and no payment method), so they CREATE between ends named by internal
# node id (graph_schema/load/node_ids/<file> maps a key column to ids). A MERGE between
# unique-key MATCHes cost the JVM locking index seeks and a scan of the existing
# relationships per row: about half of its CPU in a profile of the demo load. Subnets and
# IPs are CREATEd the same way (no IP or Subnet survives the wipe) with their IN_ASN/IN_SUBNET
# edge by id: 2.2-2.8 s of JVM CPU instead of 3.2-4.3 s for both on a warm server.


@dataclass(frozen=True)
class End:
    """One node a by-id row names: its key ``column`` is sent as the internal id ``to``."""
    column: str
    node_ids: str  # graph_schema/load/node_ids/<node_ids>.cypher
    to: str
    required: bool = True  # a row without this node is dropped (the MERGE statement's MATCH finds none)


FULL_BY_ID: dict[str, tuple[End, ...]] = {
    "networks": (End("asn", "asn", "asn", required=False),),
    "ips": (End("subnet", "subnet", "s", required=False),),
    "account_email_domain": (End("account_id", "account", "a"), End("domain", "email_domain", "b")),
    "payment_methods": (End("account_id", "account", "a"), End("card_fingerprint", "card", "card", required=False),
                        End("card_bin", "card_bin", "bin", required=False),
                        End("billing_name_norm", "billing_name", "name", required=False)),
    "account_used_ip": (End("account_id", "account", "a"), End("ip", "ip", "b")),
    "account_used_client": (End("account_id", "account", "a"), End("ua", "user_agent", "b")),
    "account_used_template": (End("account_id", "account", "a"), End("template_id", "prompt_template", "b")),
    "resolved_to": (End("account_id", "account", "a"), End("entity_id", "entity", "b")),
    "links": (End("account_a", "account", "a"), End("account_b", "account", "b")),
}


# Relationship statements whose rows name both ends by internal node id in every load: a full
# load CREATEs them (graph_schema/load/full/<name>); an incremental one CREATEs the rows the
# graph cannot hold yet the same way and MERGEs the changed ones (graph_schema/load/<name>).
# Only the deletes still look their ends up by key.
BY_ID_RELATIONSHIPS = frozenset(RELATIONSHIP_STATEMENTS & FULL_BY_ID.keys())


def _distinct_asns(networks: pd.DataFrame) -> pd.DataFrame:
    """One row per ASN the subnets name, the last row's AS name (what a MERGE per row leaves)."""
    return networks.dropna(subset=["asn"]).drop_duplicates("asn", keep="last")[["asn", "as_name"]]


# Full loads run graph_schema/load/full/<statement> with these rows first: the nodes a by-id
# statement names but that it would otherwise MERGE itself (networks.cypher's ASN per subnet).
FULL_PRELUDE: dict[str, tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = {
    "networks": ("asns", _distinct_asns),
}
MARKER_NAME = "sybilgraph"
FORMAT_VERSION = "3"  # bump when the meaning of the frames or of their row hashes changes without a Cypher change (3: map and list cells hashed through Arrow)


def load_format() -> str:
    """Fingerprint of how the graph is written (every load/constraint Cypher file and
    ``FORMAT_VERSION``). Accounts and payment methods carry it as ``load_token``; a snapshot
    taken under another format is never diffed against (the next load is a full one)."""
    from pipelines.paths import GRAPH_SCHEMA_DIR

    digest = hashlib.sha256(FORMAT_VERSION.encode())
    for folder in ("load", "constraints"):
        for path in sorted((GRAPH_SCHEMA_DIR / folder).rglob("*.cypher")):
            digest.update(str(path.relative_to(GRAPH_SCHEMA_DIR)).encode())
            digest.update(path.read_bytes())
    return f"v{FORMAT_VERSION}-{digest.hexdigest()[:12]}"


def _canonical(value: Any) -> str:
    """A stable text for a map or list cell (maps sorted by key), for hashing."""
    return json.dumps(value, sort_keys=True, default=_plain_json)


def _plain_json(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


_MIX = np.uint64(1_000_003)
_NULL_HASH = np.uint64(0x9E3779B97F4A7C15)


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads every input bit over the output (sums of mixed values
    do not cancel the way sums of raw hashes can)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _arrow_hashes(arr: pa.Array) -> np.ndarray:
    """One uint64 per element of an Arrow array; structs and lists by their children, so map
    and list cells (props, weekly arrays, evidence kinds) hash without a Python object per
    row. Order-sensitive within lists; a null struct field is an absent key; null != empty."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    kind = arr.type
    if pa.types.is_struct(kind):
        # a sum over the fields that hold a value: a null field counts as an absent key (what
        # `SET n += row.props` does with it), so a key new in one row leaves the others alone
        hashed = np.zeros(len(arr), dtype=np.uint64)
        for member in kind:
            child = arr.field(member.name)
            tag = pd.util.hash_array(np.array([member.name], dtype=object))[0]
            term = _mix64(_arrow_hashes(child) ^ tag)
            if child.null_count:
                term[child.is_null().to_numpy(zero_copy_only=False)] = 0
            hashed += term
    elif pa.types.is_list(kind) or pa.types.is_large_list(kind):
        lengths = arr.value_lengths().fill_null(0).to_numpy(zero_copy_only=False).astype(np.int64)
        items = _arrow_hashes(arr.flatten())  # the non-null lists' items, in row order
        starts = np.cumsum(lengths) - lengths
        position = np.arange(len(items)) - np.repeat(starts, lengths)
        powers = np.cumprod(np.full(max(int(lengths.max(initial=0)), 1), _MIX, dtype=np.uint64))
        sums = np.zeros(len(arr), dtype=np.uint64)
        filled = lengths > 0
        if filled.any():
            sums[filled] = np.add.reduceat(_mix64(items) * powers[position], starts[filled])
        hashed = sums ^ (lengths.astype(np.uint64) * _MIX)
    elif pa.types.is_null(kind):
        hashed = np.full(len(arr), _NULL_HASH, dtype=np.uint64)
    else:
        # nulls filled first: an integer column with a null would come out as floats, and
        # every row's hash would then depend on whether some other row is null
        filled = arr.fill_null(pa.array([0]).cast(kind)[0]) if arr.null_count else arr
        hashed = pd.util.hash_array(filled.to_numpy(zero_copy_only=False))
    if arr.null_count:
        hashed = np.where(arr.is_null().to_numpy(zero_copy_only=False), _NULL_HASH, hashed)
    return hashed


def row_hashes(frame: pd.DataFrame) -> pd.Series:
    """One 64-bit content hash per row (position-indexed): what a row writes, keys included."""
    if frame.empty:
        return pd.Series([], dtype=np.uint64)
    combined = np.zeros(len(frame), dtype=np.uint64)
    for i, column in enumerate(frame.columns):
        values = frame[column].reset_index(drop=True)
        if isinstance(values.dtype, pd.CategoricalDtype):
            values = values.astype(object)
        try:
            hashed = pd.util.hash_pandas_object(values, index=False).to_numpy()
        except TypeError:  # maps and lists (props, weekly arrays, evidence kinds), through Arrow
            try:
                hashed = _arrow_hashes(pa.array(values, from_pandas=True))
            except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):  # mixed cell types
                hashed = pd.util.hash_pandas_object(values.map(_canonical, na_action="ignore"), index=False).to_numpy()
        combined = combined * _MIX ^ hashed ^ np.uint64(i + 1)
    return pd.Series(combined)


def _key_frame(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The key columns with plain dtypes (categoricals and strings as Python objects), so a
    frame and its Parquet snapshot compare equal."""
    out = {}
    for key in keys:
        values = frame[key].reset_index(drop=True)
        if isinstance(values.dtype, pd.CategoricalDtype) or values.dtype == object or pd.api.types.is_string_dtype(values):
            values = values.astype(object).where(values.notna(), None)
        out[key] = values
    return pd.DataFrame(out)


@dataclass
class Snapshot:
    """Keys and row hashes of the frames last loaded completely, and the graph they went to."""
    frames_token: str
    load_format: str
    rows: dict[str, pd.DataFrame]  # statement -> key columns + "_h"

    @staticmethod
    def of(frames: dict[str, pd.DataFrame], frames_token: str, fmt: str,
           hashes: dict[str, pd.Series]) -> "Snapshot":
        rows = {name: _key_frame(frames[name], ROW_KEYS[name]).assign(_h=hashes[name].to_numpy())
                for name in ROW_KEYS if name in frames}
        return Snapshot(frames_token, fmt, rows)

    def write(self, folder: Path) -> None:
        """Atomically replace ``folder`` (written next to it, then renamed)."""
        folder = Path(folder)
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = folder.with_name(f"{folder.name}.tmp-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        for name, rows in self.rows.items():
            pq.write_table(pa.Table.from_pandas(rows, preserve_index=False), tmp / f"{name}.parquet")
        (tmp / "snapshot.json").write_text(json.dumps(
            {"frames_token": self.frames_token, "load_format": self.load_format, "frames": sorted(self.rows)}))
        old = folder.with_name(f"{folder.name}.old-{os.getpid()}")
        if folder.exists():
            folder.rename(old)
        tmp.rename(folder)
        shutil.rmtree(old, ignore_errors=True)

    @staticmethod
    def read(folder: Path | None) -> "Snapshot | None":
        """The snapshot in ``folder``, or None when there is none or it is unreadable."""
        if folder is None or not (Path(folder) / "snapshot.json").exists():
            return None
        try:
            meta = json.loads((Path(folder) / "snapshot.json").read_text())
            rows = {name: pd.read_parquet(Path(folder) / f"{name}.parquet") for name in meta["frames"]}
        except (OSError, ValueError, KeyError):
            return None
        return Snapshot(meta["frames_token"], meta["load_format"], rows)


@dataclass
class LoadPlan:
    """What an incremental load sends: rows to write (new, changed, or depending on a new
    node) and keys to delete, per statement."""
    upsert: dict[str, pd.DataFrame]
    unlink: dict[str, pd.DataFrame]
    delete: dict[str, pd.DataFrame]
    # per upsert row: True where its element cannot be in the graph yet (a key the last load did
    # not have, or an end node new in this load), so a relationship may be CREATEd, not MERGEd
    creatable: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return sum(len(f) for part in (self.upsert, self.delete) for f in part.values())


def _joint_key_codes(now: pd.DataFrame, old: pd.DataFrame) -> np.ndarray:
    """One int64 per row of ``now`` then of ``old``, equal where all key columns are equal
    (null equal to null, as in a pandas merge): the string keys are hashed once, and the
    joins run on one integer column (~2x faster than merging on the key columns twice)."""
    codes = np.zeros(len(now) + len(old), dtype=np.int64)
    for key in now.columns:
        values = pd.concat([now[key], old[key]], ignore_index=True)
        try:  # Arrow hashes strings in C, ~10x faster than pandas on Python str objects
            column = pa.array(values, from_pandas=True)
            if isinstance(column, pa.ChunkedArray):  # Arrow-backed pandas strings
                column = column.combine_chunks()
            column = column.dictionary_encode(null_encoding="encode").indices
            column = column.to_numpy(zero_copy_only=False).astype(np.int64)
        except (pa.ArrowException, TypeError, ValueError):  # a column of mixed types
            column, _ = pd.factorize(values, use_na_sentinel=False)
        codes, _ = pd.factorize(codes * (int(column.max(initial=0)) + 1) + column)
    return codes.astype(np.int64, copy=False)


def plan_incremental(frames: dict[str, pd.DataFrame], hashes: dict[str, pd.Series],
                     previous: Snapshot) -> LoadPlan:
    """Diff today's frames against the snapshot of the last complete load (vectorised joins
    on the key columns)."""
    upsert, unlink, delete, new_keys, creatable = {}, {}, {}, {}, {}
    for name in LOAD_ORDER:
        if name not in frames:
            continue
        keys = ROW_KEYS[name]
        now = _key_frame(frames[name], keys).assign(_h=hashes[name].to_numpy(), _pos=np.arange(len(frames[name])))
        old = previous.rows.get(name, pd.DataFrame({**{k: [] for k in keys}, "_h": []}))
        old = old.astype({k: now[k].dtype for k in keys}) if len(old) else old
        # hashes compared by position (a left join would turn missing uint64 hashes into floats)
        old_h = old["_h"].to_numpy().astype(np.uint64) if len(old) else np.zeros(0, dtype=np.uint64)
        codes = _joint_key_codes(now[keys], old[keys])
        now_codes, old_codes = codes[:len(now)], codes[len(now):]
        joined = pd.DataFrame({"_c": now_codes, "_h": now["_h"].to_numpy(), "_pos": now["_pos"].to_numpy()}).merge(
            pd.DataFrame({"_c": old_codes, "_opos": np.arange(len(old))}), on="_c", how="left")
        fresh = joined["_opos"].isna().to_numpy()
        opos = joined["_opos"].fillna(0).to_numpy().astype(np.int64)
        changed = ~fresh & (joined["_h"].to_numpy() != (old_h[opos] if len(old) else 0))
        send = np.zeros(len(now), dtype=bool)
        send[joined.loc[fresh | changed, "_pos"].to_numpy()] = True
        absent = np.zeros(len(now), dtype=bool)
        absent[joined.loc[fresh, "_pos"].to_numpy()] = True
        new_keys[name] = set(now[keys[0]].to_numpy()[absent]) if len(keys) == 1 else set()
        for column, node in ROW_DEPENDS.get(name, {}).items():
            if new_keys.get(node):
                on_new_node = frames[name][column].astype(object).isin(new_keys[node]).to_numpy()
                send |= on_new_node
                absent |= on_new_node
        picked = np.flatnonzero(send)
        upsert[name] = frames[name].iloc[picked]
        creatable[name] = absent[picked]
        if name in UNLINK_STATEMENTS:
            unlink[name] = now.loc[joined.loc[changed, "_pos"].to_numpy(), keys]
        delete[name] = old.loc[~np.isin(old_codes, now_codes), keys].reset_index(drop=True)
    return LoadPlan(upsert, unlink, delete, creatable)


# ----------------------------------------------------------------------------- load


class BatchColumns(dict):
    """One batch for ``$rows``: column name -> that column's values; a statement reads row ``i``
    as ``$rows.<column>[i]`` (every ``UNWIND`` file in graph_schema/load starts
    ``UNWIND range(0, size($rows.<column>) - 1) AS i WITH {..} AS row``).
    Columns rather than a map per row: the driver packs a list of numbers or strings much faster
    than 10,000 small maps and the server decodes no key strings per row (3-5 s less Python
    CPU per full demo load, docs/benchmarks.md). Its repr is its length: the driver (neo4j 6.4.1)
    formats every RUN's parameters for a debug log line even when debug logging is off, which
    cost ~3.3 s per full load as text, and it keeps e-mails and billing names out of a debug log."""

    def __init__(self, columns: dict[str, list[Any]], n_rows: int):
        super().__init__(columns)
        self.n_rows = n_rows

    def __repr__(self) -> str:
        return f"<{self.n_rows} rows>"


def _columns(frame: pd.DataFrame) -> BatchColumns:
    """The batch as plain Python values (NA -> None) for the driver, column by column."""
    return BatchColumns({name: [{k: _plain(v) for k, v in props.items()} for props in frame[name]]
                         if name == "props" else _column_values(frame[name]) for name in frame.columns},
                        len(frame))


def statement_fields(query: str) -> set[str]:
    """The row fields (``row.<field>``) a load statement reads: columns its frame must have."""
    return set(re.findall(r"\brow\.(\w+)", query))


def _column_values(column: pd.Series) -> list[Any]:
    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iub":
        return column.to_numpy().tolist()
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy()
        boxed = values.astype(object)
        boxed[np.isnan(values)] = None
        return boxed.tolist()
    if isinstance(dtype, np.dtype):  # object: str, bool, list cells, maybe NaN or numpy values
        return [_plain(v) for v in column.to_numpy()]
    return column.to_numpy(dtype=object, na_value=None).tolist()  # nullable ints, Arrow strings


def _plain(value: Any) -> Any:
    """A cell of an object column or props map as something the driver can send."""
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float):
        return None if value != value else value
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return None if value != value else value.item()
    return value


#: seconds a whole graph load may spend waiting for an unreachable server, over all its
#: batches (each batch's own 8 retries, summed over hundreds of batches, never ended)
LOAD_RETRY_BUDGET_S = 120.0


class RetryBudget:
    """Waiting time shared by every retry of one load (batches in parallel threads included)."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.waited = 0.0
        self._lock = threading.Lock()

    def take(self, delay: float) -> bool:
        """Reserve ``delay`` seconds of waiting; False once the budget would be exceeded."""
        with self._lock:
            if self.waited + delay > self.seconds:
                return False
            self.waited += delay
            return True


_budget: RetryBudget | None = None  # the running load's (one load per process: the lease)


@contextmanager
def retry_budget(seconds: float) -> Iterator[RetryBudget]:
    """Every ``with_retries`` inside shares ``seconds`` of waiting."""
    global _budget
    outer, _budget = _budget, RetryBudget(seconds)
    try:
        yield _budget
    finally:
        _budget = outer


def with_retries(action: Callable[[], Any], *, attempts: int = 8, first_delay: float = 1.0,
                 log: Callable[[str], None] | None = None) -> Any:
    """Run ``action``, retrying with exponential backoff while the server is unreachable.

    The driver already retries transient errors inside a transaction function; this outer
    loop also rides out a server restart, then gives up with the last error. Inside
    ``retry_budget`` (a graph load) the waits of all calls together are bounded too.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            budget = _budget
            if attempt == attempts:
                raise RuntimeError(
                    f"Neo4j unreachable after {attempts} attempts ({exc.__class__.__name__}: {exc}); "
                    "the graph load stopped and is safe to run again"
                ) from exc
            if budget is not None and not budget.take(delay):
                raise RuntimeError(
                    f"Neo4j unreachable: this load waited {budget.waited:.0f} s of its {budget.seconds:.0f} s "
                    f"retry budget ({exc.__class__.__name__}: {exc}); the graph load stopped and is safe to run again"
                ) from exc
            if log:  # an operator watching the run sees why it stalls
                log(f"Neo4j unavailable ({exc.__class__.__name__}); retrying in {delay:.0f} s "
                    f"(attempt {attempt + 1}/{attempts})")
            time.sleep(delay)
            delay = min(delay * 2, 30.0)


def run_batched(
    driver: Driver,
    statement: str,
    rows: pd.DataFrame,
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    database: str | None = None,
    log: Callable[[str], None] | None = None,
    workers: int = 1,
    **params: Any,
) -> int:
    """Send ``rows`` through the named ``UNWIND $rows`` statement, one transaction per batch;
    with ``workers`` > 1, that many batches at a time in parallel sessions (only for
    statements whose batches touch disjoint nodes, see ``PARALLEL_STATEMENTS``)."""
    query = load_cypher(statement, folder="load")
    missing = statement_fields(query) - set(rows.columns)
    if missing:  # the statement would read null for them on every row
        raise ValueError(f"load statement {statement} reads row fields {sorted(missing)} its rows do not have")

    def send(start: int) -> int:
        batch = _columns(rows.iloc[start:start + batch_rows])

        def write() -> None:
            with driver.session(database=database) as session:
                session.execute_write(lambda tx: tx.run(query, rows=batch, **params).consume())

        with_retries(write, log=log)
        return batch.n_rows

    starts = range(0, len(rows), batch_rows)
    if workers <= 1 or len(starts) <= 1:
        return sum(send(start) for start in starts)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"load-{statement}") as pool:
        return sum(pool.map(send, starts))


def node_ids(driver: Driver, name: str, database: str | None = None) -> pd.Series:
    """Internal id by key of every node ``graph_schema/load/node_ids/<name>`` reads. Ids are
    only used within the load that read them, after its deletes (under the load lease: nothing
    deletes a node in between, so no id is reused)."""
    def read() -> pd.Series:
        with driver.session(database=database) as session:
            record = session.run(load_cypher(name, folder="load/node_ids")).single()
        return pd.Series(np.asarray(record["ids"], dtype=np.int64), index=pd.Index(record["keys"], dtype=object))
    return with_retries(read)


def rows_by_id(frame: pd.DataFrame, ends: tuple[End, ...], ids: Callable[[str], pd.Series],
               key: list[str]) -> pd.DataFrame:
    """``frame`` with each end's key column replaced by the node's internal id (``End.to``;
    null where an optional end has no node); rows missing a required node are dropped (the
    MATCH of the MERGE statement would skip them too), and a repeated ``key`` (the row key,
    an end's column standing for its id) keeps its last row (what MERGE then SET leaves)."""
    out = frame.drop(columns=[end.column for end in ends])
    keep = np.ones(len(frame), dtype=bool)
    for end in ends:
        end_ids = ids(end.node_ids)
        pos = end_ids.index.get_indexer(frame[end.column].astype(object))  # -1: no such node
        values = np.append(end_ids.to_numpy(dtype=np.int64), 0)[pos]  # -1 picks the trailing 0
        if end.required:
            keep &= pos >= 0
            out[end.to] = values
        else:
            out[end.to] = pd.Series(values, index=out.index, dtype="Int64").mask(pos < 0)
    out = out[keep]
    to = {end.column: end.to for end in ends}
    return out[~out.duplicated([to.get(column, column) for column in key], keep="last")]


def _marker(driver: Driver, database: str | None) -> tuple[str | None, str | None]:
    """(frames token, load format) the graph's load marker carries, (None, None) without one."""
    def read() -> tuple[str | None, str | None]:
        with driver.session(database=database) as session:
            row = session.run(load_cypher("read_marker", folder="load"), name=MARKER_NAME).single()
        return (row["frames_token"], row["format"]) if row else (None, None)
    return with_retries(read)


def _set_marker(driver: Driver, database: str | None, frames_token: str, fmt: str) -> None:
    def write() -> None:
        with driver.session(database=database) as session:
            session.run(load_cypher("write_marker", folder="load"), name=MARKER_NAME,
                        frames_token=frames_token, format=fmt).consume()
    with_retries(write)


def _auto_commit(driver: Driver, database: str | None, name: str, **params: Any) -> int:
    """Run a ``CALL {..} IN TRANSACTIONS`` statement (needs an auto-commit transaction);
    returns the nodes plus relationships it deleted."""
    query = load_cypher(name, folder="load")

    def run() -> int:
        with driver.session(database=database) as session:
            counters = session.run(query, **params).consume().counters
            return counters.relationships_deleted + counters.nodes_deleted
    return with_retries(run)


def load_graph(
    driver: Driver,
    frames: dict[str, pd.DataFrame],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    database: str | None = None,
    log: Callable[[str], None] | None = None,
    workers: int = DEFAULT_WORKERS,
    snapshot_dir: Path | None = None,
    incremental: bool = True,
    parallel_relationships: bool | None = None,
) -> LoadReport:
    """Make the graph hold exactly ``frames``, writing as little as possible.

    Incremental when ``snapshot_dir`` holds the snapshot of the last complete load and the
    graph's marker says it still holds that load in today's format: only new and changed rows
    are written and vanished ones deleted. Otherwise a full load: every derived relationship and
    node goes (analyst decisions and the nodes they hang on stay), then every row is written.
    Both end in the same graph. ``workers`` parallel sessions for node-only statements.
    An unreachable server is waited for at most ``LOAD_RETRY_BUDGET_S`` over the whole load."""
    with retry_budget(LOAD_RETRY_BUDGET_S):
        return _load_graph(driver, frames, batch_rows=batch_rows, database=database, log=log, workers=workers,
                           snapshot_dir=snapshot_dir, incremental=incremental,
                           parallel_relationships=parallel_relationships)


def _load_graph(driver: Driver, frames: dict[str, pd.DataFrame], *, batch_rows: int, database: str | None,
                log: Callable[[str], None] | None, workers: int, snapshot_dir: Path | None, incremental: bool,
                parallel_relationships: bool | None) -> LoadReport:
    log = log or (lambda _line: None)
    started = time.perf_counter()
    fmt = load_format()
    hashes = {name: row_hashes(frames[name]) for name in LOAD_ORDER if name in frames}
    token = frames_token(frames, hashes)
    report = LoadReport(load_token=fmt, frames_token=token)
    previous = Snapshot.read(snapshot_dir) if incremental else None
    marker_token, marker_format = _marker(driver, database)
    if not incremental:
        report.full_reason = "incremental load switched off"
    elif previous is None:
        report.full_reason = "no snapshot of an earlier load"
    elif previous.load_format != fmt:
        report.full_reason = f"load format changed ({previous.load_format} -> {fmt})"
    elif marker_token is None:
        report.full_reason = "the graph carries no load marker"
    elif (marker_token, marker_format) != (previous.frames_token, previous.load_format):
        report.full_reason = (f"the graph's load marker ({marker_token}) is not the snapshot's "
                              f"({previous.frames_token}): graph wiped, edited, loaded from elsewhere or interrupted")
    report.mode = "full" if report.full_reason else "incremental"
    log(f"graph load: {report.mode}" + (f" ({report.full_reason})" if report.full_reason else ""))

    rel_parallel = PARALLEL_RELATIONSHIPS if parallel_relationships is None else parallel_relationships

    def send(name: str, rows: pd.DataFrame, statement: str | None = None, parallel: bool = False) -> None:
        if rows.empty:
            return
        merge = name in RELATIONSHIP_STATEMENTS and statement is None
        if rel_parallel and (statement == f"full/{name}" or (merge and name not in SERIAL_MERGES)):
            # by the first end's id: two batches in flight share few end nodes (for subnets
            # and IPs, the ASN and subnet they link to)
            order = FULL_BY_ID[name][0].to if statement or name in BY_ID_RELATIONSHIPS else ROW_KEYS[name][0]
            rows, parallel = rows.sort_values(order, kind="stable"), True
        t0 = time.perf_counter()
        rows_per_batch = min(batch_rows, STATEMENT_BATCH_ROWS.get(statement or name, batch_rows))
        sent = run_batched(driver, statement or name, rows, batch_rows=rows_per_batch, database=database, log=log,
                           workers=workers if parallel else 1, load_token=fmt)
        key = name if statement == f"full/{name}" else statement or name
        report.rows_sent[key] = report.rows_sent.get(key, 0) + sent
        report.seconds_by[key] = report.seconds_by.get(key, 0.0) + time.perf_counter() - t0
        log(f"{key}: {sent} rows in {time.perf_counter() - t0:.1f}s")

    id_cache: dict[str, pd.Series] = {}

    def ids(file: str) -> pd.Series:
        """Internal ids by key, read when first needed: after the node statements that made them."""
        if file not in id_cache:
            id_cache[file] = node_ids(driver, file, database)
        return id_cache[file]

    def by_id(name: str, rows: pd.DataFrame) -> pd.DataFrame:
        t0 = time.perf_counter()
        out = rows_by_id(rows, FULL_BY_ID[name], ids, ROW_KEYS[name])
        report.seconds_by["node ids"] = report.seconds_by.get("node ids", 0.0) + time.perf_counter() - t0
        return out

    if report.mode == "incremental" and previous is not None and marker_token == token:
        report.mode = "unchanged"  # the graph already holds these very frames
    elif report.mode == "incremental" and previous is not None:
        plan = plan_incremental(frames, hashes, previous)
        _set_marker(driver, database, f"loading:{token}", fmt)
        relationships_first = sorted(plan.delete, key=lambda n: (n not in RELATIONSHIP_STATEMENTS,
                                                                 -LOAD_ORDER.index(n)))
        for name in relationships_first:
            send(name, plan.delete[name], f"delete/{name}")
            report.stale_deleted += len(plan.delete[name])
        for name, keys in plan.unlink.items():
            send(name, keys, f"unlink/{name}")
        for name in LOAD_ORDER:
            if name in plan.upsert:
                rows = plan.upsert[name]
                if name in BY_ID_RELATIONSHIPS and len(rows):
                    # a relationship the graph cannot hold yet is CREATEd as in a full load; a changed
                    # one is MERGEd, which scans the end's relationships (hundreds for a campaign account)
                    rows = by_id(name, rows.assign(_creatable=plan.creatable[name]))
                    creatable = rows.pop("_creatable").to_numpy(dtype=bool)
                    send(name, rows[creatable], f"full/{name}")
                    rows = rows[~creatable]
                send(name, rows, parallel=name in PARALLEL_STATEMENTS)
        _auto_commit(driver, database, "delete/orphan_asns")
    else:
        _set_marker(driver, database, f"loading:{token}", fmt)
        t0 = time.perf_counter()
        report.stale_deleted += _auto_commit(driver, database, "wipe_relationships")
        report.stale_deleted += _auto_commit(driver, database, "wipe_nodes")
        _auto_commit(driver, database, "unmark_kept")
        report.seconds_by["wipe"] = time.perf_counter() - t0
        for name in LOAD_ORDER:
            if name not in frames:
                continue
            if name in FULL_PRELUDE:
                prelude, prelude_rows = FULL_PRELUDE[name]
                send(name, prelude_rows(frames[name]), f"full/{prelude}")
            if name in FULL_BY_ID:
                send(name, by_id(name, frames[name]), f"full/{name}")
            else:
                send(name, frames[name], parallel=name in PARALLEL_STATEMENTS)
    _set_marker(driver, database, token, fmt)
    if snapshot_dir is not None:
        Snapshot.of(frames, token, fmt, hashes).write(Path(snapshot_dir))
    report.seconds = time.perf_counter() - started
    log(f"graph load {report.mode}: {report.total_rows} rows sent, {report.stale_deleted} deleted "
        f"in {report.seconds:.1f}s")
    return report


#: every relationship type the pipeline writes (the load, then the attribution). A node holding
#: any other (an analyst decision, or a mistyped one) is never deleted by a load; the same list
#: is spelt out in load/wipe_nodes.cypher and load/delete/accounts.cypher (a test compares)
PIPELINE_RELATIONSHIPS = (
    "OWNS_ASN", "USES_DOMAIN", "IN_ASN", "IN_SUBNET", "USED_IP", "HAS_EMAIL_DOMAIN", "HAS_PAYMENT_METHOD",
    "USES_CARD", "HAS_BIN", "BILLED_TO", "USED_CLIENT", "USED_TEMPLATE", "RESOLVED_TO", "LINKED",
    "ATTRIBUTED_TO", "CANDIDATE_ORG", "IN_ORG_NETWORK", "SIMILAR_BILLING_NAME", "DECLARED_ORG_MATCHES",
)

GRAPH_COUNT_QUERIES = {
    "Account": "MATCH (n:Account) WHERE n.load_token = $load_token RETURN count(n) AS n",
    "stale Account": ("MATCH (n:Account) WHERE coalesce(n.load_token, '') <> $load_token "
                      "AND NOT EXISTS { (n)-[r]-() WHERE NOT type(r) IN $pipeline_types } RETURN count(n) AS n"),
    "Entity": "MATCH (n:Entity)<-[:RESOLVED_TO]-() RETURN count(DISTINCT n) AS n",
    "RESOLVED_TO": "MATCH ()-[r:RESOLVED_TO]->() RETURN count(r) AS n",
    "LINKED": "MATCH ()-[r:LINKED]->() RETURN count(r) AS n",
    "PaymentMethod": "MATCH (n:PaymentMethod) RETURN count(n) AS n",
    "USED_IP": "MATCH ()-[r:USED_IP]->() RETURN count(r) AS n",
    "USED_TEMPLATE": "MATCH ()-[r:USED_TEMPLATE]->() RETURN count(r) AS n",
}


def expected_counts(frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """What the graph must hold after loading ``frames`` (and nothing else) into it."""
    return {
        "Account": int(frames["accounts"]["account_id"].nunique()),
        "stale Account": 0,
        "Entity": int(frames["resolved_to"]["entity_id"].nunique()),
        "RESOLVED_TO": len(frames["resolved_to"]),
        "LINKED": len(frames["links"]),
        "PaymentMethod": int(frames["payment_methods"]["payment_method_id"].nunique()),
        "USED_IP": len(frames["account_used_ip"]),
        "USED_TEMPLATE": len(frames["account_used_template"]),
    }


def graph_counts(driver: Driver, load_token: str = "", database: str | None = None) -> dict[str, int]:
    """Counts of the derived graph, to compare against ``expected_counts`` of the load that
    wrote ``load_token``."""
    with driver.session(database=database) as session:
        return {name: session.run(q, load_token=load_token, pipeline_types=list(PIPELINE_RELATIONSHIPS)).single()["n"]
                for name, q in GRAPH_COUNT_QUERIES.items()}

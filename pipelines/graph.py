"""Stage 6: load the evidence graph and the entities into Neo4j.

Two halves. ``build_graph_frames`` turns the stage frames into one row frame per load
statement in ``graph_schema/load/`` (pure pandas, unit-testable without a server).
``load_graph`` sends them in ``UNWIND $rows`` batches and then removes what an earlier load
derived and this one did not, so repeated loads converge on the same graph:

* every derived relationship carries ``load_token``, a hash of the frames' content, so
  loading the same frames twice changes nothing, and a load interrupted half-way is
  completed by simply loading again;
* analyst decisions carry no token and are never touched.
"""

from __future__ import annotations

import hashlib
import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import pandas as pd
import pyarrow as pa
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
CLEANUP_STATEMENTS = ["delete_stale_relationships", "delete_stale_nodes", "delete_empty_entities"]
DEFAULT_BATCH_ROWS = 10_000
MIN_TEMPLATE_ACCOUNTS = 2  # templates used by fewer accounts are not loaded as nodes
# Statements whose batches touch disjoint nodes only (a MERGE on a unique key, no
# relationship to a shared node): their batches may run in parallel sessions without lock
# waits or deadlocks. Relationship statements stay sequential: two batches adding edges to
# one popular template or IP would queue on its lock, or deadlock and be retried.
PARALLEL_STATEMENTS = frozenset({
    "organizations", "email_domains", "cards", "card_bins", "billing_names", "user_agents",
    "prompt_templates", "accounts", "entities",
})
DEFAULT_WORKERS = 2  # one per core of the 2-core reference machine

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
    load_token: str = ""
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
    grouped = ordered.groupby("account_id", observed=True, sort=False)
    out = pd.DataFrame({"week_starts": grouped["week"].agg(lambda w: [str(x) for x in w])})
    for prop, column in zip(WEEK_PROPS[1:], ["n", "n_coding", "n_reasoning", "n_tool_use", "n_cot"]):
        out[prop] = grouped[column].agg(lambda v: [int(x) for x in v])
    return out


def template_tasks(templates: pd.DataFrame) -> pd.Series:
    """template_id -> its first matching task (coding, reasoning, tool_use, cot) or None,
    from the template's example prompt with the features stage's task flags."""
    from pipelines.features import TASK_WORDS, prompt_signatures

    example = pa.array(templates["example"].astype("string").fillna(""), type=pa.large_string())
    if isinstance(example, pa.ChunkedArray):  # a frame read back from multi-row-group Parquet
        example = example.combine_chunks()
    flags = prompt_signatures(example).flags
    task = np.full(len(templates), None, dtype=object)
    for name in reversed(list(TASK_WORDS)):  # the first category wins
        task[flags[name]] = name
    return pd.Series(task, index=templates["template_id"].astype(str).to_numpy())


def _split_list(values: pd.Series) -> pd.Series:
    return values.fillna("").astype(str).str.split(";").map(lambda xs: [x.strip() for x in xs if x.strip()])


def _props(frame: pd.DataFrame, keys: list[str], prop_cols: list[str]) -> pd.DataFrame:
    """Frame of key columns plus a ``props`` column of maps (only the columns present)."""
    cols = [c for c in prop_cols if c in frame.columns]
    props = frame[cols].astype(object).where(frame[cols].notna(), None).to_dict("records")
    out = frame[keys].copy()
    out["props"] = props
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
    frames["org_owns_asn"] = org_asns.assign(asn=org_asns["asn"].astype(np.int64))
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
    frames["email_domains"] = (
        domains.groupby("email_domain", observed=True)
        .agg(n_accounts=("account_id", "nunique"), is_freemail=("email_freemail", "first"),
             is_disposable=("email_disposable", "first"))
        .reset_index()
        .rename(columns={"email_domain": "domain"})
    )

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
    lk["kinds"] = lk["evidence"].map(lambda ev: sorted({e["kind"] for e in json.loads(ev)}))
    frames["links"] = lk
    return frames


def frames_token(frames: dict[str, pd.DataFrame]) -> str:
    """Content hash of the row frames: same data, same token, so a reload is a no-op."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name]
        digest.update(name.encode())
        digest.update(str(len(frame)).encode())
        plain = frame.drop(columns=[c for c in ("props",) if c in frame.columns]).astype(str)
        digest.update(pd.util.hash_pandas_object(plain, index=False).to_numpy().tobytes())
        if "props" in frame.columns:
            digest.update(json.dumps(frame["props"].tolist(), sort_keys=True, default=str).encode())
    return digest.hexdigest()[:16]


# ----------------------------------------------------------------------------- load


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (NA -> None) for the driver, converted by Arrow in bulk."""
    if frame.empty:
        return []
    plain = frame.drop(columns=["props"]) if "props" in frame.columns else frame
    records = pa.Table.from_pandas(plain, preserve_index=False).to_pylist()
    if "props" in frame.columns:
        for rec, props in zip(records, frame["props"]):
            rec["props"] = {k: _plain(v) for k, v in props.items()}
    return records


def _plain(value: Any) -> Any:
    """A value from a props map as something the driver can send."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def with_retries(action: Callable[[], Any], *, attempts: int = 8, first_delay: float = 1.0,
                 log: Callable[[str], None] | None = None) -> Any:
    """Run ``action``, retrying with exponential backoff while the server is unreachable.

    The driver already retries transient errors inside a transaction function; this outer
    loop also rides out a server restart, then gives up with the last error.
    """
    delay = first_delay
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except (ServiceUnavailable, SessionExpired, TransientError) as exc:
            if attempt == attempts:
                raise RuntimeError(
                    f"Neo4j unreachable after {attempts} attempts ({exc.__class__.__name__}: {exc}); "
                    "the graph load stopped and is safe to run again"
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

    def send(start: int) -> int:
        batch = _records(rows.iloc[start:start + batch_rows])

        def write() -> None:
            with driver.session(database=database) as session:
                session.execute_write(lambda tx: tx.run(query, rows=batch, **params).consume())

        with_retries(write, log=log)
        return len(batch)

    starts = range(0, len(rows), batch_rows)
    if workers <= 1 or len(starts) <= 1:
        return sum(send(start) for start in starts)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"load-{statement}") as pool:
        return sum(pool.map(send, starts))


def load_graph(
    driver: Driver,
    frames: dict[str, pd.DataFrame],
    *,
    batch_rows: int = DEFAULT_BATCH_ROWS,
    database: str | None = None,
    log: Callable[[str], None] | None = None,
    workers: int = DEFAULT_WORKERS,
) -> LoadReport:
    """Upsert every frame in dependency order, then drop what this load no longer derives.

    ``workers`` parallel sessions for the node-only statements (``PARALLEL_STATEMENTS``)."""
    report = LoadReport(load_token=frames_token(frames))
    started = time.perf_counter()
    for name in LOAD_ORDER:
        rows = frames.get(name)
        if rows is None:
            continue
        t0 = time.perf_counter()
        report.rows_sent[name] = run_batched(
            driver, name, rows, batch_rows=batch_rows, database=database, log=log,
            workers=workers if name in PARALLEL_STATEMENTS else 1, load_token=report.load_token,
        )
        report.seconds_by[name] = time.perf_counter() - t0
        if log:
            log(f"{name}: {len(rows)} rows in {time.perf_counter() - t0:.1f}s")
    for name in CLEANUP_STATEMENTS:
        query = load_cypher(name, folder="load")

        def cleanup(query: str = query) -> int:
            # CALL {..} IN TRANSACTIONS needs an auto-commit transaction: session.run
            with driver.session(database=database) as session:
                summary = session.run(query, load_token=report.load_token).consume()
                return summary.counters.relationships_deleted + summary.counters.nodes_deleted

        t0 = time.perf_counter()
        report.stale_deleted += with_retries(cleanup, log=log)
        report.seconds_by[name] = time.perf_counter() - t0
    report.seconds = time.perf_counter() - started
    return report


GRAPH_COUNT_QUERIES = {
    "Account": "MATCH (n:Account) WHERE n.load_token = $load_token RETURN count(n) AS n",
    "stale Account": "MATCH (n:Account) WHERE n.load_token <> $load_token AND NOT (n)-[:SAME_OPERATOR|NOT_SAME_OPERATOR]-() RETURN count(n) AS n",
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
        return {name: session.run(q, load_token=load_token).single()["n"] for name, q in GRAPH_COUNT_QUERIES.items()}

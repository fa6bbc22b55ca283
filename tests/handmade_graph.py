"""A small, hand-made evidence graph for the attribution and investigation-query tests.

Built by running the real load statements (``graph_schema/load/*.cypher``) with hand-written
rows, so the tests exercise the graph the loader actually writes. The cast:

* ``ent-camp``: a careful distillation campaign (40 accounts) of the fictional lab Halcyon
  Research. It leaks one account on the lab's email domain, one billing name with a typo of
  the lab's legal name and one sign-up from the lab's own network; four of its accounts were
  farmed on the Northfield University domain (more than its lab-domain leaks).
* ``ent-frag``: 5 accounts of the same campaign that resolution kept apart; no indicator of
  its own, but it shares the campaign's card and rented datacenter addresses.
* ``ent-lab``: Northfield's research group: 6 accounts on the university domain and network.
* ``ent-s00`` .. ``ent-s29``: 30 independent students, one account each, behind the
  university's NAT address with the university domain.
* ``ent-acme``: Acme Widgets, a benign company: 8 employees on one corporate card.
* ``ent-solo``: an ordinary individual with no indicator at all.
* ``ent-quill``: 3 accounts whose billing name resembles Quillon Systems' legal name.
* ``ent-p000`` .. ``ent-p399``: 400 ordinary people, one account each, signed up one a day on a
  free-mail domain, carrying no organization's indicator: the population against which
  attribution judges how rare an indicator is (a lab's domain on 1 account of 500 is rare).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from neo4j import Driver

LOAD_TOKEN = "handmade-1"
#: ordinary one-account people beside the cast (see the module docstring)
POPULATION = 400
WEEKS = ["2026-01-05", "2026-01-12", "2026-01-19"]

ORGANIZATIONS = [
    {
        "org_id": "org-halcyon", "name": "Halcyon Research", "aliases": "Halcyon AI;HalcyonLabs",
        "email_domains": "halcyon-research.example", "asns": "64601", "cidrs": "198.51.100.0/24",
        "billing_names": "Halcyon Research Ltd;Halcyon Compute Holdings LLC",
    },
    {
        "org_id": "org-northfield", "name": "Northfield University", "aliases": "NFU",
        "email_domains": "northfield.example", "asns": "64700", "cidrs": "203.0.113.0/25",
        "billing_names": None,
    },
    {
        "org_id": "org-acme", "name": "Acme Widgets", "aliases": None,
        "email_domains": "acmewidgets.example", "asns": None, "cidrs": None,
        "billing_names": "Acme Widgets Inc",
    },
    {
        "org_id": "org-quillon", "name": "Quillon Systems", "aliases": "Quillon",
        "email_domains": "quillon.example", "asns": "64602", "cidrs": "192.0.2.128/25",
        "billing_names": "Quillon Systems GmbH",
    },
]

NETWORKS = [
    {"subnet": "198.51.100.0/24", "asn": 64601, "as_name": "HALCYON-NET", "network_type": "corporate"},
    {"subnet": "203.0.113.0/24", "asn": 64700, "as_name": "NORTHFIELD-EDU", "network_type": "education"},
    {"subnet": "192.0.2.0/24", "asn": 64500, "as_name": "RENTACOMPUTE", "network_type": "datacenter"},
    {"subnet": "100.64.0.0/24", "asn": 64510, "as_name": "HOMELINE", "network_type": "residential"},
]

DATACENTER_IPS = ["192.0.2.10", "192.0.2.11", "192.0.2.12"]
UNI_NAT_IP = "203.0.113.5"
LAB_LEAK_IP = "198.51.100.7"
ACME_EGRESS_IP = "100.64.0.20"
SOLO_HOME_IP = "100.64.0.99"


def _us(iso: str) -> int:
    """Microseconds since the epoch, as the loader's rows carry timestamps."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1_000_000)


FIRST_SEEN_US = _us("2026-01-05T00:00:00Z")
LAST_SEEN_US = _us("2026-01-20T00:00:00Z")


def _account(account_id: str, created_at: str, domain: str, declared_org: str | None = None,
             n_exchanges: int = 30, coding: float = 0.5, reasoning: float = 0.3, tool_use: float = 0.1) -> dict[str, Any]:
    per_week = [n_exchanges // 3] * 3
    return {
        "account_id": account_id,
        "domain": domain,
        "created_at_us": _us(created_at), "first_seen_us": _us(created_at), "last_seen_us": _us("2026-01-25T00:00:00Z"),
        "props": {
            "email_domain": domain, "declared_org": declared_org,
            "n_exchanges": n_exchanges, "share_coding": coding, "share_reasoning": reasoning,
            "share_tool_use": tool_use,
            "week_starts": WEEKS,
            "week_n": per_week,
            "week_coding": [int(w * coding) for w in per_week],
            "week_reasoning": [int(w * reasoning) for w in per_week],
            "week_tool_use": [int(w * tool_use) for w in per_week],
            "week_cot": [int(w * reasoning / 2) for w in per_week],
        },
    }


def build_rows() -> dict[str, list[dict[str, Any]]]:
    """Rows for each load statement, keyed by statement name (in load order)."""
    accounts: list[dict[str, Any]] = []
    membership: list[tuple[str, str]] = []
    used_ip: list[tuple[str, str]] = []
    payments: list[dict[str, Any]] = []
    templates: list[tuple[str, str]] = []
    clients: list[tuple[str, str]] = []

    camp = [f"acc-c{i:02d}" for i in range(40)]
    for i, acc in enumerate(camp):
        domain = "mailbox.example"
        if i == 0:
            domain = "halcyon-research.example"
        elif 1 <= i <= 4:
            domain = "northfield.example"
        # a burst: all created within one hour
        accounts.append(_account(acc, f"2026-01-03T02:{i:02d}:00Z", domain, n_exchanges=900,
                                 coding=0.6, reasoning=0.35, tool_use=0.05))
        membership.append((acc, "ent-camp"))
        used_ip.append((acc, DATACENTER_IPS[i % 3]))
        templates.append((acc, "tpl-camp"))
        clients.append((acc, "halcyon-sdk/0.9"))
        if 10 <= i < 20:
            payments.append({"account_id": acc, "fp": "card-camp", "bin": "535522", "name": "J SMITH"})
        elif i == 5:
            payments.append({"account_id": acc, "fp": f"card-c{i}", "bin": "535522", "name": "Halcyon Reserch Ltd"})
        elif i == 6:
            payments.append({"account_id": acc, "fp": f"card-c{i}", "bin": "535522", "name": "Dunmore Trading Co"})
    used_ip.append(("acc-c06", LAB_LEAK_IP))

    frag = [f"acc-f{i}" for i in range(5)]
    for i, acc in enumerate(frag):
        accounts.append(_account(acc, f"2026-01-05T03:{i:02d}:00Z", "mailbox.example", n_exchanges=700))
        membership.append((acc, "ent-frag"))
        used_ip.append((acc, DATACENTER_IPS[i % 3]))
        templates.append((acc, "tpl-camp"))
    payments.append({"account_id": "acc-f0", "fp": "card-camp", "bin": "535522", "name": "J SMITH"})

    for i in range(6):
        acc = f"acc-u{i}"
        accounts.append(_account(acc, f"2025-09-0{i + 1}T10:00:00Z", "northfield.example", declared_org="Northfield Univ."))
        membership.append((acc, "ent-lab"))
        used_ip.append((acc, UNI_NAT_IP))
        templates.append((acc, "tpl-course"))
    for i in range(30):
        acc = f"acc-s{i:02d}"
        accounts.append(_account(acc, f"2026-01-12T09:{i:02d}:00Z", "northfield.example", n_exchanges=12))
        membership.append((acc, f"ent-s{i:02d}"))
        used_ip.append((acc, UNI_NAT_IP))
        templates.append((acc, "tpl-course"))

    for i in range(8):
        acc = f"acc-a{i}"
        accounts.append(_account(acc, f"2025-06-1{i}T14:00:00Z", "acmewidgets.example", declared_org="Acme Widgets"))
        membership.append((acc, "ent-acme"))
        used_ip.append((acc, ACME_EGRESS_IP))
        payments.append({"account_id": acc, "fp": "card-acme", "bin": "411111", "name": "ACME WIDGETS INC."})
        clients.append((acc, "lumen-python/1.41.0"))

    accounts.append(_account("acc-solo", "2025-11-20T19:00:00Z", "mailbox.example", n_exchanges=5))
    membership.append(("acc-solo", "ent-solo"))
    used_ip.append(("acc-solo", SOLO_HOME_IP))
    clients.append(("acc-solo", "lumen-python/1.41.0"))

    for i in range(3):
        acc = f"acc-q{i}"
        accounts.append(_account(acc, f"2025-12-0{i + 1}T11:00:00Z", "mailbox.example"))
        membership.append((acc, "ent-quill"))
        used_ip.append((acc, SOLO_HOME_IP.replace("99", str(50 + i))))
        payments.append({"account_id": acc, "fp": f"card-q{i}", "bin": "400000", "name": "Quillon Systems"})

    for i in range(POPULATION):
        acc = f"acc-p{i:03d}"
        day = datetime(2025, 1, 1) + timedelta(days=i % 360, hours=i % 24)
        accounts.append(_account(acc, day.strftime("%Y-%m-%dT%H:%M:%SZ"), "mailbox.example", n_exchanges=6))
        membership.append((acc, f"ent-p{i:03d}"))

    return _assemble(accounts, membership, used_ip, payments, templates, clients)


def _degree(pairs: list[tuple[str, str]]) -> dict[str, int]:
    counts: dict[str, set[str]] = {}
    for account, value in pairs:
        counts.setdefault(value, set()).add(account)
    return {value: len(accs) for value, accs in counts.items()}


def _billing_norm(name: str) -> str:
    """Like normalize_name for these plain ASCII names: lower case, no dots, tokens sorted."""
    return " ".join(sorted(name.lower().replace(".", "").split()))


def _subnet_of(ip: str) -> str:
    return ".".join(ip.split(".")[:3]) + ".0/24"


def _assemble(accounts, membership, used_ip, payments, templates, clients) -> dict[str, list[dict[str, Any]]]:
    ip_degree = _degree(used_ip)
    network_type = {n["subnet"]: n["network_type"] for n in NETWORKS}
    domain_degree = _degree([(a["account_id"], a["domain"]) for a in accounts])
    template_degree = _degree(templates)
    client_degree = _degree(clients)
    entity_size = _degree(membership)
    entity_of = dict(membership)
    exchanges = {a["account_id"]: a["props"]["n_exchanges"] for a in accounts}
    entity_exchanges: dict[str, int] = {}
    for account, entity in membership:
        entity_exchanges[entity] = entity_exchanges.get(entity, 0) + exchanges[account]
    campaign = {"ent-camp": 0.97, "ent-frag": 0.81}

    org_asns = [{"org_id": o["org_id"], "asn": int(a)} for o in ORGANIZATIONS for a in (o["asns"] or "").split(";") if a]
    org_domains = [
        {"org_id": o["org_id"], "domain": d} for o in ORGANIZATIONS for d in (o["email_domains"] or "").split(";") if d
    ]
    links = [
        {"account_a": "acc-c10", "account_b": "acc-c11", "score": 0.92, "kinds": ["card"],
         "evidence": '[{"kind": "card", "value": "card-camp", "weight": 0.92}]'},
        {"account_a": "acc-c11", "account_b": "acc-c21", "score": 0.71, "kinds": ["ip", "template"],
         "evidence": '[{"kind": "ip", "value": "192.0.2.11", "weight": 0.4}, '
                     '{"kind": "template", "value": "tpl-camp", "weight": 0.5}]'},
        {"account_a": "acc-a0", "account_b": "acc-a1", "score": 0.9, "kinds": ["card"],
         "evidence": '[{"kind": "card", "value": "card-acme", "weight": 0.9}]'},
    ]
    return {
        "organizations": ORGANIZATIONS,
        "org_owns_asn": org_asns,
        "org_uses_domain": org_domains,
        "networks": NETWORKS,
        "ips": [
            {"ip": ip, "subnet": _subnet_of(ip), "network_type": network_type[_subnet_of(ip)], "n_accounts": n}
            for ip, n in ip_degree.items()
        ],
        "accounts": [{k: a[k] for k in ("account_id", "created_at_us", "first_seen_us", "last_seen_us", "props")}
                     for a in accounts],
        "email_domains": [
            {"domain": d, "n_accounts": n, "is_freemail": d == "mailbox.example", "is_disposable": False}
            for d, n in domain_degree.items()
        ],
        "account_email_domain": [{"account_id": a["account_id"], "domain": a["domain"]} for a in accounts],
        "cards": [{"card_fingerprint": v, "n_accounts": n} for v, n in _degree([(p["account_id"], p["fp"]) for p in payments]).items()],
        "card_bins": [{"card_bin": v, "n_accounts": n} for v, n in _degree([(p["account_id"], p["bin"]) for p in payments]).items()],
        "billing_names": [
            {"billing_name_norm": v, "n_accounts": n}
            for v, n in _degree([(p["account_id"], _billing_norm(p["name"])) for p in payments]).items()
        ],
        "payment_methods": [
            {
                "payment_method_id": f"pm-{p['account_id']}", "account_id": p["account_id"],
                "card_fingerprint": p["fp"], "card_bin": p["bin"], "billing_name_norm": _billing_norm(p["name"]),
                "added_at_us": FIRST_SEEN_US,
                "props": {"card_bin": p["bin"], "card_last4": "4242", "billing_name": p["name"]},
            }
            for p in payments
        ],
        "account_used_ip": [
            {"account_id": a, "ip": ip, "first_seen_us": FIRST_SEEN_US, "last_seen_us": LAST_SEEN_US, "n_events": 10}
            for a, ip in used_ip
        ],
        "user_agents": [
            {"ua": ua, "family": ua.split("/")[0], "version": ua.split("/")[1], "n_accounts": n}
            for ua, n in client_degree.items()
        ],
        "account_used_client": [
            {"account_id": a, "ua": ua, "first_seen_us": FIRST_SEEN_US, "last_seen_us": LAST_SEEN_US, "n": 20}
            for a, ua in clients
        ],
        "prompt_templates": [
            {"template_id": t, "example": "Solve step by step and show your reasoning: <num> ...", "task": "reasoning",
             "n_accounts": n, "n_exchanges": 25 * n}
            for t, n in template_degree.items()
        ],
        "account_used_template": [{"account_id": a, "template_id": t, "n": 25} for a, t in templates],
        "entities": [
            {"entity_id": e, "props": {"n_accounts": n, "n_exchanges": entity_exchanges[e],
                                        "campaign_score": campaign.get(e, 0.05), "is_campaign": e in campaign}}
            for e, n in entity_size.items()
        ],
        "resolved_to": [{"account_id": a, "entity_id": entity_of[a]} for a, _ in membership],
        "links": links,
    }


def build_graph(driver: Driver) -> dict[str, list[dict[str, Any]]]:
    """Empty the database, apply the schema, and load the hand-made rows with the real statements."""
    import pandas as pd

    from pipelines import graph
    from pipelines.graph import LOAD_ORDER
    from pipelines.neo4j_client import apply_schema, load_cypher

    with driver.session() as session:  # CALL { } IN TRANSACTIONS needs an auto-commit transaction
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 5000 ROWS").consume()
    apply_schema(driver)
    rows = build_rows()
    missing = [name for name in LOAD_ORDER if name not in rows]
    assert not missing, f"hand-made graph has no rows for load statements {missing}: add them"
    ids: dict[str, pd.Series] = {}  # read after the node statements that made them (LOAD_ORDER)

    def node_ids(file: str) -> pd.Series:
        if file not in ids:
            ids[file] = graph.node_ids(driver, file)
        return ids[file]

    for name in LOAD_ORDER:
        batch = rows[name]
        if name in graph.BY_ID_RELATIONSHIPS:  # these statements name their ends by internal node id
            by_id = graph.rows_by_id(pd.DataFrame(batch), graph.FULL_BY_ID[name], node_ids, graph.ROW_KEYS[name])
            assert len(by_id) == len(batch), f"{name}: a hand-made row names a node that is not in the graph"
            columns = graph._columns(by_id)
        else:  # straight from the hand-made dicts, so an int stays an int beside a null
            names = list(dict.fromkeys(key for row in batch for key in row))
            columns = graph.BatchColumns({key: [row.get(key) for row in batch] for key in names}, len(batch))
        driver.execute_query(load_cypher(name, folder="load"), rows=columns, load_token=LOAD_TOKEN)
    return rows

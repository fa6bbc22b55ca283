"""Issue 26 on small hand-made worlds: address overlap (Adamic-Adar over addresses outside
education/corporate networks), the "ip" blocker, template coherence, the strongest context
disagreement in ``combine_weights``, very weak cuts held only by demonstrated shared context,
and the whole chain on an operation that rotates through a proxy pool beside a campus behind
its NAT. No Neo4j; the module runs in a few seconds.
"""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pandas as pd
import pytest

from pipelines import links, resolve
from pipelines.features import account_features
from pipelines.links import ResolutionConfig
from pipelines.normalize import normalize_inputs
from test_links import T0, _background, make_tables

H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)


def _networks(rows: list[tuple[str, int, str, str]]) -> pd.DataFrame:
    cidr, asn, name, kind = zip(*rows)
    return pd.DataFrame({"cidr": pd.array(cidr, dtype="string"), "asn": list(asn),
                         "as_name": pd.array(name, dtype="string"), "network_type": pd.array(kind, dtype="string")})


def _prepared(tables: dict):
    tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
    norm = normalize_inputs(tables)
    return norm, account_features(norm)


# ----------------------------------------------------------------------------- address world

IP_NETWORKS = _networks([("10.1.0.0/24", 64601, "NORTHFIELD-UNI", "education"),
                         ("203.0.113.0/24", 64999, "FASTHOST", "datacenter"),
                         ("192.0.2.0/24", 64700, "HOMENET", "residential")])


@pytest.fixture(scope="module")
def ip_world():
    """Addresses only (no prompts, no cards):

    * bg0000-bg0299 each use the same 30 datacenter addresses (each address: 300 accounts),
      one address a day, at an hour of their own;
    * edu_a/edu_b share 3 addresses of the university network, on different days;
    * res_a/res_b share 3 home addresses that nobody else uses, on different days;
    * one_a/one_b share one home address, three days apart;
    * pool0-pool9 used one residential address, each on a day of its own (never the same hour);
    * nat0-nat9 used one education NAT address, each on a day of its own;
    * hour0-hour4 used another education NAT address in the same hour.
    """
    accounts = _background(300)
    events = [{"account_id": f"bg{i:04d}", "ip": f"203.0.113.{k + 1}", "ts": T0 + (24 * k + i % 24) * H}
              for i in range(300) for k in range(30)]
    for n, (x, y) in enumerate((("edu_a", "edu_b"), ("res_a", "res_b"))):
        net = ("10.1.0", "192.0.2")[n]
        for k in range(3):
            events += [{"account_id": x, "ip": f"{net}.{k + 1}", "ts": T0 + (24 * k + 9) * H},
                       {"account_id": y, "ip": f"{net}.{k + 1}", "ts": T0 + (24 * k + 200 + 14) * H}]
    events += [{"account_id": "one_a", "ip": "192.0.2.50", "ts": T0 + 10 * H},
               {"account_id": "one_b", "ip": "192.0.2.50", "ts": T0 + 82 * H}]
    events += [{"account_id": f"pool{i}", "ip": "192.0.2.77", "ts": T0 + (24 * i + i) * H} for i in range(10)]
    events += [{"account_id": f"nat{i}", "ip": "10.1.0.7", "ts": T0 + (24 * i + i) * H} for i in range(10)]
    events += [{"account_id": f"hour{i}", "ip": "10.1.0.8", "ts": T0 + 30 * D + 10 * H + i * pd.Timedelta(minutes=5)}
               for i in range(5)]
    named = {e["account_id"] for e in events} - {a["account_id"] for a in accounts}
    accounts += [{"account_id": x} for x in sorted(named)]
    return _prepared(make_tables(accounts, ip_events=events, networks=IP_NETWORKS))


def test_address_overlap_sums_the_rarity_of_shared_addresses_outside_institutions() -> None:
    """(count, Adamic-Adar) per pair from (account, address) entries: each shared address
    adds 1 / ln(accounts on it); institutional entries add nothing, not even to the count."""
    # address 0: datacenter, 300 accounts; address 1: home, 2 accounts; address 2: campus, 2 accounts
    rows = np.array([0, 1, 0, 1, 0, 1, 2, 3])
    cols = np.array([0, 0, 1, 1, 2, 2, 0, 2])
    g = np.array([300.0, 300.0, 2.0, 2.0, 2.0, 2.0, 300.0, 2.0])
    inst = np.array([False, False, False, False, True, True, False, True])
    count, aa = links._address_overlap(rows, cols, g, inst, 4, 3, np.array([0, 0, 1, 0]), np.array([1, 2, 2, 3]))
    assert count.tolist() == [2, 1, 1, 0]  # the campus address is not counted for (0, 1) nor (0, 3)
    np.testing.assert_allclose(aa, [1 / np.log(300) + 1 / np.log(2), 1 / np.log(300), 1 / np.log(300), 0.0])


def test_ip_overlap_levels_follow_the_adamic_adar_bounds(ip_world) -> None:
    norm, feats = ip_world
    assert links.IP_OVERLAP_BOUNDS == (1.0, 2.0, 4.0, 8.0)
    codes = links._account_codes(norm)
    pairs = {("bg0000", "bg0001"): 3,  # 30 addresses of 300 accounts: 30 / ln 300 = 5.3
             ("edu_a", "edu_b"): 0,     # 3 university addresses of 2 accounts: not counted at all
             ("res_a", "res_b"): 3,     # the same on home addresses: 3 / ln 2 = 4.3
             ("one_a", "one_b"): 1}     # one address of 2 accounts: 1 / ln 2 = 1.44
    assert 4 < 30 / np.log(300) < 8 and 4 < 3 / np.log(2) < 8 and 1 < 1 / np.log(2) < 2
    a = codes.get_indexer([x for x, _ in pairs])
    b = codes.get_indexer([y for _, y in pairs])
    cmp = links.compare_pairs(a, b, norm, feats, ResolutionConfig(), with_evidence=True)
    assert cmp.levels["ip_overlap"].tolist() == list(pairs.values())
    # the explanation counts the shared addresses (power-of-two ranges from 8 on)
    p, text, _ = cmp.evidence["ip_overlap"]
    assert dict(zip(p.tolist(), map(str, text))) == {0: "16-31 shared addresses", 2: "3 shared addresses",
                                                     3: "1 shared address"}


def test_ip_blocker_pairs_an_address_used_days_apart_but_not_an_education_nat(ip_world) -> None:
    norm, feats = ip_world
    cands = links.candidate_pairs(norm, feats, ResolutionConfig())
    blockers = {(x, y): set(str(k).split(",")) for x, y, k in
                zip(cands["account_a"], cands["account_b"], cands["blockers"])}

    def among(prefix: str, n: int) -> list[set[str] | None]:
        return [blockers.get((f"{prefix}{i}", f"{prefix}{j}")) for i, j in itertools.combinations(range(n), 2)]

    # a home/proxy address used on ten different days, never in one hour: every pair, by "ip" alone
    assert among("pool", 10) == [{"ip"}] * 45
    assert blockers[("one_a", "one_b")] == {"ip"} and blockers[("res_a", "res_b")] == {"ip"}
    # the same on a university NAT proposes nothing ...
    assert among("nat", 10) == [None] * 45
    assert ("edu_a", "edu_b") not in blockers
    # ... and students there in one hour meet through the same-hour blocker only
    assert among("hour", 5) == [{"ip_same_hour"}] * 10
    assert not any("ip" in k for (x, _), k in blockers.items() if x.startswith(("nat", "hour", "edu")))


# ----------------------------------------------------------------------------- a world of prompts

WORDS = ("garden river kitchen window market planet violin saddle harbor lantern meadow pencil rocket "
         "castle forest bridge candle mirror orchard pepper island ladder marble pillow rabbit silver "
         "thunder valley wallet yellow anchor basket cactus dolphin engine feather glacier hammer jungle "
         "kettle lemon magnet needle ocean parrot quartz ribbon shadow tiger umbrella velvet walnut zebra "
         "almond blanket cherry desert falcon guitar helmet insect jacket koala lizard mango nutmeg olive "
         "panda quilt radish spider tomato urchin vapor whistle yogurt acorn beetle copper daisy ember "
         "fossil goblet hazel igloo jigsaw kayak lotus mosaic nectar oyster prism quiver raven sapphire "
         "tulip unicorn vortex willow bamboo canyon drizzle eclipse fjord geyser horizon iceberg lagoon "
         "monsoon nebula oasis plateau quasar reef savanna tundra volcano").split()
VERBS = "explain compare describe summarise imagine list rewrite translate critique outline".split()
FIRST = "ana ben chloe david elena farid grace hugo ines jonas kira liam maya noah olga pavel quinn rosa sami tara".split()
LAST = "adams brown costa diaz evans fischer garcia hansen ito jensen kim lopez meyer novak olsen perez rossi silva".split()
BROWSERS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Edg/124.0",
]
SDK = "harvest-client/2.3.1 python-httpx/0.27.0"
SCRIPTS = [
    "Solve the following olympiad problem and write out every intermediate reasoning step before the final answer: "
    "find the remainder when {a} raised to the power {b} is divided by {c}.",
    "You are a careful tutor. Derive, step by step with full justification, the closed form of the sum of the first "
    "{a} terms of the sequence whose first term is {b} and whose common difference is {c}.",
    "Write a Python function that returns the {a}th prime number greater than {b}, then trace its execution by hand "
    "for the input {c} and report the time complexity with a proof.",
    "Translate this reasoning puzzle into first order logic and prove it formally: if {a} knights and {b} knaves "
    "stand in a circle of {c} people, who must be lying?",
    "Act as a senior code reviewer. The attached diff of {a} lines changes a cache eviction policy from LRU to LFU "
    "with {b} buckets and {c} shards; list every concurrency bug and the exact fix.",
    "Give a chain of thought for the chemistry question: how many grams of water form when {a} grams of hydrogen "
    "burn with {b} grams of oxygen at {c} degrees, stating each stoichiometric step.",
    "Call the tool search_papers with the query about sparse attention benchmark number {a}, pick the top {b} "
    "results, and explain for each of the {c} papers why it was chosen, thinking aloud.",
    "Play both sides of a chess endgame with a king and {a} pawns against a king and {b} pawns on file {c}; "
    "explain the plan behind every single move in detail.",
]
POPULAR = "How do I reverse a linked list in Python? Please explain it simply with a short example of {a} nodes."
HOMEWORK = [
    "Homework help: what is the derivative of x to the power {a} times the sine of x, and why does the product rule apply here?",
    "Can you explain the difference between mitosis and meiosis for my biology class, in about {a} sentences?",
    "Essay question: what were the main causes of the first world war? I need {a} key points for my history seminar.",
    "How do I compute the standard deviation of the numbers {a}, {b} and {c} for my statistics assignment by hand?",
    "Explain supply and demand equilibrium for the microeconomics course, with a worked example using a price of {a} dollars.",
    "For my physics lab report: a ball is dropped from {a} metres, how long does it take to hit the ground ignoring air resistance?",
]
N_BACKGROUND, N_OPERATION, N_CAMPUS, N_POOL = 300, 60, 150, 20


def _own_prompt(rng: np.random.Generator) -> str:
    """A personal prompt: random words, no template shared with anyone (and no digits)."""
    return f"{rng.choice(VERBS)} " + " ".join(rng.choice(WORDS, size=int(rng.integers(8, 14))))


def _slots(rng: np.random.Generator, hi: int) -> dict[str, int]:
    return {k: int(rng.integers(2, hi)) for k in "abc"}


def _person(rng: np.random.Generator, account_id: str, created: pd.Timestamp, domain: str = "gmail.com") -> tuple[dict, dict]:
    """An account and its own card (BINs and expiry dates drawn from few values: they collide)."""
    first, last = rng.choice(FIRST).title(), rng.choice(LAST).title()
    account = {"account_id": account_id, "created_at": created, "display_name": f"{first} {last}",
               "email": f"{first}.{last}.{account_id}@{domain}".lower(), "country": "US"}
    card = {"account_id": account_id, "card_fingerprint": f"fp_{account_id}", "card_bin": str(rng.integers(400000, 400060)),
            "card_last4": f"{int(rng.integers(0, 10000)):04d}", "card_exp": f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(27, 31))}",
            "billing_name": f"{first} {last}", "billing_address": f"{int(rng.integers(1, 999))} {rng.choice(WORDS).title()} Street",
            "billing_country": "US"}
    return account, card


def prompt_world(seed: int = 26) -> tuple[dict, dict[str, list[str]]]:
    """Contract tables and the true groups:

    * background: 300 individuals with their own card, home address and hours; 5 browser
      strings in equal shares (three developers use the operation's SDK string); each writes
      their own prompts and asks one popular question (a how-to asked by all 300);
    * operation: 60 accounts signed up over a month, each with its own card, rotating per
      request through a pool of 20 datacenter addresses, one SDK client string, and 5 of
      its 8 script templates (numeric slots filled at random), round the clock;
    * campus: 150 students on northfield.edu, signed up in the three days of term start,
      behind two education-network NAT addresses, browsers in the population's mix, each
      asking 4 or 5 of the same 6 homework questions plus 3 prompts of their own.
    """
    rng = np.random.default_rng(seed)
    accounts, payments, exchanges = [], [], []
    groups: dict[str, list[str]] = {"background": [], "operation": [], "campus": []}

    def add(group: str, account: dict, card: dict) -> None:
        groups[group].append(account["account_id"])
        accounts.append(account)
        payments.append(card)

    for i in range(N_BACKGROUND):
        acc, card = _person(rng, f"bg{i:04d}", T0 + rng.uniform(0, 60) * D)
        add("background", acc, card)
        home = f"100.{64 + i // 250}.{i % 250}.{int(rng.integers(1, 250))}"
        ua = SDK if i < 3 else BROWSERS[i % len(BROWSERS)]
        hour = int(rng.integers(7, 23))
        for p in [_own_prompt(rng) for _ in range(int(rng.integers(8, 16)))] + [POPULAR.format(**_slots(rng, 9))]:
            day = (acc["created_at"] + rng.uniform(0, 40) * D).normalize()
            exchanges.append({"account_id": acc["account_id"], "ts": day + (hour + rng.normal(0, 1.5)) * H,
                              "prompt": p, "ip": home, "user_agent": ua})
    for i in range(N_OPERATION):
        acc, card = _person(rng, f"op{i:04d}", T0 + 10 * D + rng.uniform(0, 30) * D)
        add("operation", acc, card)
        mine = rng.choice(len(SCRIPTS), size=5, replace=False)
        for _ in range(40):
            exchanges.append({"account_id": acc["account_id"], "ts": acc["created_at"] + rng.uniform(0.1, 21) * D,
                              "prompt": SCRIPTS[int(rng.choice(mine))].format(**_slots(rng, 999)),
                              "ip": f"203.0.113.{int(rng.integers(1, N_POOL + 1))}", "user_agent": SDK, "tool_calls": 1})
    term = T0 + 30 * D
    for i in range(N_CAMPUS):
        acc, card = _person(rng, f"st{i:04d}", term + rng.uniform(0, 72) * H, domain="northfield.edu")
        add("campus", acc, card)
        ua = BROWSERS[int(rng.integers(0, len(BROWSERS)))]
        asks = [HOMEWORK[k].format(**_slots(rng, 30)) for k in rng.choice(len(HOMEWORK), size=int(rng.integers(4, 6)), replace=False)]
        for p in asks + [_own_prompt(rng) for _ in range(3)]:
            day = term + int(rng.integers(0, 35)) * D
            exchanges.append({"account_id": acc["account_id"], "ts": day + rng.uniform(9, 17) * H, "prompt": p,
                              "ip": f"10.1.0.{7 + i % 2}", "user_agent": ua})
    networks = _networks([("10.1.0.0/24", 64601, "NORTHFIELD-UNI", "education"),
                          ("203.0.113.0/24", 64999, "FASTHOST", "datacenter")])
    tables = make_tables(accounts, payments, exchanges=exchanges, networks=networks)
    # no card-number look-alikes in the generated text (the contract would reject the rows)
    assert not tables["exchanges"]["prompt"].str.contains(r"\d{12,19}", regex=True).any()
    return tables, groups


@pytest.fixture(scope="module")
def world():
    tables, groups = prompt_world()
    norm, feats = _prepared(tables)
    return norm, feats, groups


@pytest.fixture(scope="module")
def resolved(world):
    norm, feats, groups = world
    res = resolve.resolve_accounts(norm, feats, ResolutionConfig())
    return res.account_entities.set_index("account_id")["entity_id"], groups


def _templates_used_only_by(feats, members: list[str], min_users: int) -> list[str]:
    users: dict[str, set[str]] = {}
    for t, a in zip(feats.account_templates["template_id"].astype(str), feats.account_templates["account_id"].astype(str)):
        users.setdefault(t, set()).add(a)
    inside = set(members)
    return sorted(t for t, u in users.items() if len(u) >= min_users and u <= inside)


def test_template_coherence_tells_scripts_from_popular_and_campus_questions(world) -> None:
    norm, feats, groups = world
    n = len(norm.accounts)
    scripts = _templates_used_only_by(feats, groups["operation"], 20)
    popular = _templates_used_only_by(feats, groups["background"], 100)
    homework = _templates_used_only_by(feats, groups["campus"], 30)
    assert len(scripts) == len(SCRIPTS) and len(popular) == 1 and len(homework) == len(HOMEWORK)
    t = feats.templates.set_index("template_id", drop=False)

    def coherent(f, ids: list[str]) -> list[bool]:
        return links.template_coherence(f, t.loc[ids].reset_index(drop=True), n).tolist()

    # every template of the operation: its users share the SDK string (held by 3 others) ...
    assert coherent(feats, scripts) == [True] * len(scripts)
    no_addresses = dataclasses.replace(feats, ip_hours=feats.ip_hours.iloc[:0])
    assert coherent(no_addresses, scripts) == [True] * len(scripts)
    # ... and, without any client string, its pool of addresses
    no_client = dataclasses.replace(feats, accounts=feats.accounts.assign(ua_top=pd.array([None] * n, dtype="string")))
    assert coherent(no_client, scripts) == [True] * len(scripts)
    # a how-to asked by 300 people at home, from the population's browsers: not coherent (a
    # browser held by a fifth of its users is held by a sixth of everyone)
    assert coherent(feats, popular) == [False]
    # homework behind the campus NAT: not coherent, because the NAT is an institution's ...
    assert coherent(feats, homework) == [False] * len(HOMEWORK)
    # ... the same addresses on a residential network would make every homework question coherent
    home = feats.ip_hours.assign(network_type=feats.ip_hours["network_type"].replace("education", "residential"))
    assert coherent(dataclasses.replace(feats, ip_hours=home), homework) == [True] * len(HOMEWORK)

    # template weights: a common template keeps its weight only when coherent
    tw = links.template_weights(feats, n, ResolutionConfig()).set_index("template_id")
    generic = ResolutionConfig().template_generic_share * n
    assert (tw.loc[scripts, "n_accounts"] > generic).all() and (tw.loc[scripts, "idf"] > 0).all()
    assert (tw.loc[scripts, "family_size"] == len(SCRIPTS)).all()
    assert (tw.loc[popular + homework, "idf"] == 0).all()


def test_an_operation_joined_only_by_its_pool_client_and_scripts_is_one_entity(resolved) -> None:
    ent, groups = resolved
    op = ent.loc[groups["operation"]].value_counts()
    assert op.iloc[0] >= 0.9 * N_OPERATION, op.to_dict()
    members = ent[ent == op.index[0]].index
    assert set(members) <= set(groups["operation"])  # nobody else in it


def test_a_campus_behind_its_nat_asking_the_same_homework_stays_apart(resolved) -> None:
    ent, groups = resolved
    for group in ("campus", "background"):
        sizes = ent.loc[groups[group]].value_counts()
        assert sizes.max() == 1, (group, sizes[sizes > 1].to_dict())


# ----------------------------------------------------------------------------- combine_weights


def test_combine_weights_counts_operator_strongest_context_and_strongest_disagreement() -> None:
    """Pairs: 0 gate (same card) + address overlap + a different client string; 1 the same
    without the gate; 2 gate with incidental templates as the strongest context; 3 gate, no
    disagreement."""
    levels = {"payment": np.array([3, 0, 3, 3]), "name": np.array([0, 0, 0, 0]), "identity": np.array([0, 0, 0, 0]),
              "templates": np.array([0, 0, 1, 0])}
    contrib = {
        "payment": np.array([9.0, -0.1, 9.0, 9.0]), "name": np.full(4, -0.2), "identity": np.full(4, 0.1),
        "templates": np.array([-0.5, -0.5, 5.0, -0.5]),
        "ip_overlap": np.array([4.0, 4.0, 4.0, 4.0]), "ip": np.array([2.5, 2.5, 2.5, 2.5]),
        "signup_time": np.array([1.0, 1.0, 1.0, 1.0]), "timing": np.array([-0.4, -0.4, -0.4, 0.3]),
        "client_ua": np.array([-3.0, -3.0, -3.0, 0.0]), "event_template": np.zeros(4),
    }
    assert set(contrib) == set(links.OPERATOR_KINDS) | set(links.CONTEXT_KINDS)
    assert links.GATE_LEVEL["payment"] <= 3 and links.GATE_LEVEL["templates"] > 1
    got = links.combine_weights(contrib, levels)
    operator = 9.0 - 0.2 + 0.1 - 0.5
    np.testing.assert_allclose(got, [
        operator + 4.0 - 3.0,                # strongest context once, strongest disagreement once
        -0.1 - 0.2 + 0.1 - 0.5 - 3.0,        # no gate: context adds nothing, the disagreement still counts
        9.0 - 0.2 + 0.1 + 5.0 - 3.0,         # a weak operator kind is context (and not summed as operator)
        operator + 4.0,                      # nothing disagrees
    ])


# ----------------------------------------------------------------------------- very weak cuts


def _two_blocks(size: int, crossing: int, crossing_context: bool):
    """Two complete blocks whose inner links all share two context kinds (rare IP, sign-up
    window, not the client), joined by ``crossing`` distinct links that carry the same
    context or none. Returns (n, ea, eb, ew, context)."""
    inner = [(i + off, j + off) for off in (0, size) for i, j in itertools.combinations(range(size), 2)]
    cross = [(i % size, size + (i // size + i) % size) for i in range(crossing)]
    assert len(set(cross)) == crossing
    pairs = np.array(inner + cross)
    flags = np.zeros((len(pairs), len(resolve.CONTEXT_LEVELS)), dtype=np.uint8)
    flags[:, :2] = 1
    if not crossing_context:
        flags[len(inner):] = 0
    return 2 * size, pairs[:, 0], pairs[:, 1], np.full(len(pairs), 6.0), flags


def _clusters(n, ea, eb, ew, context) -> int:
    none = (np.zeros(0, np.int64), np.zeros(0, np.int64))
    return len(np.unique(resolve._support_agglomeration(n, ea, eb, ew, ResolutionConfig().cluster_support, none, context)))


def test_a_very_weak_cut_is_held_only_by_demonstrated_shared_context() -> None:
    support = ResolutionConfig().cluster_support
    proof = resolve.CONTEXT_PROOF
    few, many = int(max(5, proof // 2)), int(3 * proof)
    assert 5 <= few < proof <= many
    for crossing in (few, many):
        n, ea, eb, ew, ctx = _two_blocks(40, crossing, True)
        graph, *ctx_graphs = resolve._symmetric_graphs(n, ea, eb, [ew, np.ones(len(ea), np.uint8), *ctx.T])
        side, conductance = resolve._sweep_cut(graph)
        assert conductance < support / 2  # a very weak cut, and it is the blocks' boundary
        assert side.sum() == 40 and len(set(side[:40].tolist())) == 1
        nodes = np.arange(n)
        # the crossing links carry the inner links' context: enough of them (>= CONTEXT_PROOF
        # expected agreements) hold the blocks together, a handful does not
        assert resolve._same_context(ctx_graphs, nodes, side, min_expected=5.0)
        assert resolve._same_context(ctx_graphs, nodes, side, min_expected=proof) == (crossing >= proof)
        assert _clusters(n, ea, eb, ew, ctx) == (1 if crossing >= proof else 2)
    # many crossing links without the context: two operators, split
    n, ea, eb, ew, ctx = _two_blocks(40, many, False)
    assert _clusters(n, ea, eb, ew, ctx) == 2

"""Blocking and pair scoring on hand-made worlds, including adversarial look-alikes."""

from __future__ import annotations

import json


import numpy as np
import pandas as pd

from pipelines.features import account_features
from pipelines.links import MATCH_TYPES, ResolutionConfig, candidate_pairs, pairs_from_groups, score_pairs
from pipelines.normalize import normalize_inputs

T0 = pd.Timestamp("2026-03-01T00:00:00Z")
STRING_COLS = {
    "accounts": ["account_id", "email", "display_name", "declared_org", "country", "phone", "signup_ip", "signup_user_agent"],
    "payment_methods": ["payment_method_id", "account_id", "card_fingerprint", "card_bin", "card_last4", "card_exp",
                        "billing_name", "billing_address", "billing_postcode", "billing_country"],
    "ip_events": ["account_id", "ip", "user_agent", "event"],
    "exchanges": ["exchange_id", "account_id", "api_key_id", "model", "prompt", "ip", "user_agent"],
}
TS_COLS = {"accounts": ["created_at"], "payment_methods": ["added_at"], "ip_events": ["ts"], "exchanges": ["ts"]}


def _frame(name: str, rows: list[dict]) -> pd.DataFrame:
    cols = STRING_COLS[name] + TS_COLS[name] + (["input_tokens", "output_tokens", "tool_calls"] if name == "exchanges" else [])
    frame = pd.DataFrame(rows, columns=cols)
    for c in STRING_COLS[name]:
        frame[c] = frame[c].astype("string")
    for c in TS_COLS[name]:
        frame[c] = pd.to_datetime(frame[c], utc=True).astype("datetime64[us, UTC]")
    for c in ("input_tokens", "output_tokens", "tool_calls"):
        if c in frame:
            frame[c] = frame[c].fillna(0).astype("int64")
    return frame


def make_tables(accounts: list[dict], payments=(), ip_events=(), exchanges=(), networks=None) -> dict:
    """Contract-typed tables from short row dicts (missing columns are null)."""
    base = [{"created_at": T0, "email": f"{a['account_id']}@gmail.com", **a} for a in accounts]
    return {
        "accounts": _frame("accounts", base),
        "payment_methods": _frame("payment_methods", [{"payment_method_id": f"pm{i}", "added_at": T0, **p} for i, p in enumerate(payments)]),
        "ip_events": _frame("ip_events", [{"event": "login", **e} for e in ip_events]),
        "exchanges": _frame("exchanges", [{"exchange_id": f"x{i}", "model": "m1", "input_tokens": 10, "output_tokens": 50, **e}
                                          for i, e in enumerate(exchanges)]),
        "networks": networks if networks is not None else pd.DataFrame(
            {"cidr": pd.Series([], dtype="string"), "asn": pd.Series([], dtype="int64"),
             "as_name": pd.Series([], dtype="string"), "network_type": pd.Series([], dtype="string")}),
    }


def scored_world(tables: dict) -> pd.DataFrame:
    tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
    norm = normalize_inputs(tables)
    feats = account_features(norm)
    cands = candidate_pairs(norm, feats, ResolutionConfig())
    return score_pairs(cands, norm, feats, ResolutionConfig())


def pair(scored: pd.DataFrame, x: str, y: str) -> pd.Series | None:
    a, b = min(x, y), max(x, y)
    hit = scored[(scored["account_a"] == a) & (scored["account_b"] == b)]
    return None if hit.empty else hit.iloc[0]


def _background(n: int) -> list[dict]:
    return [{"account_id": f"bg{i:04d}", "created_at": T0 + pd.Timedelta(hours=7 * i)} for i in range(n)]


def test_small_groups_give_all_pairs_big_groups_a_ring_and_generic_values_none() -> None:
    acc = np.r_[np.arange(5), np.arange(100, 400), np.arange(1000, 4000)]
    grp = np.r_[np.zeros(5), np.ones(300), np.full(3000, 2)].astype(np.int64)
    p = pairs_from_groups(acc, grp, all_pairs_cap=25, generic_cap=2000, ring_k=4)
    assert len(p[p["group"] == 0]) == 10
    big = p[p["group"] == 1]
    assert len(big) <= 300 * 4  # bounded: no 300*299/2 explosion
    assert set(big["a"]).union(big["b"]) == set(range(100, 400))
    assert (p["group"] == 2).sum() == 0  # shared by 3000 accounts: generic, no pairs
    assert (p["a"] < p["b"]).all()


def test_same_card_fingerprint_is_strong_and_an_address_shared_by_300_is_weak() -> None:
    accounts = _background(420) + [{"account_id": "card_a"}, {"account_id": "card_b", "created_at": T0 + pd.Timedelta(days=20)}]
    payments = [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}", "billing_address": "1 Campus Way, Northfield"}
                for i in range(300)]
    payments += [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}", "billing_address": f"{i} Other St"} for i in range(300, 420)]
    # households / companies sharing a card, so EM has matches to learn from
    for h in range(20):
        payments += [{"account_id": f"bg{300 + 2 * h:04d}", "card_fingerprint": f"shared{h}"},
                     {"account_id": f"bg{301 + 2 * h:04d}", "card_fingerprint": f"shared{h}"}]
    payments += [{"account_id": "card_a", "card_fingerprint": "fp_family", "billing_address": "9 Elm Rd"},
                 {"account_id": "card_b", "card_fingerprint": "fp_family", "billing_address": "77 Oak Ave"}]
    scored = scored_world(make_tables(accounts, payments))
    strong = pair(scored, "card_a", "card_b")
    assert strong is not None and strong["lvl_payment"] == 3  # same card fingerprint
    params = pd.DataFrame(scored.attrs["parameters"]).set_index(["match_type", "kind", "level"])
    assert params.loc[("personal", "payment", 3), "weight"] > 8  # a shared card: > 2^8 likelihood ratio
    campus = scored[scored["account_a"].str.startswith("bg0") & scored["account_b"].str.startswith("bg0")]
    campus = campus[(campus["a"] < 300) & (campus["b"] < 300)]
    assert len(campus) > 0
    assert (campus["match_probability"] < 0.5).all()
    assert (campus["lvl_payment"] == 2).all()  # they do share the address ...
    assert campus["score"].max() + 8 < strong["score"]  # ... but it is worth far less than a card


def _daily_at_ten(ip: str, accounts: range, days: int = 3) -> list[dict]:
    """Log-ins of background accounts from one address every day at 10:00 (a NAT, a proxy)."""
    return [{"account_id": f"bg{i:04d}", "ip": ip, "ts": T0 + pd.Timedelta(hours=d * 24 + 10)}
            for i in accounts for d in range(days)]


def _card_pairs() -> list[dict]:
    """Background accounts 150-299 in pairs sharing a card: true matches for EM to learn from."""
    return [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i // 2}"} for i in range(150, 300)]


def test_nat_address_shared_by_many_in_the_same_hour_does_not_link_strangers() -> None:
    accounts = _background(300)
    # 30 students behind one NAT address every day at 10:00, 120 more behind another one
    events = _daily_at_ten("198.51.100.7", range(30)) + _daily_at_ten("198.51.100.8", range(30, 150))
    scored = scored_world(make_tables(accounts, _card_pairs(), events))
    nat = scored[(scored["a"] < 30) & (scored["b"] < 30)]
    assert len(nat) > 0 and (nat["match_probability"] < 0.5).all()
    # 120 accounts in one hour exceed the IP-hour cap; the address blocker proposes a ring
    # of pairs (an operation's pool is used weeks apart), and one common address links none
    crowd = scored[(scored["a"].between(30, 149)) & (scored["b"].between(30, 149))]
    assert len(crowd) <= 120 * 4
    assert (crowd["match_probability"] < 0.5).all()


def test_a_common_address_on_an_institution_network_is_its_own_ip_level() -> None:
    """30 students behind a university NAT and 30 customers behind a datacenter proxy: both
    addresses are common (> 25 accounts), but the university's is an institution's network
    (networks.csv type education/corporate) and gets its own level, so EM weighs it apart."""
    from pipelines.links import IP_RARE_LEVEL

    accounts = _background(300)
    events = _daily_at_ten("10.1.0.7", range(30)) + _daily_at_ten("10.2.0.7", range(30, 60))
    networks = pd.DataFrame({"cidr": pd.array(["10.1.0.0/24", "10.2.0.0/24"], dtype="string"),
                             "asn": [64601, 64999], "as_name": pd.array(["UNI-NET", "HOSTING"], dtype="string"),
                             "network_type": pd.array(["education", "datacenter"], dtype="string")})
    scored = scored_world(make_tables(accounts, _card_pairs(), events, networks=networks))
    campus = scored[(scored["a"] < 30) & (scored["b"] < 30)]
    proxy = scored[scored["a"].between(30, 59) & scored["b"].between(30, 59)]
    assert len(campus) > 0 and len(proxy) > 0
    assert (campus["lvl_ip"] == 1).all()
    assert (proxy["lvl_ip"] == 2).all()
    assert IP_RARE_LEVEL == 3 and (scored["lvl_ip"] <= IP_RARE_LEVEL + 2).all()
    assert (campus["match_probability"] < 0.5).all()


def test_evidence_text_is_exactly_json_dumps() -> None:
    """links.csv evidence is built column-wise; it must stay the text json.dumps writes."""
    import json

    from pipelines.links import Comparison, _evidence_json

    values = np.array(['card_fingerprint=fp"1', "name=zoë \\ o'neil", "email=a\nb@x.org", "ip=203.0.113.5", "phone=+1 555"], dtype=object)
    levels = {"payment": np.array([3, 0, 1, 2, 0], np.int8), "name": np.array([0, 2, 2, 0, 1], np.int8),
              "timing": np.array([1, 1, 0, 0, 0], np.int8)}
    names = {"payment": ["none", "bin", "addr", "card"], "name": ["none", "similar", "same"], "timing": ["no", "similar \"hours\""]}
    evidence = {"payment": (np.array([0, 2, 3]), values[[0, 2, 3]], np.zeros(3)), "name": (np.array([1]), values[[1]], np.zeros(1))}
    contrib = {"payment": np.array([12.3456, 0.0, -0.0004, 1e-3, 5.0]), "name": np.array([0.0, 7.0, -2.5, 0.0, 1 / 3]),
               "timing": np.array([0.1, 2.0, 0.0, 0.0, 0.0])}
    cmp = Comparison(levels=levels, level_names=names, evidence=evidence)
    rows = np.array([0, 1, 2, 4])
    got = _evidence_json(cmp, {k: v[rows] for k, v in contrib.items()}, 5, rows)
    for r in range(5):
        if r not in rows:
            assert got[r] == "[]"
            continue
        items = []
        for kind, lv in levels.items():
            if lv[r] == 0:
                continue
            value = names[kind][lv[r]]
            if kind in evidence and r in evidence[kind][0].tolist():
                value = evidence[kind][1][evidence[kind][0].tolist().index(r)]
            items.append({"kind": kind, "value": str(value), "weight": float(np.round(contrib[kind][r], 3))})
        assert got[r] == json.dumps(items, ensure_ascii=False)


def test_shared_sums_by_products_equal_the_lookup_join(monkeypatch) -> None:
    """Pairs of long rows are summed by sparse products, block by block; the numbers must be
    those of the shared-column join for every pair (sorted candidates and random pairs with
    repeats), whatever the block size."""
    from scipy import sparse

    from pipelines.links import sparse_joins as joins

    rng = np.random.default_rng(3)
    n_rows, n_cols = 300, 80
    deg = np.where(np.arange(n_rows) < 120, rng.integers(20, 60, n_rows), rng.integers(0, 6, n_rows))
    rows = np.repeat(np.arange(n_rows), deg)
    cols = np.concatenate([rng.choice(n_cols, d, replace=False) for d in deg])
    m = sparse.csr_matrix((rng.integers(1, 9, len(rows)).astype(float), (rows, cols)), shape=(n_rows, n_cols))
    # every pair of the long rows (an operation's accounts are all candidates) and random others
    la, lb = np.triu_indices(120, k=1)
    keys = np.unique(np.r_[la * n_rows + lb, rng.integers(0, n_rows, 6000) * n_rows + rng.integers(0, n_rows, 6000)])
    a, b = keys // n_rows, keys % n_rows
    keep = a < b
    calls = []
    gram = joins._gram_sums
    monkeypatch.setattr(joins, "_gram_sums", lambda *args: calls.append(1) or gram(*args))
    monkeypatch.setattr(joins, "GRAM_BLOCK_ENTRIES", 500)  # many blocks
    for x, y in ((a[keep], b[keep]), (np.r_[la, la, rng.integers(0, n_rows, 3000)], np.r_[lb, lb, rng.integers(0, n_rows, 3000)])):
        expected = joins.lookup_sums(m, m, x, y)
        got = joins.shared_sums(m, m, x, y)
        assert expected[0].sum() > 1000  # long rows share many columns
        for e, g in zip(expected, got):
            np.testing.assert_array_equal(e, g)
    assert len(calls) == 2


def _levels(rows: list[tuple[int, dict[str, int]]], kinds: dict[str, int]) -> dict[str, np.ndarray]:
    """Level columns from (number of pairs, {kind: level}) blocks; kinds not named are 0."""
    return {k: np.concatenate([np.full(n, lv.get(k, 0), dtype=np.int64) for n, lv in rows]) for k in kinds}


def test_households_keep_their_weight_beside_a_campaign_of_many_thousand_pairs() -> None:
    """With one match type, 60,000 pairs inside one operation make "no shared template" and
    "different hours" strong evidence against any match, and a household (same card, same
    name, same rare address, nothing else) stays apart. Its own match type keeps it; strangers
    with cards of one BIN and expiry behind one proxy pool still are no match."""
    from pipelines.links import Comparison, estimate_parameters, mixture_score, type_allowed

    kinds = {"payment": 4, "name": 3, "identity": 3, "ip": 6, "templates": 6, "timing": 3}
    names = {k: [f"{k}{i}" for i in range(n)] for k, n in kinds.items()}
    household = {"payment": 3, "name": 2, "ip": 5}
    strangers = {"payment": 1, "ip": 2}  # same BIN + expiry, same busy proxy address
    campaign = {"templates": 5, "timing": 2, "ip": 2}
    cand = _levels([(60_000, campaign), (300, household), (3_000, strangers), (50_000, {"ip": 2}),
                    (30_000, {"templates": 1}), (20_000, {"timing": 1})], kinds)
    rand = _levels([(200, {"ip": 2}), (600, {"templates": 1}), (600, {"timing": 1}), (6, {"payment": 1}),
                    (198_594, {})], kinds)
    n_cand = len(cand["ip"])
    params = estimate_parameters(Comparison(cand, names), Comparison(rand, names), ResolutionConfig(),
                                 candidate_share=n_cand / 5e9)
    weights = params.weights()
    assert weights["operation"]["templates"][0] < -5  # an operation's accounts share its scripts ...
    assert weights["personal"]["templates"][0] > -1  # ... a household's do not, and that is no evidence against it

    probe = _levels([(1, household), (1, strangers), (1, campaign), (1, {"ip": 2})], kinds)
    score, match_type = mixture_score(
        lambda t: {k: weights[MATCH_TYPES[t]][k][lv] for k, lv in probe.items()}, probe, params)
    score += np.log2(params.candidate_share)
    prob = 1 / (1 + 2.0 ** -(score + np.log2(params.match_share / (1 - params.match_share))))
    assert prob[0] > 0.99 and MATCH_TYPES[match_type[0]] == "personal"
    assert prob[1] < 0.5  # a BIN and expiry behind a proxy pool name nobody
    assert prob[2] > 0.99 and MATCH_TYPES[match_type[2]] == "operation"
    assert prob[3] < 0.01
    # only a card, a name, an e-mail or a phone lets the personal type explain a pair (on an
    # independent world it otherwise learnt BIN + expiry coincidences as matches)
    allowed = type_allowed(probe)[MATCH_TYPES.index("personal")]
    assert allowed.tolist() == [True, False, False, False]


def _campus_world(extra: int = 0, new_address: int = 0) -> dict:
    """300 accounts billed to one campus address, 20 households sharing a card, and
    ``extra`` newcomers who share nothing (a day's sign-ups), the first ``new_address`` of
    them billed to one new address."""
    accounts = _background(420 + extra)
    payments = [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}",
                 "billing_address": "1 Campus Way, Northfield" if i < 300 else f"{i} Other St"} for i in range(420)]
    for h in range(20):
        payments += [{"account_id": f"bg{300 + 2 * h:04d}", "card_fingerprint": f"shared{h}"},
                     {"account_id": f"bg{301 + 2 * h:04d}", "card_fingerprint": f"shared{h}"}]
    payments += [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}"} for i in range(420, 420 + extra)]
    for row in payments[-extra:][:new_address] if extra else []:
        row["billing_address"] = "9 New Rd, Upton"
    return make_tables(accounts, payments)


def test_a_reused_model_scores_unchanged_pairs_as_yesterday() -> None:
    def _inputs(extra: int, new_address: int = 0) -> tuple:
        tables = _campus_world(extra, new_address)
        tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
        norm = normalize_inputs(tables)
        feats = account_features(norm)
        return candidate_pairs(norm, feats, ResolutionConfig()), norm, feats

    def scored(extra: int, reuse: str | None = None, new_address: int = 0) -> pd.DataFrame:
        return score_pairs(*_inputs(extra, new_address), ResolutionConfig(), reuse=reuse)

    def keyed(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.set_index(["account_a", "account_b"])[["score", "evidence"]].sort_index()

    yesterday = scored(0)
    assert yesterday.attrs["parameters_reused"] is False
    model = yesterday.attrs["parameters_json"]
    # the saved model round-trips: the same world scores exactly as with the fitted one
    again = scored(0, reuse=model)
    assert again.attrs["parameters_reused"] is True
    pd.testing.assert_frame_equal(keyed(again), keyed(yesterday))
    # a day later, 60 newcomers: with the model reused, every old pair keeps score and evidence
    # (the campus address's term frequency is taken against the fitted population) ...
    today = keyed(scored(60, reuse=model))
    pd.testing.assert_frame_equal(today.loc[keyed(yesterday).index], keyed(yesterday))
    # ... while a refit moves the scores of the pairs that share the campus address
    refit = keyed(scored(60))
    campus = [i for i in keyed(yesterday).index if i[0] < "bg0300" and i[1] < "bg0300"]
    assert len(campus) and not np.allclose(refit.loc[campus, "score"], today.loc[campus, "score"])
    # three newcomers billed to one new address: a new value at the campus address's level,
    # which moves the level's term-frequency reference on a refit; the reused model holds the
    # fitted reference, so the old pairs still keep their scores
    shared_new = scored(60, reuse=model, new_address=3)
    assert shared_new.attrs["parameters_reused"] is True
    pd.testing.assert_frame_equal(keyed(shared_new).loc[keyed(yesterday).index], keyed(yesterday))
    assert ("bg0420", "bg0421") in keyed(shared_new).index
    # a model fitted on other comparison levels, other blocking settings or a population a third
    # the size is not reused
    raw = json.loads(model)
    raw["scheme"]["payment"] = raw["scheme"]["payment"][:-1]
    assert scored(0, reuse=json.dumps(raw)).attrs["parameters_reused"] is False
    assert score_pairs(*_inputs(0), ResolutionConfig(ring_k=3), reuse=model).attrs["parameters_reused"] is False
    raw = json.loads(model)
    raw["n_accounts"] = 140
    assert scored(0, reuse=json.dumps(raw)).attrs["parameters_reused"] is False


def test_shared_template_counts_are_exact_up_to_7_then_ranges() -> None:
    from pipelines.links import shared_templates_text

    assert [shared_templates_text(c) for c in (1, 3, 7)] == [
        "1 shared prompt template", "3 shared prompt templates", "7 shared prompt templates"]
    # a daily run adds a template or two to an operation's pairs: the text stays put inside a range
    assert {shared_templates_text(c) for c in range(32, 64)} == {"32-63 shared prompt templates"}
    assert shared_templates_text(8) == "8-15 shared prompt templates"
    assert shared_templates_text(64) == "64-127 shared prompt templates"


def test_term_frequency_lowers_an_address_300_share_and_leaves_a_household_address_alone() -> None:
    from pipelines.links import score_candidates

    accounts = _background(420)
    payments = [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}",
                 "billing_address": "1 Campus Way, Northfield" if i < 300 else f"{i} Other St"} for i in range(300)]
    # 20 households: two accounts with their own cards billed to one home address
    payments += [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}",
                  "billing_address": f"{(i - 300) // 2} Elm Rd, Upton"} for i in range(300, 340)]
    payments += [{"account_id": f"bg{i:04d}", "card_fingerprint": f"fp{i}", "billing_address": f"{i} Other St"}
                 for i in range(340, 420)]
    tables = make_tables(accounts, payments)
    tables["accounts"] = tables["accounts"].sort_values("account_id").reset_index(drop=True)
    norm = normalize_inputs(tables)
    feats = account_features(norm)
    cands = candidate_pairs(norm, feats, ResolutionConfig())
    _, explain = score_candidates(cands[["a", "b"]], norm, feats, ResolutionConfig())
    pairs, delta = explain.tf_adjust["payment"]
    a, b = explain.a[pairs], explain.b[pairs]  # account codes = positions in account_id order
    campus = delta[(a < 300) & (b < 300)]
    homes = delta[(a >= 300) & (a < 340) & (b >= 300) & (b < 340)]
    assert len(campus) and len(homes) == 20
    # the level's typical address is a home's: a home address keeps the level's weight, an
    # address 300 strangers share loses log2(mean g^2 / 300^2) = log2(((20*4 + 300^2)/21) / 300^2)
    assert (homes == 0).all()
    assert np.allclose(campus, np.log2((20 * 4 + 300**2) / 21 / 300**2))

"""Draw the STRUCTURE of one world: which operations and look-alikes exist, and their knobs.

Everything here is a plain JSON-able dict (it becomes ``world.json``); no table is built.
Ranges follow the family's brief: 2-8 operations of 1-4 fictional labs taking ~10-35% of the
accounts, look-alikes each present with some probability and sized from wide ranges,
ordinary individuals the remaining 40-70%.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

import numpy as np

from . import text, vocab

SIZES = {"small": (2_000, 8_000), "demo": (15_000, 30_000)}
SIZE_CODE = {"small": 1, "demo": 2}
EPOCH_START = datetime(2026, 1, 5, tzinfo=timezone.utc)

# per size: (min, max) of the things whose range the brief scales down for small worlds
RANGES = {
    "small": {"op_accounts": (20, 400), "campus": (50, 800), "campuses": 2, "event": (10, 150),
              "vpn": (50, 500), "reseller": (20, 200), "company": (10, 80), "companies": 3,
              "enterprise_ex": (300, 1500)},
    "demo": {"op_accounts": (20, 2000), "campus": (100, 3000), "campuses": 3, "event": (10, 300),
             "vpn": (50, 2000), "reseller": (20, 500), "company": (10, 200), "companies": 6,
             "enterprise_ex": (800, 5000)},
}


def _loguniform(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(math.exp(rng.uniform(math.log(lo), math.log(hi))))


def _r(x: float, digits: int = 4) -> float:
    return round(float(x), digits)


def _pick(rng: np.random.Generator, values: list):
    return values[int(rng.integers(len(values)))]


def _org_id(rng: np.random.Generator, taken: set[str]) -> str:
    while True:
        value = f"org-{int(rng.integers(16 ** 6)):06x}"
        if value not in taken:
            taken.add(value)
            return value


def _legal(core: str, rng: np.random.Generator) -> str:
    return f"{core} {_pick(rng, vocab.LEGAL_FORMS)}"


def _tz(rng: np.random.Generator) -> tuple[float, str]:
    zone = vocab.TIME_ZONES[int(rng.integers(len(vocab.TIME_ZONES)))]
    return zone[0], _pick(rng, zone[1])


def _client_string(rng: np.random.Generator, slug: str) -> str:
    """A private-ish client string: a generic HTTP library plus a home-made SDK name."""
    lib, versions = vocab.HTTP_LIBS[int(rng.integers(len(vocab.HTTP_LIBS)))]
    home = f"{slug[:4]}{_pick(rng, ['-sdk', '-client', 'kit', '-harness', '-runner'])}"
    version = f"{int(rng.integers(0, 4))}.{int(rng.integers(0, 20))}.{int(rng.integers(0, 10))}"
    if rng.random() < 0.5:
        return f"{lib}/{_pick(rng, versions)} {home}/{version}"
    return f"{home}/{version} ({lib} {_pick(rng, versions)})"


def draw_structure(seed: int, size: str) -> dict:
    """The drawn structure of world (seed, size); deterministic."""
    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), SIZE_CODE[size], 1]))
    ranges = RANGES[size]
    lo, hi = SIZES[size]
    n_target = int(rng.integers(lo, hi + 1))
    days = int(rng.integers(60, 91))
    start = EPOCH_START + timedelta(days=int(rng.integers(0, 200)))
    end = start + timedelta(days=days)
    org_ids: set[str] = set()
    lab_slugs: set[str] = set()

    # --- platform: its SDK, its models (one family, 1-3 releases inside the window)
    platform = _pick(rng, vocab.PLATFORM_NAMES)
    sdk_minor = int(rng.integers(20, 60))
    popular_client = f"{platform}-python/1.{sdk_minor}.{int(rng.integers(0, 4))}"
    family = _pick(rng, ["lyra", "orca", "tessel", "nimbus", "quill", "sable", "kestrel", "vireo"])
    major = int(rng.integers(2, 5))
    models = [{"name": f"{family}-{major}.5", "mini": f"{family}-{major}.5-mini", "released_day": None}]
    for i in range(int(rng.integers(1, 4))):
        name = f"{family}-{major + 1}" if i == 0 else f"{family}-{major + 1}.{i}"
        models.append({"name": name, "mini": f"{name}-mini" if rng.random() < 0.6 else None,
                       "released_day": None})
    release_days = np.sort(rng.uniform(0.12 * days, 0.9 * days, len(models) - 1))
    for model, day in zip(models[1:], release_days):
        model["released_day"] = _r(day, 3)

    # --- labs
    labs = []
    for _ in range(int(rng.integers(1, 5))):
        name, slug = text.lab_name(rng, lab_slugs)
        core = name.split(" ")[0]
        tz, country = _tz(rng)
        shells = [f"{_pick(rng, vocab.SHELL_WORDS)} {_pick(rng, vocab.SHELL_TAILS)} {_pick(rng, vocab.LEGAL_FORMS)}"
                  for _ in range(int(rng.integers(1, 5)))]
        labs.append({
            "org_id": _org_id(rng, org_ids), "name": name, "slug": slug, "tz": tz, "country": country,
            "legal_name": _legal(f"{core} Technology", rng), "shells": shells,
            "shells_listed": [s for s in shells if rng.random() < 0.5],
            "email_domains": [f"{slug}.example"] + ([f"{slug}-ai.test"] if rng.random() < 0.5 else []),
            "own_prefix": int(rng.integers(22, 25)),
            "own_network_type": _pick(rng, ["corporate", "datacenter"]),
            "client_string": _client_string(rng, slug),
        })

    # --- operations
    op_lo, op_hi = ranges["op_accounts"]
    campaign_share = rng.uniform(0.10, 0.35)
    target = campaign_share * n_target
    n_ops = int(rng.integers(max(2, min(8, math.ceil(target / (0.8 * op_hi)))), 9))
    weights = rng.lognormal(0.0, 0.9, n_ops)
    sizes = np.clip(np.round(target * weights / weights.sum()), op_lo, op_hi).astype(int)
    lab_of = list(range(len(labs)))[:n_ops] + [int(rng.integers(len(labs))) for _ in range(n_ops - len(labs))]
    lab_of = [lab_of[i] for i in rng.permutation(n_ops)]
    orphan = int(rng.integers(n_ops)) if rng.random() < 0.35 else -1
    operations = []
    for i in range(n_ops):
        lab = labs[lab_of[i]]
        infra = "datacenter" if rng.random() < 0.45 else "residential_proxy"
        pool = int(_loguniform(rng, 5, 500)) if infra == "datacenter" else int(_loguniform(rng, 50, 20_000))
        if rng.random() < 0.4:
            signup = {"mode": "bursts", "bursts": [
                {"day": _r(rng.uniform(0, 0.7 * days), 3), "minutes": int(_loguniform(rng, 10, 600))}
                for _ in range(int(rng.integers(1, 6)))]}
        else:
            signup = {"mode": "spread", "start_day": _r(rng.uniform(0, 0.5 * days), 3),
                      "span_days": _r(rng.uniform(14, 42), 3)}
        per_card = 1 if rng.random() < 0.25 else int(round(_loguniform(rng, 1, 50)))
        client_mode = "private" if rng.random() < 0.6 else "popular"
        if client_mode == "private":
            client = lab["client_string"] if rng.random() < 0.5 else _client_string(rng, lab["slug"][::-1])
        else:
            client = popular_client
        timing = "office_hours" if rng.random() < 0.4 else "round_the_clock"
        tz = lab["tz"] if i != orphan else _tz(rng)[0]
        mix = rng.dirichlet([1.2, 1.2, 0.8])
        countries = sorted({_pick(rng, _pick(rng, vocab.TIME_ZONES)[1]) for _ in range(int(rng.integers(1, 5)))})
        operations.append({
            "name": f"operation-{i + 1}",
            "org_id": None if i == orphan else lab["org_id"],
            "lab": lab["name"],
            "accounts": int(sizes[i]),
            "accounts_per_card": per_card,
            "wallet_tokens": bool(rng.random() < 0.2),
            "second_card_share": _r(rng.uniform(0, 0.2)),
            "infrastructure": infra,
            "pool_size": pool,
            # an operation without an organisation in truth must not run on a lab's network
            "datacenter_in_lab_asn": bool(infra == "datacenter" and rng.random() < 0.2) and i != orphan,
            "rotation": _pick(rng, ["per_request", "per_account", "per_day"]),
            "client_mode": client_mode,
            "client_string": client,
            "templates": int(rng.integers(3, 41)),
            "template_sharing": "public" if rng.random() < 0.35 else "private",
            "paraphrase": bool(rng.random() < 0.5),
            "template_assignment": "slice" if rng.random() < 0.3 else "all",
            "task_mix": {"coding": _r(mix[0]), "reasoning": _r(mix[1]), "tool_use": _r(mix[2])},
            "signup": signup,
            "timing": timing,
            "tz": tz,
            "mean_exchanges": _r(rng.uniform(20, 150), 2),
            "sigma": _r(rng.uniform(0.5, 1.2)),
            "lifetime_days": _r(rng.uniform(10, days), 2) if rng.random() < 0.5 else None,
            "model_switch_hours": _r(rng.uniform(0.5, 20), 2),
            "mini_share": _r(rng.uniform(0, 0.15)),
            "countries": countries,
            "clues": {
                # ... nor carry a lab's clues (draws kept, so other operations' structure stays)
                "lab_email_share": _r(rng.uniform(0, 0.05)) * (i != orphan),
                "lab_cidr_share": _r(rng.uniform(0, 0.05)) * (i != orphan),
                "shell_billing_share": _r(rng.uniform(0, 0.6)) * (i != orphan),
                "declared_org_share": _r(rng.uniform(0, 0.02)) * (i != orphan),
                "gmail_variant_share": _r(rng.uniform(0, 0.3)),
                "disposable_share": _r(rng.uniform(0, 0.4)),
                "phone_share": _r(rng.uniform(0, 0.3)),
            },
        })
    n_campaign = int(sum(op["accounts"] for op in operations))
    public_templates = int(rng.integers(15, 61))

    # --- look-alikes
    looks: list[dict] = []
    c_lo, c_hi = ranges["campus"]
    for _ in range(int(rng.integers(0, ranges["campuses"] + 1))):
        place = text.place_name(rng)
        tz, country = _tz(rng)
        looks.append({
            "kind": "campus", "name": _pick(rng, [f"University of {place}", f"{place} Institute of Technology",
                                                  f"{place} State University", f"{place} College"]),
            "slug": place.lower(), "size": int(_loguniform(rng, c_lo, c_hi)),
            "nat_addresses": int(rng.integers(1, 11)), "tz": tz, "country": country,
            "domain_share": _r(rng.uniform(0.7, 0.97)), "card_share": _r(rng.uniform(0.2, 0.7)),
            "homework_questions": int(rng.integers(2, 9)), "homework_share": _r(rng.uniform(0.05, 0.4)),
            "weekly_course": bool(rng.random() < 0.7), "enrolled_share": _r(rng.uniform(0.2, 0.8)),
            "on_campus_share": _r(rng.uniform(0.3, 0.9)),
            "semester_start_day": _r(rng.uniform(0, 20), 3), "burst_share": _r(rng.uniform(0.5, 0.9)),
            "mean_exchanges": _r(rng.uniform(5, 30), 2),
        })
    e_lo, e_hi = ranges["event"]
    for kind, count in (("class", int(rng.integers(0, 5))), ("hackathon", int(rng.integers(0, 4)))):
        for _ in range(count):
            tz, country = _tz(rng)
            looks.append({
                "kind": kind, "size": int(_loguniform(rng, e_lo, e_hi)),
                "templates": int(rng.integers(1, 3)), "start_day": _r(rng.uniform(1, days - 8), 3),
                "event_days": int(rng.integers(1, 8)), "session_start_hour": int(rng.integers(8, 15)),
                "session_hours": int(rng.integers(2, 6)), "venue_addresses": int(rng.integers(1, 4)),
                "tz": tz, "country": country, "signup_at_event_share": _r(rng.uniform(0.4, 0.9)),
                "event_exchanges": _r(rng.uniform(3, 15), 2),
            })
    v_lo, v_hi = ranges["vpn"]
    for _ in range(int(rng.integers(0, 3))):
        looks.append({"kind": "vpn", "size": int(_loguniform(rng, v_lo, v_hi)),
                      "exits": int(rng.integers(5, 101)), "vpn_share": _r(rng.uniform(0.5, 1.0))})
    r_lo, r_hi = ranges["reseller"]
    for _ in range(int(rng.integers(0, 3))):
        slug = _pick(rng, vocab.HANDLE_WORDS) + _pick(rng, ["route", "relay", "gate", "hub", "proxyai"])
        looks.append({"kind": "reseller", "name": slug, "size": int(_loguniform(rng, r_lo, r_hi)),
                      "egress_addresses": int(rng.integers(2, 17)),
                      "client_string": f"{slug}-router/{int(rng.integers(1, 4))}.{int(rng.integers(0, 10))}.0"})
    m_lo, m_hi = ranges["company"]
    for _ in range(int(rng.integers(0, ranges["companies"] + 1))):
        head, tail = _pick(rng, vocab.COMPANY_HEADS), _pick(rng, vocab.COMPANY_TAILS)
        tz, country = _tz(rng)
        looks.append({
            "kind": "company", "org_id": _org_id(rng, org_ids), "name": f"{head} {tail}", "slug": head.lower(),
            "legal_name": _legal(f"{head} {tail}", rng), "size": int(_loguniform(rng, m_lo, m_hi)),
            "card_mode": "shared_card" if rng.random() < 0.5 else "virtual_cards",
            "egress_addresses": int(rng.integers(1, 9)), "domain_share": _r(rng.uniform(0.85, 1.0)),
            "internal_tool": bool(rng.random() < 0.5), "office_share": _r(rng.uniform(0.6, 0.95)),
            "tz": tz, "country": country, "mean_exchanges": _r(rng.uniform(8, 40), 2),
        })
    for _ in range(int(rng.integers(0, 4))):
        head, tail = _pick(rng, vocab.COMPANY_HEADS), _pick(rng, vocab.COMPANY_TAILS)
        tz, country = _tz(rng)
        e_lo2, e_hi2 = ranges["enterprise_ex"]
        looks.append({
            "kind": "enterprise_eval", "org_id": _org_id(rng, org_ids), "name": f"{head} {tail}",
            "slug": head.lower() + "-" + tail.split(" ")[0].lower(), "legal_name": _legal(f"{head} {tail}", rng),
            "size": int(rng.integers(1, 6)), "exchanges_per_account": int(_loguniform(rng, e_lo2, e_hi2)),
            "job_days": _r(rng.uniform(2, 10), 2), "start_day": _r(rng.uniform(0, days - 10), 3),
            "topic": int(rng.integers(len(vocab.ENTERPRISE_FRAMES))),
            "infrastructure": _pick(rng, ["corporate", "cloud"]),
            "model_mode": _pick(rng, ["pinned", "newest"]), "tz": tz, "country": country,
        })
    households = int(max(1, round(n_target * rng.uniform(0.005, 0.015))))
    household_sizes = [int(x) for x in rng.integers(2, 6, households)]
    looks.append({"kind": "household", "households": households, "size": int(sum(household_sizes)),
                  "household_sizes": household_sizes})
    people = int(max(1, round(n_target * rng.uniform(0.004, 0.012))))
    dual_sizes = [int(x) for x in rng.integers(2, 4, people)]
    looks.append({"kind": "dual_account", "people": people, "size": int(sum(dual_sizes)),
                  "accounts_per_person": dual_sizes, "same_card_share": _r(rng.uniform(0.3, 0.8)),
                  "gmail_variant_share": _r(rng.uniform(0.2, 0.6))})
    looks.append({"kind": "popular_question", "size": int(n_target * rng.uniform(0.03, 0.15)),
                  "questions": int(rng.integers(25, len(vocab.POPULAR_QUESTIONS) + 1)),
                  "popular_share": _r(rng.uniform(0.6, 0.95))})

    # --- fit: ordinary individuals must stay 40-70% of the accounts
    individual_target = rng.uniform(0.40, min(0.70, 0.88 - n_campaign / n_target))
    minimum = {"campus": c_lo, "class": e_lo, "hackathon": e_lo, "vpn": v_lo, "reseller": r_lo, "company": m_lo}
    scalable = [g for g in looks if g["kind"] in minimum]
    fixed = sum(g["size"] for g in looks if g["kind"] not in minimum)
    total = fixed + sum(g["size"] for g in scalable)
    # the look-alikes as drawn may push the individuals below their target, down to 40%
    budget = max(n_target - n_campaign - int(individual_target * n_target),
                 min(total, n_target - n_campaign - int(0.40 * n_target)))
    if total > budget and scalable:
        factor = max(budget - fixed, 0) / max(total - fixed, 1)
        for g in scalable:
            g["size"] = max(minimum[g["kind"]], int(g["size"] * factor))
        while scalable and fixed + sum(g["size"] for g in scalable) > max(budget, fixed):
            drop = scalable.pop(int(rng.integers(len(scalable))))
            looks.remove(drop)
    n_look = sum(g["size"] for g in looks)
    n_individuals = n_target - n_campaign - n_look
    popular = next(g for g in looks if g["kind"] == "popular_question")
    if n_individuals > 0.70 * n_target:  # too few look-alikes: more strangers asking popular questions
        extra = int(n_individuals - 0.70 * n_target)
        popular["size"] += extra
        n_individuals -= extra
    if n_individuals < 0.40 * n_target:  # still too many look-alikes: fewer popular-question askers
        cut = min(popular["size"] - 10, int(0.40 * n_target - n_individuals))
        popular["size"] -= max(cut, 0)
        n_individuals += max(cut, 0)

    individuals = {
        "size": int(n_individuals), "mean_exchanges": _r(rng.uniform(6, 20), 2),
        "proxy_user_share": _r(rng.uniform(0.03, 0.15)), "sdk_share": _r(rng.uniform(0.15, 0.4)),
        "no_card_share": _r(rng.uniform(0.1, 0.35)),
        "public_template_users": int(rng.integers(0, 41 if size == "demo" else 16)),
        "mobile_user_share": _r(rng.uniform(0.2, 0.6)),
    }
    return {
        "family": "bench.worlds v1",
        "seed": int(seed),
        "size": size,
        "window": {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "end": end.strftime("%Y-%m-%dT%H:%M:%SZ"),
                   "days": days},
        "target_accounts": n_target,
        "shares": {"campaign_target": _r(campaign_share), "individual_target": _r(individual_target)},
        "platform": {"name": platform, "popular_client": popular_client},
        "models": models,
        "labs": labs,
        "public_templates": public_templates,
        "operations": operations,
        "lookalikes": looks,
        "individuals": individuals,
    }

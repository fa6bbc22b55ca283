"""Distillation operations of the fictional labs: one operator per operation, ``is_campaign=true``."""

from __future__ import annotations

import numpy as np

from . import vocab
from .network import hosts_from, random_hosts, random_subnets
from .population import PROFILE_IDS, Group, Population, new_cards, random_bins, random_tokens
from .prompts import operation_templates
from .world import (
    DAY,
    HOUR,
    NEW_MODEL_RELEASE,
    WINDOW_END,
    WINDOW_START,
    LabParams,
    OperationParams,
)

_STARTUP_WORDS = ("Nova", "Quant", "Pixel", "Vector", "Lumina", "Apex", "Cinder", "Delta",
                  "Ember", "Fjord", "Helix", "Iris", "Juniper", "Kite", "Mosaic", "Nimbus")
_STARTUP_SUFFIX = ("Analytics", "Labs", "AI", "Systems", "Studio", "Data", "Tech", "Works")


def startup_names(rng: np.random.Generator, n: int) -> list[str]:
    """Made-up startup names typed into ``declared_org`` (startup programmes get farmed)."""
    return [f"{a} {b}" for a, b in zip(rng.choice(_STARTUP_WORDS, n), rng.choice(_STARTUP_SUFFIX, n))]


def gmail_variants(rng: np.random.Generator, bases: list[str], n: int) -> list[str]:
    """Dot and +tag variants of a few base Gmail addresses (Gmail ignores both)."""
    out = []
    pick = rng.integers(0, len(bases), n)
    for i in range(n):
        local = bases[pick[i]]
        chars = list(local)
        for _ in range(int(rng.integers(0, 3))):
            pos = int(rng.integers(1, len(chars)))
            if chars[pos - 1] != "." and chars[pos] != ".":
                chars.insert(pos, ".")
        local = "".join(chars)
        if rng.random() < 0.6:
            local += "+" + str(random_tokens(rng, 1, int(rng.integers(2, 6)))[0])
        out.append(f"{local}@gmail.com")
    return out


def allocate_exchanges(rng: np.random.Generator, total: int, n: int, sigma: float) -> np.ndarray:
    """Split ``total`` requests over ``n`` accounts with lognormal (heavy-tailed) weights."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    weights = rng.lognormal(0.0, sigma, n)
    return rng.multinomial(total, weights / weights.sum()).astype(np.int64)


def add_lab(pop: Population, lab: LabParams) -> None:
    """A lab's own network, its (partial) ``organizations`` row and all its waves."""
    org_id = f"org_{lab.key}"
    own = [pop.plan.small_block(f"{lab.aliases[0].upper()}-AS", "corporate", lab.asn)
           for _ in range(lab.n_own_ranges)]
    leak_block = pop.ips.add(hosts_from(pop.rng, own, 24))
    pop.organizations.append(
        {
            "org_id": org_id,
            "name": lab.name,
            "aliases": ";".join(lab.aliases),
            "email_domains": lab.email_domain,
            "asns": str(lab.asn),
            "cidrs": own[0].cidr,  # the second range is only discoverable through the ASN
            "billing_names": ";".join(lab.legal_names[: lab.listed_billing_names]),
        }
    )
    for op in lab.operations:
        add_operation(pop, lab, op, org_id, leak_block)


def add_operation(
    pop: Population,
    lab: LabParams,
    op: OperationParams,
    org_id: str,
    leak_block: tuple[int, int],
) -> Group:
    """One wave: accounts, payments and the behaviour profile its requests are drawn from."""
    rng = pop.rng
    n = op.n_accounts
    g = pop.add_group(Group("campaign", n))
    g.operator = [f"campaign-{lab.key}-{op.name}"] * n
    g.org_id = [org_id] * n
    g.is_campaign[:] = True

    # --- creation bursts and activity window
    burst = rng.integers(0, op.n_bursts, n)
    centre = WINDOW_START + (op.start_day + burst * op.burst_gap_days) * DAY
    created = centre + rng.normal(0, op.burst_hours * HOUR, n)
    g.created_at = np.minimum(created, WINDOW_END - 2 * DAY).astype(np.int64)
    op_end = min(WINDOW_START + (op.start_day + op.duration_days) * DAY, WINDOW_END)
    start = np.maximum(g.created_at + rng.integers(600, 6 * HOUR, n), WINDOW_START)
    g.t_start = start.astype(np.int64)
    g.t_end = np.maximum(np.full(n, int(op_end)), g.t_start + DAY).clip(max=WINDOW_END)
    g.n_ex = allocate_exchanges(rng, op.n_exchanges, n, op.exchanges_sigma)
    g.timing[:] = PROFILE_IDS[op.timing]
    g.tz[:] = lab.tz_offset_hours
    g.cadence_s[:] = op.cadence_minutes * 60
    g.jitter_s[:] = op.eff_jitter_minutes * 60

    # --- network: rented datacenter addresses, rotating residential proxies, rare own-network leaks
    dc_range = pop.plan.datacenter[int(rng.integers(len(pop.plan.datacenter)))]
    n_dc = op.eff_datacenter_ips
    subnets = random_subnets(rng, dc_range.cidr, 1 + n_dc // 64)  # rented /24s
    dc_off, dc_cnt = pop.ips.add(
        [h for net in subnets for h in random_hosts(rng, net, -(-n_dc // len(subnets)))]
    )
    proxy_off, proxy_cnt = pop.proxy_block
    in_dc = rng.random(n) < op.eff_datacenter_share
    window = np.maximum(1, np.round(op.eff_proxy_ips * rng.lognormal(0, 0.3, n))).astype(np.int64)
    window = np.minimum(window, proxy_cnt)
    g.ip_a_off = np.where(
        in_dc,
        dc_off + rng.integers(0, max(1, dc_cnt - 2), n),
        proxy_off + rng.integers(0, proxy_cnt - window + 1),
    )
    g.ip_a_cnt = np.where(in_dc, min(3, dc_cnt), window)
    g.ip_b_off = np.where(in_dc, proxy_off + rng.integers(0, proxy_cnt - 3, n), dc_off)
    g.ip_b_cnt = np.where(in_dc, 3, dc_cnt)
    g.p_b = np.where(in_dc, 0.1, 0.05 * (1 - op.evasion))
    leaks = rng.random(n) < op.eff_leak_share
    g.ip_b_off[leaks] = leak_block[0]
    g.ip_b_cnt[leaks] = leak_block[1]
    g.p_b[leaks] = 0.02
    g.signup_ip = g.ip_a_off + (rng.random(n) * g.ip_a_cnt).astype(np.int64)
    g.signup_ip[leaks] = leak_block[0] + rng.integers(0, leak_block[1], int(leaks.sum()))

    # --- clients: one SDK user agent with small variations; a scripted browser for sign-up
    variants = [
        lab.sdk_user_agent.format(a=int(a), b=int(b))
        for a, b in zip(rng.integers(0, 4, op.eff_ua_variants), rng.integers(0, 9, op.eff_ua_variants))
    ]
    ua_off, ua_cnt = pop.uas.add(variants)
    g.ua_off = ua_off + rng.integers(0, ua_cnt, n)
    g.ua_cnt = np.where(g.ua_off + 1 < ua_off + ua_cnt, rng.integers(1, 3, n), 1)
    blend = rng.random(n) < op.eff_ua_blend_share  # careful waves hide among ordinary clients
    benign_off, benign_cnt = pop.benign_ua_block
    g.ua_off[blend] = benign_off + rng.integers(0, benign_cnt, int(blend.sum()))
    g.ua_cnt[blend] = 1
    b_off, b_cnt = pop.uas.add(vocab.browser_user_agents(rng, 3))
    g.browser_ua = b_off + rng.integers(0, b_cnt, n)

    # --- behaviour: paraphrased templates, model switch within a day of release
    specs = operation_templates(
        rng, lab.focus, op.eff_templates, op.eff_paraphrase_variants, op.eff_paraphrase_words
    )
    g.tmpl_off[:], g.tmpl_cnt[:] = pop.prompts.add_templates(specs)
    g.p_tmpl[:] = op.template_share
    g.topics[:] = pop.prompts.topic_ids(("programming", "maths", "science"))
    switch_h = rng.uniform(*op.model_switch_hours)
    g.switch_at = (NEW_MODEL_RELEASE + switch_h * HOUR + rng.normal(0, 1800, n)).astype(np.int64)
    g.p_new[:] = 0.97
    g.p_mini[:] = op.mini_share
    g.p_legacy[:] = 0.0
    g.ctx_tokens[:] = float(rng.integers(80, 600))

    # --- identity: emails mostly NOT on the lab's domain
    first, last = vocab.person_names(rng, n)
    r = rng.random(n)
    gmail_cut = op.eff_gmail_variant_share
    lab_cut = gmail_cut + op.lab_email_share
    disp_cut = lab_cut + op.disposable_email_share
    bases = vocab.email_local_parts(rng, first[: op.n_gmail_bases], last[: op.n_gmail_bases], 0.5)
    gm = gmail_variants(rng, bases, n)
    locals_ = vocab.email_local_parts(rng, first, last, random_share=0.7)
    free = rng.choice(vocab.FREEMAIL, n, p=vocab.FREEMAIL_WEIGHTS / vocab.FREEMAIL_WEIGHTS.sum())
    disp = rng.choice(vocab.DISPOSABLE, n)
    g.email = [
        gm[i] if r[i] < gmail_cut
        else f"{locals_[i]}@{lab.email_domain}" if r[i] < lab_cut
        else f"{locals_[i]}@{disp[i]}" if r[i] < disp_cut
        else f"{locals_[i]}@{free[i]}"
        for i in range(n)
    ]
    named = rng.random(n) < op.display_name_share
    g.display_name = [f"{first[i]} {last[i]}" if named[i] else None for i in range(n)]
    startups = startup_names(rng, n)
    org_r = rng.random(n)
    g.declared_org = [
        lab.aliases[-1] if leaks[i] and org_r[i] < 0.5 else startups[i] if org_r[i] < op.startup_org_share else None
        for i in range(n)
    ]
    g.country = [str(c) for c in rng.choice(lab.countries, n)]
    with_phone = rng.random(n) < op.phone_share
    ph = vocab.phones(rng, rng.integers(0, len(vocab.COUNTRIES), n))
    g.phone = [ph[i] if with_phone[i] else None for i in range(n)]

    _add_campaign_cards(pop, g, lab, op, first, last)
    return g


def _add_campaign_cards(
    pop: Population, g: Group, lab: LabParams, op: OperationParams, first: list[str], last: list[str]
) -> None:
    """A few cards reused across many accounts; most others own a card from a handful of BINs."""
    rng = pop.rng
    holders = np.flatnonzero(rng.random(g.n) < op.card_share)
    k = len(holders)
    shared = rng.random(k) < op.eff_shared_card_share
    n_shared_cards = max(1, int(np.ceil(shared.sum() / op.accounts_per_shared_card)))
    bins = random_bins(rng, op.n_bins)
    # cards 0..n_shared_cards-1 are the reused ones; every other holder gets a fresh card
    cards = [np.asarray(c, dtype=object) for c in new_cards(rng, n_shared_cards + k, bins)]
    card = np.where(shared, rng.integers(0, n_shared_cards, k), n_shared_cards + np.arange(k))
    fps, bns, l4s, exps = (c[card].tolist() for c in cards)

    legal, shell, _personal = op.eff_billing_mix
    # reused cards always carry a company name (variants typed per account), own cards may not
    kind_r = rng.random(k)
    kind_r = np.where(shared, kind_r * (legal + shell), kind_r)
    firm_street, firm_postcode = vocab.addresses(rng, 3)  # the shells' few addresses
    home_street, home_postcode = vocab.addresses(rng, k)
    firm_addr = rng.integers(0, 3, k)
    names: list[str | None] = []
    addr: list[str | None] = []
    pcs: list[str | None] = []
    for j, acc in enumerate(holders.tolist()):
        if kind_r[j] < legal + shell:
            pool = lab.legal_names if kind_r[j] < legal else lab.shell_names
            names.append(vocab.name_variant(rng, pool[int(rng.integers(len(pool)))],
                                            op.billing_typo_rate))
            addr.append(firm_street[firm_addr[j]])
            pcs.append(firm_postcode[firm_addr[j]])
        else:
            names.append(f"{first[acc]} {last[acc]}")
            addr.append(home_street[j])
            pcs.append(home_postcode[j])
    pop.add_cards(
        g,
        holders,
        g.created_at[holders] + rng.integers(60, 2 * HOUR, len(holders)),
        fps, bns, l4s, exps, names, addr, pcs,
        [str(c) for c in rng.choice(lab.countries, len(holders))],
    )

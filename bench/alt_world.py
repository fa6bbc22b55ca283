"""An independent synthetic world, written from the data contract and the domain notes only.

``python bench/alt_world.py --out DIR --seed N [--scale small|demo]``

Deliberately *not* derived from ``pipelines/generate``: different organisation names, id
formats, population mix, proxy behaviour (a rotating residential pool shared with privacy-
minded individuals), template style (shared openers and chain-of-thought phrase pools,
paraphrase by synonym swaps), look-alike group sizes, time zones and evasion levels. It
exists to check that the resolver's constants are estimated from data and not fitted to our
own generator.

Writes the six contract tables (accounts and payment_methods as CSV, the rest as Parquet,
columns in a different order and one extra ignored column, as a real export might) and
``truth.csv`` (account_id, operator_id, org_id, is_campaign, kind). Every organisation is
fictional. Vectorised over rows: a ``demo`` world (~21k accounts, ~0.5M exchanges) is
generated in well under a minute.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

T0 = pd.Timestamp("2026-03-02T00:00:00Z").value // 1000  # window start, microseconds
DAY = 86_400_000_000
HOUR = 3_600_000_000
WINDOW_DAYS = 42
NEW_MODEL_DAY = 24  # "lumen-5" appears on this day of the window
MODELS = np.array(["lumen-4-mini", "lumen-4", "lumen-5"])

FIRST = ("anna ben carla dario elif farid greta hana ivan jia kofi lena marco nadia omar priya quinn rosa "
         "sami tomas uma viktor wen xenia yusuf zara amir bea chen dina emil fatima goran hiro ines jonas "
         "kaito lucia mateo nina oskar pablo rania sven tara ugo vera wojtek yara zoltan ali mei raj sofia "
         "liam noor ece kenji maria juan li olga pedro ayse tariq ruth felix irina hugo lars mina").split()
LAST = ("novak silva berg kim tanaka okafor rossi meyer haddad costa weber ivanova lund moreau park "
        "santos fischer yilmaz nakamura brennan duarte horvat kowalski lindqvist mendes nguyen obi "
        "petrov quispe rahman schultz takahashi varga wong zhou abbasi bianchi castro demir eriksen "
        "ferreira garcia hansen ito jensen kaya lopez muller nilsen ortiz popescu reyes sato tran "
        "ueda vogel walsh yamada zhang andersen bauer chavez dubois ekman").split()
FREEMAIL = np.array(["gmail.com", "outlook.com", "yahoo.com", "proton.me", "icloud.com", "gmx.de",
                     "web.de", "yandex.com", "naver.com", "163.com", "hotmail.com", "zoho.com"])
FREEMAIL_P = np.array([0.34, 0.14, 0.08, 0.06, 0.07, 0.05, 0.04, 0.05, 0.04, 0.05, 0.05, 0.03])
DISPOSABLE = np.array(["mailinator.com", "guerrillamail.com", "sharklasers.com", "yopmail.com",
                       "temp-mail.org", "dropmail.me", "trashmail.com"])
# (country, utc offset hours, calling code, weight)
COUNTRIES = [("US", -5, "1", 0.22), ("GB", 0, "44", 0.07), ("DE", 1, "49", 0.08), ("FR", 1, "33", 0.05),
             ("BR", -3, "55", 0.06), ("IN", 5, "91", 0.10), ("JP", 9, "81", 0.05), ("KR", 9, "82", 0.04),
             ("TR", 3, "90", 0.04), ("PL", 1, "48", 0.04), ("NG", 1, "234", 0.03), ("MX", -6, "52", 0.04),
             ("CA", -5, "1", 0.04), ("AU", 10, "61", 0.03), ("ES", 1, "34", 0.04), ("ID", 7, "62", 0.04),
             ("SG", 8, "65", 0.03)]
TOWNS = ["Ashby", "Bellport", "Carrow", "Dunmere", "Elstow", "Fairhaven", "Glenrock", "Harrowgate", "Ivybridge",
         "Jarrow Vale", "Kilbride", "Lowick", "Marden", "Northam", "Orford", "Penrith Cross", "Quenby", "Redhill",
         "Saltby", "Thornbury", "Upton Marsh", "Vexley", "Wickham", "Yarrow", "Zennor"]
STREETS = ["Maple Street", "Harbour Road", "Linden Avenue", "Station Road", "Mill Lane", "Cedar Drive",
           "Kingsway", "Rua Azul", "Hauptstrasse", "Rue Verte", "Sakura Dori", "Via Roma"]

# real-ish English words for prompts, plus generated pseudo-words for the long tail
WORDS = ("the a of to and in for on with about how what why when which can you please my our this that "
         "write explain summarize translate draft fix improve compare list describe help make find check "
         "email letter essay story poem recipe plan budget trip garden dog cat kids school exam resume "
         "meeting report slide chart table data excel formula sql query python script error bug function "
         "class api website design logo color font music song guitar piano movie book history war king "
         "river mountain city country weather climate energy solar battery car bike train flight hotel "
         "doctor health diet sleep running yoga coffee tea bread cake dinner party gift birthday wedding "
         "friend family mother father sister brother baby money tax loan rent house kitchen paint wall "
         "phone laptop screen keyboard printer wifi router password account login game chess football "
         "tennis team coach season player score goal strategy market price stock crypto startup idea "
         "customer product launch review feedback survey interview question answer short long simple "
         "better faster cheaper best worst new old first last next today tomorrow week month year").split()
TOPICS = {
    "olympiad": "integer prime divisor modulo sequence polynomial inequality triangle circle lemma "
                "combinatorics parity invariant bound minimal maximal digits remainder proof".split(),
    "codegen": "implement function array linked list tree graph binary search sort hash map queue stack "
               "complexity optimize recursion iterative memoize edge cases unit tests refactor".split(),
    "agentic": "tool call plan browse fetch parse json schema retry step observation action api "
               "invoke result agent environment sandbox shell file directory".split(),
    "science": "reaction molecule energy velocity force equation derive estimate experiment hypothesis "
               "variable constant units approximate limit rate concentration gas pressure".split(),
    "claims": "claim policy insurer deductible coverage incident liability adjuster premium "
              "exclusion endorsement damage assessment category severity fraud flag".split(),
}
OPENERS = ["You are an expert assistant.", "Act as a senior specialist.", "You are a meticulous tutor.",
           "Consider the following task.", "Here is a problem for you.", "Task:", "Please help with this.",
           "You are a world-class problem solver."]
COT = ["Think step by step and show every intermediate reasoning step before the final answer.",
       "Lay out your full chain of thought, then state the answer on its own line.",
       "Reason carefully, write out your thinking in detail, and only then give the result.",
       "Show your working and the reasoning trace explicitly, step by step.",
       "Explain your reasoning thoroughly before answering; include all intermediate steps.",
       "First think out loud in detail, then give a concise final answer."]
SYNONYMS = {"write": "compose", "explain": "describe", "show": "present", "carefully": "thoroughly",
            "implement": "code", "function": "routine", "problem": "question", "find": "determine",
            "answer": "response", "step": "stage", "detail": "depth", "final": "concluding",
            "compute": "calculate", "given": "provided", "each": "every", "list": "enumerate",
            "prove": "demonstrate", "estimate": "approximate", "result": "outcome", "use": "employ",
            "return": "output", "check": "verify", "then": "afterwards", "minimal": "smallest"}


@dataclass
class Scale:
    individuals: int
    households: int
    universities: tuple[int, ...]
    events: tuple[int, ...]
    vpn_users: tuple[int, ...]
    reseller_customers: int
    companies: tuple[int, ...]
    eval_jobs: tuple[int, ...]
    # per campaign operation: (lab, accounts, mean exchanges/account, evasion 0..1, topic, utc offset)
    operations: list[tuple[str, int, float, float, str, int]] = field(default_factory=list)
    benign_rate: float = 10.0
    eval_volume: int = 1500


SCALES = {
    "demo": Scale(individuals=12000, households=480, universities=(900, 520, 240), events=(180, 95, 60, 40, 28, 22),
                  vpn_users=(650, 320), reseller_customers=420, companies=(24, 11, 7, 5, 4, 3), eval_jobs=(4, 2),
                  operations=[("ardentis", 70, 180.0, 0.1, "science", 2),
                              ("vossquill", 480, 80.0, 0.45, "olympiad", 8),
                              ("vossquill", 390, 75.0, 0.5, "codegen", 8),
                              ("hollowpine", 880, 110.0, 0.8, "codegen", 3),
                              ("hollowpine", 690, 95.0, 0.85, "agentic", 3),
                              ("hollowpine", 520, 90.0, 0.9, "olympiad", -4)]),
    "small": Scale(individuals=1000, households=40, universities=(90, 45), events=(30, 14),
                   vpn_users=(70, 30), reseller_customers=40, companies=(9, 4), eval_jobs=(3,),
                   operations=[("ardentis", 18, 120.0, 0.1, "science", 2),
                               ("vossquill", 60, 60.0, 0.5, "olympiad", 8),
                               ("hollowpine", 90, 70.0, 0.85, "codegen", 3),
                               ("hollowpine", 60, 60.0, 0.9, "agentic", -4)],
                   benign_rate=8.0, eval_volume=600),
}

LABS = {  # fictional organisations only
    "ardentis": dict(org_id="ORG-ARDENTIS", name="Ardentis Cognition", aliases="Ardentis;Ardentis AI",
                     domain="ardentis-cog.test", asn=64801, cidr="203.0.113.0/25", billing="Ardentis Cognition GmbH"),
    "vossquill": dict(org_id="ORG-VOSSQUILL", name="Voss & Quill Intelligence", aliases="VossQuill;VQI",
                      domain="vossquill.test", asn=64802, cidr="198.51.100.0/25", billing="Voss and Quill Intelligence Pte Ltd"),
    "hollowpine": dict(org_id="ORG-HOLLOWPINE", name="Hollowpine Systems", aliases="Hollowpine;HPS;Hollow Pine AI",
                       domain="hollowpine.test", asn=64803, cidr="192.0.2.0/25", billing="Hollowpine Systems Co., Ltd.;Hollowpine Tech Holdings"),
}


# ----------------------------------------------------------------------------- helpers


def _ip4(rng: np.random.Generator, base: np.ndarray | int, span: np.ndarray | int) -> np.ndarray:
    """Dotted IPv4 strings for integer addresses base + random offset < span."""
    x = np.asarray(base, dtype=np.int64) + rng.integers(0, np.maximum(np.asarray(span, dtype=np.int64), 1))
    return _ip_text(x)


def _ip_text(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.int64)
    parts = [pd.Series((x >> s) & 255).astype(str) for s in (24, 16, 8, 0)]
    return (parts[0] + "." + parts[1] + "." + parts[2] + "." + parts[3]).to_numpy(dtype=object)


def _net(a: int, b: int, c: int = 0) -> int:
    return (a << 24) | (b << 16) | (c << 8)


def _ids(rng: np.random.Generator, prefix: str, n: int, length: int = 12) -> np.ndarray:
    """Random lower-case base36-ish ids (letters first, so never a digit run)."""
    alphabet = np.array(list("abcdefghjkmnpqrstuvwxyz23456789"))
    chars = alphabet[rng.integers(0, len(alphabet), size=(n, length))]
    chars[:, 0] = alphabet[rng.integers(0, 23, size=n)]
    body = pd.Series(chars.view(f"<U{length}").ravel() if chars.dtype.itemsize == 4 else ["".join(r) for r in chars])
    return (prefix + body).to_numpy(dtype=object)


def _join_words(rng: np.random.Generator, vocab: np.ndarray, n: int, lo: int, hi: int,
                probs: np.ndarray | None = None) -> np.ndarray:
    """n random word sequences of lo..hi words (pyarrow list join, no Python loop)."""
    lens = rng.integers(lo, hi + 1, size=n)
    offsets = np.r_[0, np.cumsum(lens)].astype(np.int32)
    words = vocab[rng.choice(len(vocab), size=int(offsets[-1]), p=probs)]
    arr = pa.ListArray.from_arrays(pa.array(offsets), pa.array(words.astype(str)))
    return np.asarray(pc.binary_join(arr, " ").to_pylist(), dtype=object)


def _pseudo_words(rng: np.random.Generator, n: int) -> np.ndarray:
    syl = np.array(["ka", "lo", "mi", "ren", "sa", "to", "vel", "dor", "an", "is", "pur", "qua", "ber", "nix",
                    "ost", "ul", "ye", "zan", "cor", "fi", "gra", "hel", "jo", "ment", "tion", "ly", "er"])
    k = rng.integers(2, 4, size=n)
    s = syl[rng.integers(0, len(syl), size=(n, 3))]
    out = pd.Series(s[:, 0]) + pd.Series(s[:, 1]) + pd.Series(np.where(k == 3, s[:, 2], ""))
    return out.drop_duplicates().to_numpy(dtype=object)


def _timestamps(rng: np.random.Generator, start_us: np.ndarray, end_us: np.ndarray, utc_offset: np.ndarray,
                active_hours: tuple[int, int] | None, spread: float = 1.0) -> np.ndarray:
    """Timestamps between start and end; the hour of day follows the operator's local
    rhythm (active_hours in local time, or round the clock when None)."""
    n = len(start_us)
    day0 = start_us // DAY
    ndays = np.maximum(end_us // DAY - day0, 0)
    day = day0 + (rng.random(n) * (ndays + 1)).astype(np.int64)
    if active_hours is None:
        local = rng.integers(0, 24, size=n)
    else:
        lo, hi = active_hours
        local = lo + rng.integers(0, hi - lo, size=n)
        # a share of off-hours activity
        off = rng.random(n) < 0.1 * spread
        local = np.where(off, rng.integers(0, 24, size=n), local)
    hour = (local - utc_offset) % 24
    ts = day * DAY + hour * HOUR + rng.integers(0, HOUR, size=n)
    return np.clip(ts, start_us, None)


def _digits(rng: np.random.Generator, n: int, length: int) -> np.ndarray:
    """n random digit strings of ``length`` (no leading zero): card BINs."""
    return pd.Series(rng.integers(10 ** (length - 1), 10 ** length, size=n)).astype(str).to_numpy(dtype=object)


def _luhn_ok(digits: pd.Series) -> np.ndarray:
    """Vectorised Luhn check of digit strings (<= 19 digits; leading zeros do not matter)."""
    if len(digits) == 0:
        return np.zeros(0, bool)
    raw = np.frombuffer("".join(digits.str.zfill(19).tolist()).encode(), dtype=np.uint8).reshape(-1, 19) - 48
    d = raw[:, ::-1].astype(np.int64)
    d[:, 1::2] *= 2
    d[:, 1::2] -= 9 * (d[:, 1::2] > 9)
    return d.sum(axis=1) % 10 == 0


def _cidr_base(cidr: str) -> int:
    q = [int(x) for x in cidr.split("/")[0].split(".")]
    return (q[0] << 24) | (q[1] << 16) | (q[2] << 8) | q[3]


# ----------------------------------------------------------------------------- world


class World:
    """Accumulates the rows of every table while the populations are generated."""

    def __init__(self, seed: int, scale: Scale):
        self.rng = np.random.default_rng(seed)
        self.scale = scale
        self.accounts: list[pd.DataFrame] = []
        self.payments: list[pd.DataFrame] = []
        self.exchanges: list[pd.DataFrame] = []
        self.events: list[pd.DataFrame] = []
        self.truth: list[pd.DataFrame] = []
        self.networks: list[dict] = []
        self.orgs: list[dict] = []
        self.taken: set[str] = set()  # e-mail addresses in use
        self.vocab = np.concatenate([np.array(WORDS, dtype=object), _pseudo_words(self.rng, 4000)])
        zipf = 1.0 / np.arange(1, len(self.vocab) + 1) ** 0.9
        self.vocab_p = zipf / zipf.sum()
        self._build_networks()
        self.bins = _digits(self.rng, 400, 6)
        self.prepaid_bins = self.bins[:3]  # a prepaid platform issues from a few BINs
        self.popular = self._popular_templates(70)

    # networks ------------------------------------------------------------------
    def _build_networks(self) -> None:
        r = self.rng
        self.res_blocks = []  # residential /16s
        for i in range(14):
            base = _net(int(r.integers(60, 100)), int(r.integers(0, 256)))
            self.res_blocks.append(base)
            self.networks.append(dict(cidr=f"{base >> 24}.{(base >> 16) & 255}.0.0/16", asn=3300 + i,
                                      as_name=f"HomeNet Broadband {i}", network_type="residential"))
        self.mobile_base = _net(110, 40)
        self.networks.append(dict(cidr="110.40.0.0/16", asn=4500, as_name="Skyline Mobile", network_type="mobile"))
        self.dc_base = _net(150, 20)
        self.networks.append(dict(cidr="150.20.0.0/16", asn=16600, as_name="Cumulo Cloud", network_type="datacenter"))
        self.dc2_base = _net(151, 8)
        self.networks.append(dict(cidr="151.8.0.0/16", asn=16601, as_name="Rackfield Hosting", network_type="datacenter"))
        self.vpn_bases = [_net(185, 77, 10), _net(185, 91, 4)]
        for i, b in enumerate(self.vpn_bases):
            self.networks.append(dict(cidr=f"{b >> 24}.{(b >> 16) & 255}.{(b >> 8) & 255}.0/24", asn=9100 + i,
                                      as_name=f"Tunnelbird VPN {i}", network_type="vpn"))
        self.edu_base = _net(140, 61)
        self.networks.append(dict(cidr="140.61.0.0/16", asn=2200, as_name="National Research and Education Net",
                                  network_type="education"))
        self.corp_base = _net(170, 3)
        self.networks.append(dict(cidr="170.3.0.0/16", asn=7700, as_name="Enterprise Fiber Corp", network_type="corporate"))
        self.networks.append(dict(cidr="2a0c:5500::/32", asn=3399, as_name="HomeNet Broadband v6", network_type="residential"))
        # a commercial residential proxy pool: exits inside ordinary home ranges, rotating
        n_pool = 9000
        blk = np.asarray(self.res_blocks)[r.integers(0, len(self.res_blocks), size=n_pool)]
        self.proxy_pool = _ip4(r, blk, 65536)
        for lab in LABS.values():
            self.networks.append(dict(cidr=lab["cidr"], asn=lab["asn"], as_name=lab["name"] + " AS",
                                      network_type="corporate"))

    def home_ips(self, n: int, v6_share: float = 0.08) -> np.ndarray:
        r = self.rng
        blk = np.asarray(self.res_blocks)[r.integers(0, len(self.res_blocks), size=n)]
        v4 = _ip4(r, blk, 65536)
        v6 = pd.Series(r.integers(0, 65536, size=(n, 3)).tolist()).map(
            lambda t: f"2a0c:5500:{t[0]:x}:{t[1]:x}::{t[2]:x}").to_numpy(dtype=object) if n else np.zeros(0, object)
        return np.where(r.random(n) < v6_share, v6, v4)

    # people ---------------------------------------------------------------------
    def people(self, n: int, countries: np.ndarray | None = None) -> pd.DataFrame:
        r = self.rng
        first = np.array(FIRST, dtype=object)[r.integers(0, len(FIRST), size=n)]
        last = np.array(LAST, dtype=object)[r.integers(0, len(LAST), size=n)]
        if countries is None:
            w = np.array([c[3] for c in COUNTRIES])
            ci = r.choice(len(COUNTRIES), size=n, p=w / w.sum())
        else:
            ci = countries
        return pd.DataFrame({"first": first, "last": last, "ci": ci})

    def emails(self, p: pd.DataFrame, style: str, domain: str | None = None) -> np.ndarray:
        r = self.rng
        n = len(p)
        num = pd.Series(r.integers(1, 9999, size=n)).astype(str)
        f, l_ = p["first"].astype(str), p["last"].astype(str)
        form = r.integers(0, 4, size=n)
        local = np.select([form == 0, form == 1, form == 2],
                          [f + "." + l_, f.str[0] + l_ + num, l_ + "_" + f], f + l_ + num.str[-2:])
        if style == "org":
            dom = np.full(n, domain, dtype=object)
        elif style == "disposable":
            dom = DISPOSABLE[r.integers(0, len(DISPOSABLE), size=n)]
            local = pd.Series(_ids(r, "", n, 9)).to_numpy(dtype=object)
        elif style == "handle":
            dom = FREEMAIL[r.choice(len(FREEMAIL), size=n, p=FREEMAIL_P)]
            local = (pd.Series(self.vocab[r.integers(0, 300, size=n)]).astype(str) + pd.Series(
                r.integers(10, 99999, size=n)).astype(str)).to_numpy(dtype=object)
        else:
            dom = FREEMAIL[r.choice(len(FREEMAIL), size=n, p=FREEMAIL_P)]
        # people type their address in mixed case now and then
        addr = self._unique(pd.Series(local).astype(str) + "@" + pd.Series(dom).astype(str))
        upper = r.random(n) < 0.05
        addr[upper] = addr[upper].str.capitalize()
        return addr.to_numpy(dtype=object)

    def _unique(self, addr: pd.Series) -> pd.Series:
        """A mailbox belongs to one person: namesakes get a number appended, as at sign-up
        with any real provider (dots ignored in the comparison, as Gmail does)."""
        def key(a: pd.Series) -> pd.Series:
            return a.str.lower().str.replace(".", "", regex=False)
        for _ in range(8):
            k = key(addr)
            clash = (k.isin(self.taken) | k.duplicated()).to_numpy()
            if not clash.any():
                break
            parts = addr[clash].str.split("@")
            addr[clash] = parts.str[0] + pd.Series(self.rng.integers(10, 9999, size=int(clash.sum())),
                                                    index=parts.index).astype(str) + "@" + parts.str[1]
        self.taken.update(key(addr).tolist())
        return addr

    def phones(self, ci: np.ndarray, missing: float) -> np.ndarray:
        r = self.rng
        n = len(ci)
        code = np.array([c[2] for c in COUNTRIES], dtype=object)[ci]
        a, b, c = (pd.Series(r.integers(100, 999, size=n)).astype(str), pd.Series(r.integers(100, 999, size=n)).astype(str),
                   pd.Series(r.integers(1000, 9999, size=n)).astype(str))
        # a separated run of 12+ digits that passes Luhn reads as a card number and the
        # contract rejects the row: nudge the last digit of such numbers
        bad = _luhn_ok(pd.Series(code).astype(str) + a + b + c)
        c = c.where(~bad, c.str[:3] + ((c.str[3].astype(int) + 1) % 10).astype(str))
        txt = ("+" + pd.Series(code).astype(str) + " " + a + " " + b + "-" + c).to_numpy(dtype=object)
        return np.where(r.random(n) < missing, None, txt)

    def add_accounts(self, *, operator: np.ndarray, kind: str, people: pd.DataFrame, created: np.ndarray,
                     email: np.ndarray, signup_ip: np.ndarray, signup_ua: np.ndarray, org_id: str = "",
                     is_campaign: bool = False, declared_org: np.ndarray | None = None,
                     phone_missing: float = 0.5, display_missing: float = 0.2) -> np.ndarray:
        r = self.rng
        n = len(operator)
        acc = _ids(r, "u-", n, 10)
        display = (people["first"].str.capitalize() + " " + people["last"].str.capitalize()).to_numpy(dtype=object)
        flip = r.random(n) < 0.15  # "Novak, Anna", lower case, initials
        display = np.where(flip, (people["last"].str.upper() + ", " + people["first"].str.capitalize()).to_numpy(dtype=object), display)
        display = np.where(r.random(n) < display_missing, None, display)
        self.accounts.append(pd.DataFrame({
            "account_id": acc, "created_at": created, "email": email, "display_name": display,
            "declared_org": declared_org if declared_org is not None else np.full(n, None, dtype=object),
            "country": np.array([c[0] for c in COUNTRIES], dtype=object)[people["ci"].to_numpy()],
            "phone": self.phones(people["ci"].to_numpy(), phone_missing), "signup_ip": signup_ip,
            "signup_user_agent": signup_ua, "plan_tier": r.choice(["free", "plus", "team"], size=n),
        }))
        self.truth.append(pd.DataFrame({"account_id": acc, "operator_id": operator, "org_id": org_id,
                                        "is_campaign": is_campaign, "kind": kind}))
        self.events.append(pd.DataFrame({"account_id": acc, "ts": created, "ip": signup_ip,
                                         "user_agent": signup_ua, "event": "signup"}))
        return acc

    def add_cards(self, acc: np.ndarray, fingerprint: np.ndarray, bin_: np.ndarray, holder: np.ndarray,
                  address: np.ndarray, postcode: np.ndarray, country: np.ndarray, added: np.ndarray) -> None:
        r = self.rng
        n = len(acc)
        self.payments.append(pd.DataFrame({
            "payment_method_id": _ids(r, "pm_", n, 14), "account_id": acc, "added_at": added,
            "card_fingerprint": fingerprint, "card_bin": bin_,
            "card_last4": pd.Series(r.integers(0, 10000, size=n)).astype(str).str.zfill(4).to_numpy(dtype=object),
            "card_exp": (pd.Series(r.integers(1, 13, size=n)).astype(str).str.zfill(2) + "/" +
                         pd.Series(r.integers(27, 32, size=n)).astype(str)).to_numpy(dtype=object),
            "billing_name": holder, "billing_address": address, "billing_postcode": postcode,
            "billing_country": country,
        }))

    def addresses(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        r = self.rng
        num = pd.Series(r.integers(1, 999, size=n)).astype(str)
        street = pd.Series(np.array(STREETS, dtype=object)[r.integers(0, len(STREETS), size=n)])
        town = pd.Series(np.array(TOWNS, dtype=object)[r.integers(0, len(TOWNS), size=n)])
        flat = pd.Series(np.where(r.random(n) < 0.3, "Apt " + pd.Series(r.integers(1, 60, size=n)).astype(str) + ", ", ""))
        post = pd.Series(r.integers(10000, 99999, size=n)).astype(str)
        return (flat + num + " " + street + ", " + town).to_numpy(dtype=object), post.to_numpy(dtype=object)

    def fingerprints(self, n: int) -> np.ndarray:
        return _ids(self.rng, "cfp:", n, 20)

    def card_for_each(self, acc: np.ndarray, people: pd.DataFrame, created: np.ndarray, share: float,
                      bins: np.ndarray | None = None) -> None:
        """Own card for a share of the accounts (holder name as typed, own address)."""
        r = self.rng
        has = r.random(len(acc)) < share
        idx = np.flatnonzero(has)
        if not len(idx):
            return
        p = people.iloc[idx]
        holder = (p["first"].str.upper() + " " + p["last"].str.upper()).to_numpy(dtype=object)
        addr, post = self.addresses(len(idx))
        pool = self.bins if bins is None else bins
        self.add_cards(acc[idx], self.fingerprints(len(idx)), pool[r.integers(0, len(pool), size=len(idx))],
                       holder, addr, post, np.array([c[0] for c in COUNTRIES], dtype=object)[p["ci"].to_numpy()],
                       created[idx] + r.integers(0, 3 * DAY, size=len(idx)))

    # prompts --------------------------------------------------------------------
    def _popular_templates(self, k: int) -> dict:
        """Everyday prompt templates many unrelated people use (rewrite, translate, ...)."""
        r = self.rng
        verbs = ["Rewrite this to sound more polite:", "Translate into Spanish:", "Summarize in three bullet points:",
                 "Fix the grammar in:", "Give me a catchy title for:", "Explain like I am five:",
                 "Make this shorter:", "What is a good reply to:", "Turn this into a tweet:", "Proofread:"]
        heads = [verbs[i % len(verbs)] + " " + " ".join(self.vocab[r.integers(0, 200, size=r.integers(0, 4))])
                 for i in range(k)]
        pop = 1.0 / np.arange(1, k + 1) ** 1.1
        return {"head": np.array(heads, dtype=object), "p": pop / pop.sum()}

    def free_prompts(self, n: int, cot_share: float = 0.04, popular_share: float = 0.2) -> np.ndarray:
        r = self.rng
        text = _join_words(r, self.vocab, n, 4, 28, self.vocab_p)
        pop = r.random(n) < popular_share
        head = self.popular["head"][r.choice(len(self.popular["head"]), size=n, p=self.popular["p"])]
        text = np.where(pop, pd.Series(head).astype(str) + " " + pd.Series(text).astype(str).str.split(" ").str[:8].str.join(" "), text)
        cot = r.random(n) < cot_share
        tail = np.array(["explain step by step", "show your reasoning", "think it through"], dtype=object)[r.integers(0, 3, size=n)]
        return np.where(cot, pd.Series(text).astype(str) + " " + pd.Series(tail).astype(str), text)

    def script(self, topic: str, k: int, cot: bool) -> dict:
        """An operation's script: k templates = shared opener + topic body + CoT instruction,
        with up to three slots; paraphrase variants swap one to three words for synonyms."""
        r = self.rng
        tv = np.array(TOPICS[topic], dtype=object)
        parts, slots = [], []
        for _ in range(k):
            body = list(tv[r.integers(0, len(tv), size=r.integers(8, 16))]) + \
                list(self.vocab[r.integers(0, 400, size=r.integers(3, 7))])
            p0 = OPENERS[r.integers(0, len(OPENERS))] + " " + " ".join(body[:5])
            p1 = " ".join(body[5:10])
            p2 = " ".join(body[10:]) + ((" " + COT[r.integers(0, len(COT))]) if cot else "")
            parts.append((p0, p1, p2))
            slots.append(tuple(r.choice(["num", "ident", "code", "word"], size=2)))
        return {"parts": parts, "slots": slots}

    def fill(self, script: dict, tmpl: np.ndarray, paraphrase: float) -> np.ndarray:
        r = self.rng
        n = len(tmpl)
        parts = script["parts"]
        p = [np.array([pp[i] for pp in parts], dtype=object)[tmpl] for i in range(3)]
        # paraphrase: swap words for synonyms in a random share of requests
        swap = r.random(n) < paraphrase
        if swap.any():
            keys = list(SYNONYMS)
            for part in (0, 1, 2):
                s = pd.Series(p[part][swap]).astype(str)
                for _ in range(2):
                    key = np.array(keys, dtype=object)[r.integers(0, len(keys), size=len(s))]
                    words = pd.Series(key).astype(str)
                    # vectorised word swap: only rows containing the chosen word change
                    for w in np.unique(key):
                        m = (words == w).to_numpy()
                        if m.any():
                            s[m] = s[m].str.replace(rf"\b{w}\b", SYNONYMS[w], n=1, regex=True)
                p[part][swap] = s.to_numpy(dtype=object)
        num = pd.Series(r.integers(2, 99999, size=n)).astype(str)
        ident = "calc_" + pd.Series(self.vocab[r.integers(0, 300, size=n)]).astype(str) + "_v" + pd.Series(r.integers(1, 9, size=n)).astype(str)
        code = "`x[" + pd.Series(r.integers(0, 64, size=n)).astype(str) + "] = f(y) + " + num + ";`"
        word = pd.Series(self.vocab[r.integers(0, 200, size=n)]).astype(str)
        vals = {"num": num, "ident": ident, "code": code, "word": word}
        st = np.array([s for s in script["slots"]], dtype=object)[tmpl]
        def slot(i: int) -> pd.Series:
            out = num.copy()
            for name, v in vals.items():
                m = st[:, i] == name
                out[m] = v[m]
            return out
        return (pd.Series(p[0]).astype(str) + " " + slot(0) + " " + pd.Series(p[1]).astype(str) + " " + slot(1)
                + " " + pd.Series(p[2]).astype(str)).to_numpy(dtype=object)

    def add_exchanges(self, acc: np.ndarray, counts: np.ndarray, ts: np.ndarray, prompt: np.ndarray, ip: np.ndarray,
                      ua: np.ndarray, *, out_scale: float = 1.0, tools: float = 0.0, new_model_eager: bool = False) -> None:
        r = self.rng
        rows = np.repeat(acc, counts)
        n = len(rows)
        released = ts >= T0 + NEW_MODEL_DAY * DAY
        if new_model_eager:
            adopt = released & (ts >= T0 + NEW_MODEL_DAY * DAY + r.integers(2, 20, size=n) * HOUR)
        else:
            adopt = released & (r.random(n) < np.clip((ts - T0 - NEW_MODEL_DAY * DAY) / (14 * DAY), 0, 0.6))
        model = np.where(adopt, MODELS[2], MODELS[r.integers(0, 2, size=n)])
        plen = pd.Series(prompt).astype(str).str.len().to_numpy()
        self.exchanges.append(pd.DataFrame({
            "exchange_id": _ids(r, "x", n, 14), "account_id": rows,
            "api_key_id": (pd.Series(rows).astype(str) + np.where(r.random(n) < 0.1, ":k2", ":k1")).str.replace("u-", "ak-"),
            "ts": ts, "model": model, "prompt": prompt,
            "input_tokens": (plen / 4 + r.integers(5, 40, size=n)).astype(np.int64),
            "output_tokens": (r.lognormal(5.5, 0.7, size=n) * out_scale).astype(np.int64),
            "tool_calls": np.where(r.random(n) < tools, r.integers(1, 6, size=n), 0).astype(np.int64),
            "ip": ip, "user_agent": ua,
        }))

    def everyday(self, acc: np.ndarray, ci: np.ndarray, counts: np.ndarray, ip, ua: np.ndarray,
                 hours: tuple[int, int], **kw) -> None:
        """Personal prompts spread over the window in local ``hours`` of each account's
        country; ``ip`` is an array per account or a function of the row's account."""
        rows = np.repeat(np.arange(len(acc)), counts)
        offs = np.array([c[1] for c in COUNTRIES])[ci]
        ts = _timestamps(self.rng, np.full(len(rows), T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY), offs[rows], hours)
        prompt = self.free_prompts(len(rows))
        self.add_exchanges(acc, counts, ts, prompt, ip(rows) if callable(ip) else ip[rows], ua[rows], **kw)

    def logins(self, acc: np.ndarray, created: np.ndarray, ip_fn, ua: np.ndarray, mean: float = 2.0) -> None:
        r = self.rng
        k = r.poisson(mean, size=len(acc))
        rows = np.repeat(np.arange(len(acc)), k)
        ts = created[rows] + r.integers(HOUR, 20 * DAY, size=len(rows))
        self.events.append(pd.DataFrame({"account_id": acc[rows], "ts": np.minimum(ts, T0 + WINDOW_DAYS * DAY),
                                         "ip": ip_fn(rows), "user_agent": ua[rows], "event": "login"}))


BROWSERS = np.array([
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
], dtype=object)
SDKS = np.array(["lumen-python/2.4.1", "lumen-python/2.5.0", "lumen-node/1.9.3", "curl/8.6.0",
                 "python-requests/2.32.3", "lumen-go/0.8.2"], dtype=object)


def _pick(r: np.random.Generator, arr: np.ndarray, n: int, p: np.ndarray | None = None) -> np.ndarray:
    return arr[r.choice(len(arr), size=n, p=p)]


# ----------------------------------------------------------------------------- populations


def individuals(w: World, n: int) -> None:
    """Ordinary people; some keep a second account, some use a privacy proxy, a few are
    heavy coders who ask for reasoning (single operators, not campaigns)."""
    r = w.rng
    ppl = w.people(n)
    created = T0 - r.integers(0, 200 * DAY, size=n) + r.integers(0, WINDOW_DAYS * DAY, size=n) * (r.random(n) < 0.3)
    email = w.emails(ppl, "free")
    home = w.home_ips(n)
    mobile = r.random(n) < 0.25
    home = np.where(mobile, _ip4(r, w.mobile_base, 4096), home)  # carrier NAT: few addresses, many people
    ua = np.where(r.random(n) < 0.7, _pick(r, BROWSERS, n), _pick(r, SDKS, n))
    op = pd.Series(np.arange(n)).map(lambda i: f"person:{i}").to_numpy(dtype=object)
    acc = w.add_accounts(operator=op, kind="individual", people=ppl, created=created, email=email, signup_ip=home,
                         signup_ua=ua, phone_missing=0.45)
    w.card_for_each(acc, ppl, created, 0.55, bins=np.r_[w.bins, w.prepaid_bins])
    w.logins(acc, created, lambda rows: home[rows], ua)
    # second accounts of the same person (same mailbox with dots / tag, or same phone/card)
    dual = np.flatnonzero(r.random(n) < 0.05)
    if len(dual):
        p2 = ppl.iloc[dual].reset_index(drop=True)
        e1 = pd.Series(email[dual]).astype(str)
        local, dom = e1.str.split("@").str[0], e1.str.split("@").str[1]
        gm = (dom.str.lower() == "gmail.com").to_numpy()
        e2 = np.where(gm, (local.str[:2] + "." + local.str[2:] + "@gmail.com").to_numpy(dtype=object),
                      (local + "+alt@" + dom).to_numpy(dtype=object))
        c2 = created[dual] + r.integers(DAY, 60 * DAY, size=len(dual))
        acc2 = w.add_accounts(operator=op[dual], kind="individual", people=p2, created=c2, email=e2,
                              signup_ip=home[dual], signup_ua=ua[dual], phone_missing=0.45)
        w.logins(acc2, c2, lambda rows: home[dual][rows], ua[dual])
        acc = np.r_[acc, acc2]
        created = np.r_[created, c2]
        home = np.r_[home, home[dual]]
        ua = np.r_[ua, ua[dual]]
        tz = np.r_[ppl["ci"].to_numpy(), p2["ci"].to_numpy()]
    else:
        tz = ppl["ci"].to_numpy()
    m = len(acc)
    offs = np.array([c[1] for c in COUNTRIES])[tz]
    heavy = r.random(m) < 0.02
    proxy_user = r.random(m) < 0.06
    counts = np.maximum(1, r.lognormal(np.log(w.scale.benign_rate) - 0.5, 1.0, size=m).astype(int))
    counts = np.where(heavy, counts * 15 + 50, counts)
    rows = np.repeat(np.arange(m), counts)
    start = np.maximum(created[rows], T0)
    ts = _timestamps(r, start, np.full(len(rows), T0 + WINDOW_DAYS * DAY), offs[rows], (8, 23))
    prompt = w.free_prompts(len(rows))
    hv = heavy[rows]
    if hv.any():
        code_p = _join_words(r, np.array(TOPICS["codegen"] + TOPICS["olympiad"], dtype=object), int(hv.sum()), 6, 20)
        prompt[hv] = (pd.Series(code_p).astype(str) + " explain your reasoning step by step").to_numpy(dtype=object)
    ip = np.where(proxy_user[rows], w.proxy_pool[r.integers(0, len(w.proxy_pool), size=len(rows))], home[rows])
    w.add_exchanges(acc, counts, ts, prompt, ip, ua[rows], out_scale=np.where(hv, 3.0, 1.0), tools=0.02)


def households(w: World, n: int) -> None:
    """Families sharing one card, one address and one home connection: one operator."""
    r = w.rng
    size = r.choice([2, 2, 2, 3, 3, 4], size=n)
    hh = np.repeat(np.arange(n), size)
    m = len(hh)
    ppl = w.people(m)
    ppl["last"] = ppl["last"].to_numpy()[np.r_[0, np.cumsum(size)[:-1]]][hh]  # one family name
    ppl["ci"] = ppl["ci"].to_numpy()[np.r_[0, np.cumsum(size)[:-1]]][hh]
    created = T0 - r.integers(0, 300 * DAY, size=m)
    home = w.home_ips(n)[hh]
    ua = _pick(r, BROWSERS, m)
    op = pd.Series(hh).map(lambda i: f"family:{i}").to_numpy(dtype=object)
    acc = w.add_accounts(operator=op, kind="household", people=ppl, created=created, email=w.emails(ppl, "free"),
                         signup_ip=home, signup_ua=ua)
    fp = w.fingerprints(n)[hh]
    holder_idx = np.r_[0, np.cumsum(size)[:-1]][hh]
    holder = (ppl["first"].str.upper().to_numpy()[holder_idx] + " " + ppl["last"].str.upper().to_numpy())
    addr, post = w.addresses(n)
    w.add_cards(acc, fp, w.bins[r.integers(0, len(w.bins), size=n)][hh], holder, addr[hh], post[hh],
                np.array([c[0] for c in COUNTRIES], dtype=object)[ppl["ci"].to_numpy()], created + DAY)
    counts = np.maximum(1, r.poisson(w.scale.benign_rate * 0.8, size=m))
    w.everyday(acc, ppl["ci"].to_numpy(), counts, home, ua, (17, 24))


def universities(w: World, sizes: tuple[int, ...]) -> None:
    """Students behind the campus NAT, one e-mail domain, a sign-up burst at semester start."""
    r = w.rng
    names = ["Vaelmont", "Oster Bay", "Ruskin Hollow", "Marisol"]
    for u, n in enumerate(sizes):
        ppl = w.people(n, countries=np.full(n, [0, 2, 6, 1][u % 4]))
        dom = f"stud.{names[u].lower().replace(' ', '')}.edu"
        burst = r.random(n) < 0.7
        created = np.where(burst, T0 + 3 * DAY + r.integers(0, 2 * DAY, size=n), T0 - r.integers(0, 400 * DAY, size=n))
        nat = _ip_text(w.edu_base + u * 256 + np.arange(r.integers(2, 5)))
        ip_of = lambda k: nat[r.integers(0, len(nat), size=k)]
        ua = _pick(r, BROWSERS, n)
        op = pd.Series(np.arange(n)).map(lambda i, u=u: f"uni{u}-student-{i}").to_numpy(dtype=object)
        decl = np.where(r.random(n) < 0.3, f"{names[u]} University", None)
        acc = w.add_accounts(operator=op, kind="university", people=ppl, created=created,
                             email=w.emails(ppl, "org", dom), signup_ip=ip_of(n), signup_ua=ua, declared_org=decl,
                             phone_missing=0.7)
        w.card_for_each(acc, ppl, created, 0.15)
        w.logins(acc, created, lambda rows: ip_of(len(rows)), ua, 3.0)
        counts = np.maximum(1, r.lognormal(np.log(w.scale.benign_rate), 0.8, size=n).astype(int))
        rows = np.repeat(np.arange(n), counts)
        ts = _timestamps(r, np.maximum(created[rows], T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY),
                         np.full(len(rows), COUNTRIES[[0, 2, 6, 1][u % 4]][1]), (9, 18))
        # coursework: one assignment template per week shared by the course (a side-line)
        prompt = w.free_prompts(len(rows), cot_share=0.06)
        hw = r.random(len(rows)) < 0.15
        sc = w.script("science", 6, cot=False)
        prompt[hw] = w.fill(sc, ((ts[hw] - T0) // (7 * DAY)).clip(0, 5).astype(int), 0.3)
        home_share = r.random(len(rows)) < 0.3
        ip = np.where(home_share, w.home_ips(len(rows)), ip_of(len(rows)))
        w.add_exchanges(acc, counts, ts, prompt, ip, ua[rows])


def events(w: World, sizes: tuple[int, ...]) -> None:
    """Hackathons and classes: one starter template, one venue, one afternoon."""
    r = w.rng
    for e, n in enumerate(sizes):
        ppl = w.people(n)
        day = T0 + int(r.integers(2, WINDOW_DAYS - 3)) * DAY
        start_h = int(r.integers(7, 15))
        created = np.where(r.random(n) < 0.6, day + start_h * HOUR - r.integers(0, 3 * HOUR, size=n),
                           T0 - r.integers(0, 300 * DAY, size=n))
        venue = _ip_text(w.corp_base + 40 * 256 + e * 4 + np.arange(2))
        ua = np.where(r.random(n) < 0.6, SDKS[0], _pick(r, BROWSERS, n))
        op = pd.Series(np.arange(n)).map(lambda i, e=e: f"event{e}-guest-{i}").to_numpy(dtype=object)
        acc = w.add_accounts(operator=op, kind="hackathon", people=ppl, created=created, email=w.emails(ppl, "free"),
                             signup_ip=venue[r.integers(0, 2, size=n)], signup_ua=ua)
        w.card_for_each(acc, ppl, created, 0.4)
        home = w.home_ips(n)
        # at the event: the starter template (1-2 variants), venue IP, same hours
        k_ev = r.integers(3, 25, size=n)
        rows = np.repeat(np.arange(n), k_ev)
        ts = day + (start_h + r.integers(0, 6, size=len(rows))) * HOUR + r.integers(0, HOUR, size=len(rows))
        sc = w.script(["codegen", "agentic"][e % 2], 2, cot=e % 3 == 0)
        prompt = w.fill(sc, r.integers(0, 2, size=len(rows)), 0.1)
        w.add_exchanges(acc, k_ev, ts, prompt, venue[r.integers(0, 2, size=len(rows))], ua[rows], tools=0.3)
        # afterwards: their own lives
        k = np.maximum(0, r.poisson(w.scale.benign_rate * 0.6, size=n))
        w.everyday(acc, ppl["ci"].to_numpy(), k, home, ua, (8, 23))


def vpn_users(w: World, sizes: tuple[int, ...]) -> None:
    """Customers of a consumer VPN: a handful of exit addresses shared by strangers."""
    r = w.rng
    for v, n in enumerate(sizes):
        ppl = w.people(n)
        exits = _ip_text(w.vpn_bases[v % 2] + np.arange(int(r.integers(4, 9))))
        created = T0 - r.integers(0, 200 * DAY, size=n)
        ua = _pick(r, BROWSERS, n)
        op = pd.Series(np.arange(n)).map(lambda i, v=v: f"vpn{v}-user-{i}").to_numpy(dtype=object)
        acc = w.add_accounts(operator=op, kind="vpn", people=ppl, created=created, email=w.emails(ppl, "free"),
                             signup_ip=exits[r.integers(0, len(exits), size=n)], signup_ua=ua)
        w.card_for_each(acc, ppl, created, 0.5)
        w.logins(acc, created, lambda rows: exits[r.integers(0, len(exits), size=len(rows))], ua)
        counts = np.maximum(1, r.lognormal(np.log(w.scale.benign_rate), 0.9, size=n).astype(int))
        w.everyday(acc, ppl["ci"].to_numpy(), counts, lambda rows, exits=exits: exits[r.integers(0, len(exits), size=len(rows))],
                   ua, (7, 24))


def reseller(w: World, n: int) -> None:
    """A router reselling API access: every customer's traffic leaves from its egress with its client."""
    r = w.rng
    ppl = w.people(n)
    egress = _ip_text(w.dc2_base + 9 * 256 + np.arange(3))
    ua_r = "switchyard-router/3.2.0"
    created = T0 - r.integers(0, 150 * DAY, size=n)
    op = pd.Series(np.arange(n)).map(lambda i: f"switchyard-customer-{i}").to_numpy(dtype=object)
    acc = w.add_accounts(operator=op, kind="reseller_customer", people=ppl, created=created,
                         email=w.emails(ppl, "free"), signup_ip=w.home_ips(n), signup_ua=_pick(r, BROWSERS, n))
    counts = np.maximum(1, r.lognormal(np.log(w.scale.benign_rate * 1.5), 0.9, size=n).astype(int))
    rows = np.repeat(np.arange(n), counts)
    ts = _timestamps(r, np.full(len(rows), T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY), np.zeros(len(rows), int), None)
    w.add_exchanges(acc, counts, ts, w.free_prompts(len(rows), cot_share=0.08),
                    egress[r.integers(0, 3, size=len(rows))], np.full(len(rows), ua_r, dtype=object), tools=0.1)


COMPANIES = [("Brindle & Oak Architects", "brindleoak.test", True), ("Corvane Logistics", "corvane.test", False),
             ("Pellamy Health", "pellamy-health.test", True), ("Quarrytide Games", "quarrytide.test", False),
             ("Saltmarsh Legal", "saltmarsh-legal.test", True), ("Tinder Reef Media", "tinderreef.test", False)]


def companies(w: World, sizes: tuple[int, ...]) -> None:
    """Employees of a company: org e-mail domain, corporate egress, one corporate card or
    per-employee virtual cards under the company's legal name. One operator, attributed."""
    r = w.rng
    for c, n in enumerate(sizes):
        name, dom, one_card = COMPANIES[c % len(COMPANIES)]
        org = f"ORG-C{c:02d}"
        w.orgs.append(dict(org_id=org, name=name, aliases=None, email_domains=dom, asns=None,
                           cidrs=f"170.3.{100 + c}.0/24", billing_names=name + " Ltd"))
        ppl = w.people(n, countries=np.full(n, int(r.integers(0, len(COUNTRIES)))))
        created = T0 - r.integers(0, 120 * DAY, size=n)
        egress = _ip_text(w.corp_base + (100 + c) * 256 + np.arange(2))
        ua = np.where(r.random(n) < 0.5, SDKS[1], _pick(r, BROWSERS, n))
        acc = w.add_accounts(operator=np.full(n, f"company:{name}", dtype=object), kind="company", people=ppl,
                             created=created, email=w.emails(ppl, "org", dom), signup_ip=egress[r.integers(0, 2, size=n)],
                             signup_ua=ua, org_id=org, declared_org=np.where(r.random(n) < 0.6, name, None))
        fp = np.full(n, w.fingerprints(1)[0], dtype=object) if one_card else w.fingerprints(n)
        addr, post = w.addresses(1)
        w.add_cards(acc, fp, np.full(n, w.bins[7 + c], dtype=object), np.full(n, (name + " Ltd").upper(), dtype=object),
                    np.full(n, addr[0], dtype=object), np.full(n, post[0], dtype=object),
                    np.array([c_[0] for c_ in COUNTRIES], dtype=object)[ppl["ci"].to_numpy()], created + DAY)
        counts = np.maximum(1, r.poisson(w.scale.benign_rate * 3, size=n))
        rows = np.repeat(np.arange(n), counts)
        ts = _timestamps(r, np.full(len(rows), T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY),
                         np.full(len(rows), COUNTRIES[int(ppl['ci'].iloc[0])][1]), (9, 18))
        w.add_exchanges(acc, counts, ts, w.free_prompts(len(rows), cot_share=0.05), egress[r.integers(0, 2, size=len(rows))], ua[rows])


EVAL_JOBS = [("Marlowe Assurance", "marlowe-assurance.test"), ("Brightwater Freight", "brightwater.test")]


def eval_jobs(w: World, sizes: tuple[int, ...]) -> None:
    """A company evaluating the model at volume on one narrow topic from a cloud job:
    high volume, few templates, some reasoning requests, but nothing hidden (one card,
    own domain, fixed egress, accounts opened weeks apart). One operator, benign."""
    r = w.rng
    for j, n in enumerate(sizes):
        name, dom = EVAL_JOBS[j % len(EVAL_JOBS)]
        org = f"ORG-E{j:02d}"
        w.orgs.append(dict(org_id=org, name=name, aliases=None, email_domains=dom, asns=None, cidrs=None,
                           billing_names=name + " plc"))
        ppl = w.people(n, countries=np.full(n, 1))
        created = T0 - 30 * DAY + np.arange(n) * int(r.integers(4, 12)) * DAY
        egress = _ip_text(w.dc_base + 200 * 256 + j * 8 + np.arange(2))
        acc = w.add_accounts(operator=np.full(n, f"evaljob:{name}", dtype=object), kind="enterprise_eval",
                             people=ppl, created=created, email=w.emails(ppl, "org", dom),
                             signup_ip=w.home_ips(n), signup_ua=np.full(n, BROWSERS[1], dtype=object), org_id=org,
                             declared_org=np.full(n, name, dtype=object), phone_missing=0.0)
        w.add_cards(acc, np.full(n, w.fingerprints(1)[0], dtype=object), np.full(n, w.bins[20 + j], dtype=object),
                    np.full(n, (name + " plc").upper(), dtype=object), np.full(n, "1 Canary Quay", dtype=object),
                    np.full(n, "E14 5AB", dtype=object), np.full(n, "GB", dtype=object), created + HOUR)
        counts = r.integers(w.scale.eval_volume // 2, w.scale.eval_volume * 2, size=n)
        rows = np.repeat(np.arange(n), counts)
        ts = _timestamps(r, np.maximum(created[rows], T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY),
                         np.zeros(len(rows), int), (1, 5), spread=0.2)  # a nightly batch
        sc = w.script("claims", 8, cot=True)
        prompt = w.fill(sc, r.integers(0, 8, size=len(rows)), 0.0)
        plain = r.random(len(rows)) < 0.5  # half the suite asks for a label only
        prompt[plain] = pd.Series(prompt[plain]).astype(str).str.split(".").str[:2].str.join(".").to_numpy(dtype=object)
        w.add_exchanges(acc, counts, ts, prompt, egress[r.integers(0, 2, size=len(rows))],
                        np.full(len(rows), SDKS[1], dtype=object), out_scale=2.0)


def campaigns(w: World, operations: list) -> None:
    """Distillation operations of fictional labs. Evasion (0..1) controls how well an
    operation hides: card reuse vs one prepaid card each, tagged mailboxes vs disposable /
    random handles, datacenter vs a rotating residential proxy pool, burst vs spread
    sign-ups, paraphrase rate; 1-3% of accounts leak an attribution clue."""
    r = w.rng
    for lab in LABS.values():
        w.orgs.append(dict(org_id=lab["org_id"], name=lab["name"], aliases=lab["aliases"], email_domains=lab["domain"],
                           asns=str(lab["asn"]), cidrs=lab["cidr"], billing_names=lab["billing"]))
    for o, (lab_key, n, rate, ev, topic, tz) in enumerate(operations):
        lab = LABS[lab_key]
        opid = f"op-{lab_key}-{o}"
        ppl = w.people(n)  # personas
        # sign-up: batches within minutes (low evasion) or spread over weeks (high evasion)
        n_batches = max(1, int(n / (40 * (1 - ev) + 4)))
        batch = r.integers(0, n_batches, size=n)
        bstart = T0 - 10 * DAY + r.integers(0, (12 + int(25 * ev)) * DAY, size=n_batches)
        jitter = r.integers(0, int(HOUR * (0.3 + 30 * ev ** 2)), size=n)
        created = bstart[batch] + jitter
        style = r.random(n)
        email = np.where(style < 0.6 * ev, w.emails(ppl, "handle"),
                         np.where(style < 0.6 * ev + 0.25, w.emails(ppl, "disposable"), w.emails(ppl, "free")))
        if ev < 0.3:  # tagged variants of a few operator mailboxes
            base = _ids(r, "ops", 4, 6)
            email = (pd.Series(base[r.integers(0, 4, size=n)]).astype(str) + "+" +
                     pd.Series(_ids(r, "", n, 5)).astype(str) + "@gmail.com").to_numpy(dtype=object)
        clue = r.random(n) < 0.02
        email = np.where(clue & (r.random(n) < 0.5), w.emails(ppl, "org", lab["domain"]), email)
        lab_net = _cidr_base(lab["cidr"])
        use_dc = ev < 0.3
        dc_ips = _ip_text(w.dc_base + (20 + o) * 256 + np.arange(16))
        signup_ip = np.where(use_dc, dc_ips[r.integers(0, 16, size=n)], w.proxy_pool[r.integers(0, len(w.proxy_pool), size=n)])
        signup_ip = np.where(clue, _ip4(r, lab_net, 100), signup_ip)
        ua = np.where(r.random(n) < 0.7, SDKS[r.integers(0, 3)], _pick(r, SDKS, n))
        decl = np.where(clue & (r.random(n) < 0.4), lab["aliases"].split(";")[0], None)
        acc = w.add_accounts(operator=np.full(n, opid, dtype=object), kind="campaign", people=ppl, created=created,
                             email=email, signup_ip=signup_ip, signup_ua=ua, org_id=lab["org_id"], is_campaign=True,
                             declared_org=decl, phone_missing=0.3 + 0.6 * ev, display_missing=0.5 * ev)
        # cards: shared among a handful of accounts (low evasion) or one prepaid card each
        has = r.random(n) < 0.9 - 0.4 * ev
        idx = np.flatnonzero(has)
        if len(idx):
            share = max(1, int(round(8 * (1 - ev) ** 2)))
            group = r.integers(0, max(1, len(idx) // share), size=len(idx))
            fp = w.fingerprints(int(group.max()) + 1)[group]
            bins = np.where(r.random(len(idx)) < ev, w.prepaid_bins[r.integers(0, 3, size=len(idx))], w.bins[r.integers(0, 40, size=len(idx))])
            holder = (ppl["first"].str.upper() + " " + ppl["last"].str.upper()).to_numpy(dtype=object)[idx]
            holder = np.where(clue[idx], lab["billing"].split(";")[0], holder)
            addr, post = w.addresses(len(idx))
            w.add_cards(acc[idx], fp, bins, holder, addr, post,
                        np.array([c[0] for c in COUNTRIES], dtype=object)[ppl["ci"].to_numpy()[idx]], created[idx] + HOUR)
        # traffic: heavy-tailed volume over the script
        counts = np.maximum(12, r.lognormal(np.log(rate) - 0.3, 0.8, size=n).astype(int))
        rows = np.repeat(np.arange(n), counts)
        hours = None if ev > 0.7 else (9, 19)
        ts = _timestamps(r, np.maximum(created[rows], T0), np.full(len(rows), T0 + WINDOW_DAYS * DAY),
                         np.full(len(rows), tz), hours)
        k = int(r.integers(25, 90))
        sc = w.script(topic, k, cot=True)
        # each account works a random slice of the script
        first_t = r.integers(0, k, size=n)
        width = r.integers(max(3, k // 6), max(4, k // 2), size=n)
        tmpl = (first_t[rows] + (r.random(len(rows)) * width[rows]).astype(int)) % k
        prompt = w.fill(sc, tmpl, 0.15 + 0.5 * ev)
        if use_dc:
            ip = dc_ips[r.integers(0, 16, size=len(rows))]
        elif ev < 0.7:  # sticky residential exit per account and day
            key = rows * 1000 + (ts - T0) // DAY
            ip = w.proxy_pool[(pd.util.hash_array(key.astype(np.int64)) % len(w.proxy_pool)).astype(np.int64)]
        else:  # a fresh exit per request
            ip = w.proxy_pool[r.integers(0, len(w.proxy_pool), size=len(rows))]
        leak = clue[rows] & (r.random(len(rows)) < 0.3)
        ip = np.where(leak, _ip4(r, lab_net, 100), ip)
        w.add_exchanges(acc, counts, ts, prompt, ip, ua[rows], out_scale=3.0,
                        tools=0.5 if topic == "agentic" else 0.05, new_model_eager=True)
        w.logins(acc, created, lambda rows_: w.proxy_pool[r.integers(0, len(w.proxy_pool), size=len(rows_))] if not use_dc
                 else dc_ips[r.integers(0, 16, size=len(rows_))], ua, 1.0)


# ----------------------------------------------------------------------------- output


def _ts_col(x: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(x, dtype=np.int64), type=pa.int64()).cast(pa.timestamp("us", tz="UTC"))


def _iso(x: np.ndarray) -> np.ndarray:
    return pd.to_datetime(np.asarray(x, dtype=np.int64), unit="us", utc=True).strftime("%Y-%m-%dT%H:%M:%SZ").to_numpy(dtype=object)


def generate(out: Path, seed: int, scale: str = "demo") -> dict:
    """Generate one world into ``out``; returns row counts."""
    w = World(seed, SCALES[scale])
    s = w.scale
    individuals(w, s.individuals)
    households(w, s.households)
    universities(w, s.universities)
    events(w, s.events)
    vpn_users(w, s.vpn_users)
    reseller(w, s.reseller_customers)
    companies(w, s.companies)
    eval_jobs(w, s.eval_jobs)
    campaigns(w, s.operations)
    for i in range(3):  # organisations with no accounts at all (decoys for attribution)
        w.orgs.append(dict(org_id=f"ORG-D{i}", name=["Lattice Harbor", "Emberfold Analytics", "Northwind Sextant"][i],
                           aliases=None, email_domains=f"decoy{i}.test", asns=None, cidrs=None, billing_names=None))

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    acc = pd.concat(w.accounts, ignore_index=True)
    order = w.rng.permutation(len(acc))  # no meaningful row order
    acc = acc.iloc[order].reset_index(drop=True)
    acc["created_at"] = _iso(acc["created_at"].to_numpy())
    acc = acc[["email", "account_id", "created_at", "country", "display_name", "declared_org", "phone",
               "signup_ip", "signup_user_agent", "plan_tier"]]
    acc.to_csv(out / "accounts.csv", index=False)
    pm = pd.concat(w.payments, ignore_index=True)
    pm["added_at"] = _iso(pm["added_at"].to_numpy())
    pm.to_csv(out / "payment_methods.csv", index=False)
    ev = pd.concat(w.events, ignore_index=True).sort_values("ts", kind="stable")
    pq.write_table(pa.table({"account_id": ev["account_id"].astype(str).to_numpy(), "ts": _ts_col(ev["ts"].to_numpy()),
                             "ip": ev["ip"].astype(str).to_numpy(), "user_agent": ev["user_agent"].astype(str).to_numpy(),
                             "event": ev["event"].to_numpy()}), out / "ip_events.parquet")
    ex = pd.concat(w.exchanges, ignore_index=True)
    ex = ex.iloc[np.argsort(ex["ts"].to_numpy(), kind="stable")]
    pq.write_table(pa.table({
        "exchange_id": ex["exchange_id"].to_numpy().astype(str), "account_id": ex["account_id"].to_numpy().astype(str),
        "api_key_id": ex["api_key_id"].to_numpy().astype(str), "ts": _ts_col(ex["ts"].to_numpy()),
        "model": ex["model"].to_numpy().astype(str), "prompt": ex["prompt"].to_numpy().astype(str),
        "input_tokens": ex["input_tokens"].to_numpy(), "output_tokens": ex["output_tokens"].to_numpy(),
        "tool_calls": ex["tool_calls"].to_numpy(), "ip": ex["ip"].to_numpy().astype(str),
        "user_agent": ex["user_agent"].to_numpy().astype(str)}), out / "exchanges.parquet", row_group_size=200_000)
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(w.networks), preserve_index=False), out / "networks.parquet")
    pq.write_table(pa.Table.from_pandas(pd.DataFrame(w.orgs), preserve_index=False), out / "organizations.parquet")
    truth = pd.concat(w.truth, ignore_index=True)
    truth["is_campaign"] = truth["is_campaign"].map({True: "true", False: "false"})
    truth.to_csv(out / "truth.csv", index=False)
    return {"accounts": len(acc), "payment_methods": len(pm), "ip_events": len(ev), "exchanges": len(ex)}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", choices=sorted(SCALES), default="demo")
    args = parser.parse_args(argv)
    t = time.perf_counter()
    counts = generate(args.out, args.seed, args.scale)
    print(f"{counts} in {time.perf_counter() - t:.1f} s -> {args.out}")


if __name__ == "__main__":
    main()

"""Build one world's tables from its drawn structure (see ``structure.py``) and write them.

Every group (an operation, a campus, all households, all ordinary individuals, ...) is built
by one method, vectorised over its accounts and exchanges; the per-exchange columns are put
together once at the end (prompts rendered per frame, ids by bijection, tokens by profile).
A second random stream, separate from the structure's, draws every row.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from . import text, vocab
from .nets import AddressPlan, Block
from .structure import SIZE_CODE, draw_structure

DAY = 86_400
HOUR = 3_600
KINDS = ("operation", "individual", "campus", "class", "hackathon", "vpn", "reseller", "company",
         "household", "enterprise_eval", "popular_question", "dual_account")
# hour-of-day weights of ordinary people (local time): quiet nights, busy evenings
PERSONAL_HOURS = np.array([2, 1.2, 0.7, 0.4, 0.3, 0.4, 0.9, 2, 3.2, 4, 4.2, 4.3, 4.4, 4.3, 4.3, 4.4,
                           4.5, 4.6, 4.8, 5.2, 5.5, 5.3, 4.4, 3.2])
PERSONAL_HOURS = PERSONAL_HOURS / PERSONAL_HOURS.sum()
HOURS_PERSONAL, HOURS_OFFICE, HOURS_ROUND = 0, 1, 2
# output tokens (lognormal median, sigma) per prompt profile (text.PROFILES order)
OUTPUT_TOKENS = [(320, 0.7), (650, 0.6), (1500, 0.5), (260, 0.6), (12, 0.5), (300, 0.6)]
TS_TYPE = pa.timestamp("us", tz="UTC")
YEAR_START = int(datetime(2026, 1, 1, tzinfo=timezone.utc).timestamp())


@dataclass
class Crowd:
    """Per-account behaviour of a group of people (arrays of one length)."""

    tz: np.ndarray
    country: list[str]
    first: list[str]
    last: list[str]
    home: np.ndarray  # (n, 3) address indexes, used in turn over the window
    nhome: np.ndarray
    carrier: np.ndarray
    p_mobile: np.ndarray
    p_proxy: np.ndarray
    ua_main: np.ndarray
    ua_alt: np.ndarray
    p_alt: np.ndarray
    hours: np.ndarray
    tau_days: np.ndarray  # how fast a person moves to a new model
    p_mini: np.ndarray

    def __len__(self) -> int:
        return len(self.tz)

    def take(self, rows: np.ndarray) -> "Crowd":
        return Crowd(self.tz[rows], [self.country[i] for i in rows], [self.first[i] for i in rows],
                     [self.last[i] for i in rows], self.home[rows], self.nhome[rows], self.carrier[rows],
                     self.p_mobile[rows], self.p_proxy[rows], self.ua_main[rows], self.ua_alt[rows],
                     self.p_alt[rows], self.hours[rows], self.tau_days[rows], self.p_mini[rows])


def _seconds(iso: str) -> int:
    return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp())


class WorldBuilder:
    """Turns a structure dict into contract tables: :meth:`build`, then :meth:`tables`."""

    def __init__(self, structure: dict) -> None:
        self.s = structure
        self.rng = np.random.default_rng(np.random.SeedSequence([structure["seed"], SIZE_CODE[structure["size"]], 2]))
        self.t0 = _seconds(structure["window"]["start"])
        self.t1 = _seconds(structure["window"]["end"])
        self.days = structure["window"]["days"]
        self.plan = AddressPlan(self.rng)
        self.book = text.FrameBook()
        self.book.add_slot("pq_prefix", vocab.POPULAR_PREFIX)
        self.book.add_slot("pq_suffix", vocab.POPULAR_SUFFIX)
        self.ua_text: list[str] = []
        self.ua_sdk: list[bool] = []
        self._ua_index: dict[str, int] = {}
        self.acc: dict[str, list] = {k: [] for k in (
            "created", "email", "display_name", "declared_org", "country", "phone", "signup_ip",
            "signup_ua", "operator", "org_id", "campaign", "kind", "n_keys", "key_base")}
        self.cards: dict[str, list] = {"fp": [], "bin": [], "last4": [], "exp": []}
        self.pm: dict[str, list] = {k: [] for k in ("account", "card", "added", "billing_name", "billing_address",
                                                       "billing_postcode", "billing_country")}
        self.chunks: list[dict[str, np.ndarray]] = []
        self.emails: set[str] = set()
        self.n_operators = 0
        self.n_keys = 0
        self.orgs: list[dict] = []

    # ------------------------------------------------------------------ shared resources

    def _one(self, values: list):
        """One element of ``values``, drawn uniformly."""
        return values[int(self.rng.integers(len(values)))]

    def _ua(self, value: str, sdk: bool) -> int:
        if value not in self._ua_index:
            self._ua_index[value] = len(self.ua_text)
            self.ua_text.append(value)
            self.ua_sdk.append(sdk)
        return self._ua_index[value]

    def _setup(self) -> None:
        rng, plan, s = self.rng, self.plan, self.s
        # residential ISPs, mobile carriers, clouds
        self.isp_blocks: list[Block] = []
        self.isp_v6: list[Block] = []
        isp_weight = []
        for i in range(int(rng.integers(4, 11))):
            name = f"{self._one(vocab.ISP_WORDS)} {self._one(vocab.ISP_TAILS)}"
            asn = plan.new_asn()
            weight = 1.0 / (i + 1) ** 0.8
            for _ in range(int(rng.integers(1, 4))):
                self.isp_blocks.append(plan.block(int(rng.integers(16, 20)), asn, name, "residential"))
                isp_weight.append(weight)
            if rng.random() < 0.6:
                self.isp_v6.append(plan.block6(asn, name, "residential"))
        self.isp_weight = np.array(isp_weight)
        self.carrier_pools: list[np.ndarray] = []
        scale = 1 if s["size"] == "small" else 3
        for _ in range(int(rng.integers(2, 6))):
            name = f"{self._one(vocab.ISP_WORDS)} {self._one(vocab.MOBILE_TAILS)}"
            asn = plan.new_asn()
            v4 = plan.block(int(rng.integers(16, 19)), asn, name, "mobile")
            pool = plan.addresses(v4, int(rng.integers(20, 150)) * scale)  # carrier-grade NAT: few addresses, many people
            if rng.random() < 0.5:
                v6 = plan.block6(asn, name, "mobile")
                pool = np.concatenate([pool, plan.addresses(v6, int(rng.integers(20, 100)) * scale)])
            self.carrier_pools.append(pool)
        self.clouds: list[list[Block]] = []
        for _ in range(int(rng.integers(3, 7))):
            name = f"{self._one(vocab.ISP_WORDS)} {self._one(vocab.CLOUD_TAILS)}"
            asn = plan.new_asn()
            self.clouds.append([plan.block(int(rng.integers(16, 21)), asn, name, "datacenter")
                                for _ in range(int(rng.integers(1, 4)))])
        # the residential proxy provider: exits are ordinary home connections of the ISPs
        biggest = max([op["pool_size"] for op in s["operations"] if op["infrastructure"] == "residential_proxy"] or [0])
        n_exits = int(np.clip(max(biggest * rng.uniform(1.2, 3.0), 2_000 * scale), 2_000, 60_000))
        self.proxy_exits = plan.spread(self.isp_blocks, n_exits, self.isp_weight)
        self.structure_extra = {"residential_proxy_exits": n_exits}
        # clients
        self.browser_ua: list[int] = []
        for _ in range(160):
            template = self._one(vocab.BROWSER_TEMPLATES)
            value = template.format(v=int(rng.integers(118, 128)), b=int(rng.integers(5000, 7000)),
                                    p=int(rng.integers(1, 200)), m=int(rng.integers(1, 9)))
            self.browser_ua.append(self._ua(value, False))
        self.browser_ua = sorted(set(self.browser_ua))
        self.browser_w = 1.0 / np.arange(1, len(self.browser_ua) + 1) ** 0.9
        self.browser_w /= self.browser_w.sum()
        platform = s["platform"]["name"]
        sdk, weight = [self._ua(s["platform"]["popular_client"], True)], [45.0]  # ~40% of SDK users
        for lang in vocab.SDK_LANGS:
            for k in range(int(rng.integers(3, 9))):
                version = f"{int(rng.integers(1, 5))}.{int(rng.integers(0, 60))}.{int(rng.integers(0, 12))}"
                sdk.append(self._ua(f"{platform}-{lang}/{version}", True))
                weight.append((6.0 if lang == "python" else 2.0) / (k + 1))
        for lib, versions in vocab.HTTP_LIBS:
            for version in versions:
                sdk.append(self._ua(f"{lib}/{version}", True))
                weight.append(0.8)
        for kit in vocab.TOOLKIT_NAMES:
            version = f"0.{int(rng.integers(1, 30))}.{int(rng.integers(0, 12))}"
            sdk.append(self._ua(f"{kit}/{version} {s['platform']['popular_client']}", True))
            weight.append(1.2)
        self.sdk_ua = np.array(sdk)
        self.sdk_w = np.array(weight) / sum(weight)
        # models
        self.model_names: list[str] = []
        release, flag, mini = [], [], []
        for model in s["models"]:
            flag.append(len(self.model_names))
            self.model_names.append(model["name"])
            if model["mini"]:
                mini.append(len(self.model_names))
                self.model_names.append(model["mini"])
            else:
                mini.append(-1)
            day = model["released_day"]
            release.append(self.t0 - 400 * DAY if day is None else self.t0 + int(day * DAY))
        self.gen_release = np.array(release, dtype=np.int64)
        self.gen_flag = np.array(flag)
        self.gen_mini = np.array(mini)
        # prompt frames shared by the world
        self.personal_ids = np.array([self.book.add(f, p) for f, p in vocab.PERSONAL_FRAMES])
        self.personal_w = self.rng.dirichlet(np.full(len(self.personal_ids), 2.0))
        self.work_ids = np.array([self.book.add(f, p) for f, p in vocab.WORK_FRAMES])
        questions = [vocab.POPULAR_QUESTIONS[i] for i in rng.permutation(len(vocab.POPULAR_QUESTIONS))]
        n_q = next(g for g in s["lookalikes"] if g["kind"] == "popular_question")["questions"]
        ids = []
        for q in questions[:n_q]:
            ids.append(self.book.add("{pq_prefix}" + q + "{pq_suffix}", "popular"))
            ids.append(self.book.add("{pq_prefix}" + q[0].upper() + q[1:] + "{pq_suffix}", "popular"))
        self.popular_ids = np.array(ids)
        zipf = 1.0 / np.repeat(np.arange(1, n_q + 1), 2) ** 0.8
        self.popular_w = zipf / zipf.sum()
        self.public_pool = [self._harvest_template(self._draw_task_kind({"coding": 1, "reasoning": 1, "tool_use": 0.7}))
                            for _ in range(s["public_templates"])]

    # ------------------------------------------------------------------ people

    def _crowd(self, n: int, *, tz: float | None = None, country: str | None = None, sdk_share: float = 0.25,
               mobile_share: float = 0.4, hours: int = HOURS_PERSONAL) -> Crowd:
        rng = self.rng
        if tz is None:
            zone = rng.choice(len(vocab.TIME_ZONES), n, p=np.array(vocab.TZ_WEIGHTS) / sum(vocab.TZ_WEIGHTS))
            tzs = np.array([vocab.TIME_ZONES[z][0] for z in zone])
            countries = [vocab.TIME_ZONES[z][1][int(rng.integers(len(vocab.TIME_ZONES[z][1])))] for z in zone]
        else:
            tzs = np.full(n, float(tz))
            countries = [country or "US"] * n
        first = [vocab.FIRST_NAMES[i] for i in rng.integers(0, len(vocab.FIRST_NAMES), n)]
        last = [vocab.LAST_NAMES[i] for i in rng.integers(0, len(vocab.LAST_NAMES), n)]
        nhome = rng.choice([1, 1, 1, 2, 2, 3], n)
        home = self.plan.spread(self.isp_blocks, 3 * n, self.isp_weight).reshape(n, 3)
        if self.isp_v6:
            v6 = rng.random(n) < 0.15
            if v6.any():
                home[v6, 0] = self.plan.spread(self.isp_v6, int(v6.sum()))
        carrier = rng.integers(0, len(self.carrier_pools), n)
        mobile_user = rng.random(n) < mobile_share
        p_mobile = np.where(mobile_user, rng.uniform(0.1, 0.8, n), 0.0)
        only_mobile = rng.random(n) < 0.05
        p_mobile[only_mobile] = 1.0
        sdk_main = rng.random(n) < sdk_share
        browser = np.array(self.browser_ua)[rng.choice(len(self.browser_ua), n, p=self.browser_w)]
        browser2 = np.array(self.browser_ua)[rng.choice(len(self.browser_ua), n, p=self.browser_w)]
        sdk = self.sdk_ua[rng.choice(len(self.sdk_ua), n, p=self.sdk_w)]
        ua_main = np.where(sdk_main, sdk, browser)
        ua_alt = np.where(sdk_main, browser, browser2)
        return Crowd(tzs, countries, first, last, home, nhome, carrier, p_mobile, np.zeros(n), ua_main, ua_alt,
                     rng.uniform(0, 0.25, n), np.full(n, hours, dtype=np.int8), rng.lognormal(math.log(8), 1.0, n),
                     np.where(rng.random(n) < 0.3, rng.uniform(0.1, 0.6, n), 0.0))

    def _operator(self, count: int = 1) -> np.ndarray:
        out = np.arange(self.n_operators, self.n_operators + count)
        self.n_operators += count
        return out

    def _unique_email(self, local: str, domain: str) -> str:
        email = f"{local}@{domain}"
        while email in self.emails:
            email = f"{local}{int(self.rng.integers(1, 9999))}@{domain}"
        self.emails.add(email)
        return email

    def _freemail(self) -> str:
        if self.rng.random() < 0.12:
            return self._one(vocab.FICTIONAL_FREEMAIL)
        return self._one(vocab.FREEMAIL)

    def _phone(self, country: str) -> str:
        """A phone number whose digit groups are broken by brackets (never card-like)."""
        rng = self.rng
        code = {"US": "1", "CA": "1", "MX": "52", "CO": "57", "PE": "51", "BR": "55", "AR": "54", "CL": "56",
                "GB": "44", "PT": "351", "IE": "353", "GH": "233", "DE": "49", "FR": "33", "ES": "34",
                "IT": "39", "NL": "31", "PL": "48", "SE": "46", "NG": "234", "FI": "358", "RO": "40",
                "GR": "30", "ZA": "27", "EG": "20", "UA": "380", "TR": "90", "KE": "254", "SA": "966",
                "IN": "91", "VN": "84", "TH": "66", "ID": "62", "SG": "65", "MY": "60", "PH": "63",
                "TW": "886", "HK": "852", "JP": "81", "KR": "82", "AU": "61"}.get(country, "1")
        area = int(rng.integers(10, 999))
        a, b = int(rng.integers(100, 999)), int(rng.integers(1000, 9999))
        style = rng.random()
        if style < 0.5:
            return f"+{code} ({area}) {a}-{b}"
        if style < 0.8:
            return f"({area}) {a} {b}"
        return f"+{code} ({area}) {a}{b}"

    def _address(self) -> tuple[str, str]:
        rng = self.rng
        street = f"{int(rng.integers(1, 400))} {self._one(vocab.STREETS)} {self._one(vocab.STREET_KINDS)}"
        city = text.place_name(rng)
        if rng.random() < 0.7:
            postcode = f"{int(rng.integers(1000, 99999)):05d}"
        else:  # outward and inward codes, British style
            letters = "ABDEFGHJLNPQRSTUWXYZ"
            postcode = (f"{'ABCDEFGHKLMNPRSTW'[int(rng.integers(17))]}{int(rng.integers(1, 30))} "
                        f"{int(rng.integers(1, 10))}{letters[int(rng.integers(20))]}{letters[int(rng.integers(20))]}")
        return f"{street}, {city}", postcode

    def _accounts(self, crowd: Crowd, created: np.ndarray, kind: str, operators: np.ndarray, org_id: str,
                  campaign: bool, *, emails: list[str] | None = None, domain: str | None = None,
                  domain_share: float = 0.0, names: list[str | None] | None = None,
                  declared: list[str | None] | None = None, phone_share: float = 0.45,
                  signup_ip: np.ndarray | None = None, signup_ua: np.ndarray | None = None,
                  sdk_keys: bool = True) -> np.ndarray:
        """Register accounts; returns their global indexes."""
        rng = self.rng
        n = len(crowd)
        start = len(self.acc["created"])
        created = np.clip(created, YEAR_START, self.t1 - HOUR)
        if emails is None:
            emails = []
            for i in range(n):
                local = text.email_local(crowd.first[i], crowd.last[i], rng)
                dom = domain if (domain and rng.random() < domain_share) else self._freemail()
                emails.append(self._unique_email(local, dom))
        if names is None:
            names = [text.display_name(crowd.first[i], crowd.last[i], rng) for i in range(n)]
        if declared is None:
            declared = [None] * n
        phones = [self._phone(crowd.country[i]) if rng.random() < phone_share else None for i in range(n)]
        if signup_ip is None:
            signup_ip = np.where(crowd.p_mobile >= 1.0, self._carrier_ip(crowd.carrier), crowd.home[:, 0])
        if signup_ua is None:
            is_sdk = np.array(self.ua_sdk)[crowd.ua_main]
            signup_ua = np.where(is_sdk, crowd.ua_alt, crowd.ua_main)
        sdk_user = np.array(self.ua_sdk)[crowd.ua_main] | np.array(self.ua_sdk)[crowd.ua_alt]
        n_keys = np.where(sdk_user & sdk_keys, rng.choice([1, 1, 1, 2, 3], n), 0)
        key_base = self.n_keys + np.concatenate([[0], np.cumsum(n_keys)[:-1]]).astype(np.int64)
        self.n_keys += int(n_keys.sum())
        a = self.acc
        a["created"].extend(int(x) for x in created)
        a["email"].extend(emails)
        a["display_name"].extend(names)
        a["declared_org"].extend(declared)
        a["country"].extend(crowd.country)
        a["phone"].extend(phones)
        a["signup_ip"].extend(int(x) for x in signup_ip)
        a["signup_ua"].extend(int(x) for x in signup_ua)
        a["operator"].extend(int(x) for x in operators)
        a["org_id"].extend([org_id] * n)
        a["campaign"].extend([campaign] * n)
        a["kind"].extend([kind] * n)
        a["n_keys"].extend(int(x) for x in n_keys)
        a["key_base"].extend(int(x) for x in key_base)
        return np.arange(start, start + n)

    # ------------------------------------------------------------------ payment

    def _new_card(self, bin_: str | None = None, exp: str | None = None) -> int:
        rng = self.rng
        if bin_ is None:
            bin_ = self._consumer_bin()
        if exp is None:
            exp = f"{int(rng.integers(1, 13)):02d}/{int(rng.integers(26, 32))}"
        self.cards["fp"].append(text.token(rng, "fp_"))
        self.cards["bin"].append(bin_)
        self.cards["last4"].append(f"{int(rng.integers(0, 10000)):04d}")
        self.cards["exp"].append(exp)
        return len(self.cards["fp"]) - 1

    def _consumer_bin(self) -> str:
        if not hasattr(self, "_bins"):
            heads = self.rng.choice([4, 4, 4, 5, 5, 2, 3, 6], 300)
            self._bins = [f"{h}{int(self.rng.integers(0, 100000)):05d}" for h in heads]
            w = 1.0 / np.arange(1, 301) ** 0.7
            self._bins_w = w / w.sum()
        return self._bins[int(self.rng.choice(300, p=self._bins_w))]

    def _pay(self, account: int, card: int, added: int, name: str | None, country: str,
             address: tuple[str, str] | None = None) -> None:
        """One payment method; ``address`` is the card holder's (shared cards share it)."""
        if address is None or self.rng.random() < 0.15:
            address = self._address() if self.rng.random() < 0.85 else (None, None)
        address, postcode = address
        self.pm["account"].append(int(account))
        self.pm["card"].append(int(card))
        self.pm["added"].append(int(added))
        self.pm["billing_name"].append(name)
        self.pm["billing_address"].append(address)
        self.pm["billing_postcode"].append(postcode)
        self.pm["billing_country"].append(country)

    def _own_cards(self, accounts: np.ndarray, crowd: Crowd, created: np.ndarray, share: float) -> None:
        """Each person their own card (some none, a few two)."""
        rng = self.rng
        for i, account in enumerate(accounts):
            if rng.random() >= share:
                continue
            holder = f"{crowd.first[i]} {crowd.last[i]}"
            for _ in range(2 if rng.random() < 0.06 else 1):
                card = self._new_card()
                self._pay(account, card, int(created[i] + rng.integers(60, 20 * DAY)),
                          text.name_variant(holder, rng) if rng.random() < 0.3 else holder, crowd.country[i])

    # ------------------------------------------------------------------ exchanges

    def _counts(self, n: int, mean: float, sigma: float, lo: int, hi: int) -> np.ndarray:
        mu = math.log(max(mean, 1.0)) - sigma * sigma / 2
        return np.clip(np.round(self.rng.lognormal(mu, sigma, n)), lo, hi).astype(np.int64)

    def _place(self, lo: np.ndarray, hi: np.ndarray, tz: np.ndarray, hours: np.ndarray) -> np.ndarray:
        """Times in [lo, hi] whose local hour follows each account's rhythm."""
        rng = self.rng
        n = len(lo)
        hi = np.maximum(hi, lo + 60)
        t = lo + rng.random(n) * (hi - lo)
        local = t + tz * HOUR
        day = np.floor(local / DAY)
        hour = np.where(hours == HOURS_OFFICE, 9 + rng.random(n) * 9,
                        np.where(hours == HOURS_ROUND, rng.random(n) * 24,
                                 rng.choice(24, n, p=PERSONAL_HOURS) + rng.random(n)))
        weekday = (day + 3) % 7  # 1970-01-01 was a Thursday; 0 = Monday
        office = hours == HOURS_OFFICE
        day = np.where(office & (weekday == 5), day - 1, day)
        day = np.where(office & (weekday == 6), day + 1, day)
        placed = day * DAY + hour * HOUR - tz * HOUR
        outside = (placed < lo) | (placed > hi)
        placed = np.where(outside, t, placed)
        return np.clip(placed, self.t0, self.t1 - 1).astype(np.int64)

    def _carrier_ip(self, carrier: np.ndarray) -> np.ndarray:
        sizes = np.array([len(p) for p in self.carrier_pools])
        flat = np.concatenate(self.carrier_pools)
        offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return flat[offsets[carrier] + (self.rng.random(len(carrier)) * sizes[carrier]).astype(np.int64)]

    def _personal_ips(self, crowd: Crowd, acc: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Home address (changing once or twice over the window), phone network, proxy exits."""
        rng = self.rng
        n = len(acc)
        fraction = np.clip((ts - self.t0) / (self.t1 - self.t0), 0, 0.999)
        segment = np.minimum((fraction * crowd.nhome[acc]).astype(np.int64), 2)
        ip = crowd.home[acc, segment]
        mobile = rng.random(n) < crowd.p_mobile[acc]
        if mobile.any():
            ip[mobile] = self._carrier_ip(crowd.carrier[acc[mobile]])
        proxy = rng.random(n) < crowd.p_proxy[acc]
        if proxy.any():
            ip[proxy] = self.proxy_exits[rng.integers(0, len(self.proxy_exits), int(proxy.sum()))]
        return ip

    def _pool_ip(self, pool: np.ndarray, acc: np.ndarray, ts: np.ndarray, rotation: str, salt: int) -> np.ndarray:
        """An address of ``pool`` rotated per request, per account or per day."""
        size = len(pool)
        if rotation == "per_request":
            return pool[self.rng.integers(0, size, len(acc))]
        key = acc.astype(np.uint64) * np.uint64(2654435761) + np.uint64(salt)
        if rotation == "per_day":
            key = key + (ts // DAY).astype(np.uint64) * np.uint64(40503)
        key = (key ^ (key >> np.uint64(13))) * np.uint64(0x5BD1E995)
        return pool[((key >> np.uint64(7)) % np.uint64(size)).astype(np.int64)]

    def _keys(self, accounts: np.ndarray, acc: np.ndarray, ua: np.ndarray) -> np.ndarray:
        n_keys = np.array(self.acc["n_keys"], dtype=np.int64)[accounts][acc]
        base = np.array(self.acc["key_base"], dtype=np.int64)[accounts][acc]
        sdk = np.array(self.ua_sdk)[ua]
        pick = base + (self.rng.random(len(acc)) * np.maximum(n_keys, 1)).astype(np.int64)
        return np.where(sdk & (n_keys > 0), pick, -1)

    def _benign_models(self, ts: np.ndarray, tau_days: np.ndarray, p_mini: np.ndarray) -> np.ndarray:
        rng = self.rng
        newest = np.searchsorted(self.gen_release, ts, side="right") - 1
        age = (ts - self.gen_release[newest]) / DAY
        adopt = rng.random(len(ts)) < 1 - np.exp(-age / tau_days)
        gen = np.where(adopt, newest, np.maximum(newest - 1, 0))
        mini = self.gen_mini[gen]
        return np.where((rng.random(len(ts)) < p_mini) & (mini >= 0), mini, self.gen_flag[gen])

    def _op_models(self, ts: np.ndarray, lag_hours: float, p_mini: float) -> np.ndarray:
        gen = np.maximum(np.searchsorted(self.gen_release, ts - int(lag_hours * HOUR), side="right") - 1, 0)
        mini = self.gen_mini[gen]
        return np.where((self.rng.random(len(ts)) < p_mini) & (mini >= 0), mini, self.gen_flag[gen])

    def _pick(self, ids: np.ndarray, weights: np.ndarray, n: int) -> np.ndarray:
        return ids[self.rng.choice(len(ids), n, p=weights)] if n else np.zeros(0, dtype=np.int64)

    def _personal_chunk(self, crowd: Crowd, accounts: np.ndarray, n_ex: np.ndarray, lo: np.ndarray,
                        hi: np.ndarray, *, popular_share: np.ndarray | float = 0.03,
                        work_share: float = 0.0) -> dict[str, np.ndarray]:
        """Ordinary use: personal prompts (some popular questions), own rhythm, own addresses."""
        rng = self.rng
        acc = np.repeat(np.arange(len(crowd)), n_ex)
        n = len(acc)
        ts = self._place(lo[acc], hi[acc], crowd.tz[acc], crowd.hours[acc])
        frame = self._pick(self.personal_ids, self.personal_w, n)
        if work_share:
            work = rng.random(n) < work_share
            frame[work] = self._pick(self.work_ids, np.full(len(self.work_ids), 1 / len(self.work_ids)), int(work.sum()))
        share = popular_share[acc] if isinstance(popular_share, np.ndarray) else popular_share
        popular = rng.random(n) < share
        frame[popular] = self._pick(self.popular_ids, self.popular_w, int(popular.sum()))
        ua = np.where(rng.random(n) < crowd.p_alt[acc], crowd.ua_alt[acc], crowd.ua_main[acc])
        return {"acc": accounts[acc], "local": acc, "ts": ts, "frame": frame,
                "ip": self._personal_ips(crowd, acc, ts), "ua": ua, "key": self._keys(accounts, acc, ua),
                "model": self._benign_models(ts, crowd.tau_days[acc], crowd.p_mini[acc])}

    def _emit(self, chunk: dict[str, np.ndarray]) -> None:
        chunk = {k: v for k, v in chunk.items() if k != "local"}
        self.chunks.append(chunk)

    def _created_spread(self, n: int, before_share: float = 0.5) -> np.ndarray:
        """Sign-ups spread over the window, some earlier in 2026 (every timestamp stays in 2026)."""
        rng = self.rng
        earlier_days = min((self.t0 - YEAR_START) / DAY, 300.0)
        before = rng.random(n) < before_share * min(1.0, earlier_days / 60)
        return np.where(before, self.t0 - rng.uniform(0, max(earlier_days, 0.01), n) * DAY,
                        self.t0 + rng.uniform(0, self.days - 1, n) * DAY).astype(np.int64)

    def _active(self, created: np.ndarray, churn: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        n = len(created)
        lo = np.maximum(created + rng.integers(30, 2 * HOUR, n), self.t0)
        hi = np.full(n, self.t1 - 1, dtype=np.int64)
        stop = rng.random(n) < churn
        hi[stop] = np.minimum(lo[stop] + rng.uniform(2, self.days, int(stop.sum())) * DAY, self.t1 - 1).astype(np.int64)
        return lo.astype(np.int64), np.maximum(hi, lo + HOUR)

    # ------------------------------------------------------------------ harvesting templates

    def _draw_task_kind(self, mix: dict) -> str:
        kinds = ["coding", "reasoning", "tool_use"]
        w = np.array([mix[k] for k in kinds], dtype=float) + 1e-9
        return kinds[int(self.rng.choice(3, p=w / w.sum()))]

    def _harvest_template(self, kind: str) -> tuple[list[str], str]:
        """One harvesting template: fixed clauses with a few slots left to vary per request.

        About half of the slots are filled once for the template (so two operations rarely
        write the same template by chance); at least one stays open, filled per request.
        """
        pick = self._one
        if kind == "coding":
            clauses = [f"{pick(vocab.CODING_OPENERS)} {pick(vocab.CODING_BODIES)}."]
            extras = self.rng.choice(len(vocab.CODING_EXTRAS), int(self.rng.integers(1, 3)), replace=False)
            clauses += [vocab.CODING_EXTRAS[i] for i in extras]
            profile = "coding"
            if self.rng.random() < 0.3:
                clauses.append(pick(vocab.COT_PHRASES))
                profile = "reasoning"
        elif kind == "reasoning":
            clauses = [pick(vocab.REASONING_OPENERS), pick(vocab.REASONING_BODIES), pick(vocab.COT_PHRASES)]
            profile = "reasoning"
        else:
            clauses = [pick(vocab.TOOL_OPENERS), pick(vocab.TOOL_BODIES), pick(vocab.TOOL_EXTRAS)]
            if self.rng.random() < 0.3:
                clauses.append(pick(vocab.COT_PHRASES))
            profile = "tool"
        names = sorted({m for clause in clauses for m in text.SLOT.findall(clause)})
        fixed = {name for name in names if self.rng.random() < 0.5}
        if names and fixed == set(names):
            fixed.discard(pick(names))
        return [text.fill(clause, self.rng, names=fixed) for clause in clauses], profile

    def _template_frames(self, templates: list[tuple[list[str], str]], paraphrase: bool) -> list[list[int]]:
        """Frame ids per template: one wording, or several paraphrases."""
        out = []
        for clauses, profile in templates:
            if paraphrase:
                wordings = {text.paraphrase(clauses, self.rng, 0.5) for _ in range(int(self.rng.integers(2, 7)))}
                out.append([self.book.add(w, profile) for w in sorted(wordings)])
            else:
                out.append([self.book.add(" ".join(clauses), profile)])
        return out

    # ------------------------------------------------------------------ operations

    def _build_operation(self, op: dict, lab: dict, lab_block: Block, lab_pool: np.ndarray) -> None:
        rng = self.rng
        n = op["accounts"]
        operator = self._operator()[0]
        # sign-ups
        if op["signup"]["mode"] == "bursts":
            bursts = op["signup"]["bursts"]
            which = rng.integers(0, len(bursts), n)
            starts = np.array([self.t0 + int(b["day"] * DAY) for b in bursts])
            minutes = np.array([b["minutes"] for b in bursts])
            created = starts[which] + (rng.random(n) * minutes[which] * 60).astype(np.int64)
        else:
            created = self.t0 + ((op["signup"]["start_day"] + rng.random(n) * op["signup"]["span_days"]) * DAY).astype(np.int64)
        created = np.clip(created, self.t0, self.t1 - 2 * DAY)
        lo = created + rng.integers(60, 3 * HOUR, n)
        hi = np.full(n, self.t1 - 1, dtype=np.int64)
        if op["lifetime_days"]:
            hi = np.minimum(hi, lo + (rng.uniform(0.5, 1.5, n) * op["lifetime_days"] * DAY).astype(np.int64))
        hi = np.maximum(hi, lo + HOUR)
        n_ex = self._counts(n, op["mean_exchanges"], op["sigma"], 1, int(op["mean_exchanges"] * 25))
        # infrastructure
        if op["infrastructure"] == "datacenter":
            if op["datacenter_in_lab_asn"]:
                pool = self.plan.addresses(lab_block, min(op["pool_size"], lab_block.size - 2))
            else:
                cloud = self._one(self.clouds)
                pool = self.plan.spread(cloud, op["pool_size"])
        else:
            pool = self.proxy_exits[rng.choice(len(self.proxy_exits), min(op["pool_size"], len(self.proxy_exits)), replace=False)]
        salt = int(rng.integers(1, 1 << 30))
        # templates
        n_t = op["templates"]
        kinds = [self._draw_task_kind(op["task_mix"]) for _ in range(n_t)]
        if op["template_sharing"] == "public":
            chosen = rng.choice(len(self.public_pool), min(n_t, len(self.public_pool)), replace=False)
            templates = [self.public_pool[i] for i in chosen]
            templates += [self._harvest_template(k) for k in kinds[len(templates):]]
        else:
            templates = [self._harvest_template(k) for k in kinds]
        frames = self._template_frames(templates, op["paraphrase"])
        t_weight = 1.0 / np.arange(1, n_t + 1) ** rng.uniform(0.3, 1.2)
        # exchanges
        acc = np.repeat(np.arange(n), n_ex)
        m = len(acc)
        hours = HOURS_OFFICE if op["timing"] == "office_hours" else HOURS_ROUND
        ts = self._place(lo[acc], hi[acc], np.full(m, op["tz"]), np.full(m, hours, dtype=np.int8))
        if op["template_assignment"] == "slice":
            width = max(1, n_t // 4)
            first = rng.integers(0, n_t, n)
            which = (first[acc] + rng.integers(0, width, m)) % n_t
        else:
            which = rng.choice(n_t, m, p=t_weight / t_weight.sum())
        variant = rng.random(m)
        frame_table = np.full((n_t, 6), -1, dtype=np.int64)
        sizes = np.array([len(f) for f in frames])
        for i, f in enumerate(frames):
            frame_table[i, : len(f)] = f
        frame = frame_table[which, (variant * sizes[which]).astype(np.int64)]
        ip = self._pool_ip(pool, acc, ts, op["rotation"], salt)
        own = rng.random(m) < op["clues"]["lab_cidr_share"]
        ip[own] = lab_pool[rng.integers(0, len(lab_pool), int(own.sum()))]
        ua_id = self._ua(op["client_string"], True)
        ua = np.full(m, ua_id)
        # accounts
        countries = [self._one(op["countries"]) for _ in range(n)]
        crowd = self._crowd(n)
        crowd.country = countries
        crowd.ua_main[:] = ua_id  # scripted: every account holds API keys for the one client
        clues = op["clues"]
        emails, names, declared = [], [], []
        bases = [text.email_local(crowd.first[i], crowd.last[i], rng) for i in range(int(rng.integers(1, 4)))]
        for i in range(n):
            roll = rng.random()
            if roll < clues["lab_email_share"]:
                domain = self._one(lab["email_domains"])
                emails.append(self._unique_email(text.email_local(crowd.first[i], crowd.last[i], rng), domain))
            elif roll < clues["lab_email_share"] + clues["gmail_variant_share"]:
                base = self._one(bases)
                emails.append(self._unique_email(text.gmail_variant(base, rng), "gmail.com"))
            elif roll < clues["lab_email_share"] + clues["gmail_variant_share"] + clues["disposable_share"]:
                local = f"{self._one(vocab.HANDLE_WORDS)}{int(rng.integers(10, 9999))}"
                emails.append(self._unique_email(local, self._one(vocab.DISPOSABLE)))
            else:
                emails.append(self._unique_email(text.email_local(crowd.first[i], crowd.last[i], rng), self._freemail()))
            style = rng.random()
            names.append(None if style < 0.3 else text.display_name(crowd.first[i], crowd.last[i], rng))
            if rng.random() < clues["declared_org_share"]:
                declared.append(text.name_variant(lab["name"] if rng.random() < 0.5 else lab["shells"][0], rng))
            else:
                declared.append(None)
        signup_browsers = np.array(self.browser_ua)[rng.choice(len(self.browser_ua), int(rng.integers(1, 6)), p=self.browser_w)]
        signup_ua = signup_browsers[rng.integers(0, len(signup_browsers), n)]
        signup_ip = self._pool_ip(pool, np.arange(n), created, op["rotation"], salt)
        accounts = self._accounts(crowd, created, "operation", np.full(n, operator), op["org_id"] or "", True,
                                  emails=emails, names=names, declared=declared, phone_share=clues["phone_share"],
                                  signup_ip=signup_ip, signup_ua=signup_ua)
        # cards: groups of accounts per card, or wallet tokens (a new fingerprint each time)
        order = rng.permutation(n)
        per_card = op["accounts_per_card"]
        group = np.empty(n, dtype=np.int64)
        group[order] = np.arange(n) // per_card
        bins = [self._consumer_bin() if rng.random() < 0.5 else f"{rng.choice([4, 5])}{int(rng.integers(0, 100000)):05d}"
                for _ in range(3)]
        card_of_group: dict[int, int] = {}
        holder_of_group: dict[int, str] = {}
        address_of_group: dict[int, tuple[str, str]] = {}
        for i in range(n):
            g = int(group[i])
            if g not in holder_of_group:
                if rng.random() < clues["shell_billing_share"]:
                    holder_of_group[g] = text.name_variant(self._one(lab["shells"]), rng)
                else:
                    holder_of_group[g] = f"{self._one(vocab.FIRST_NAMES)} {self._one(vocab.LAST_NAMES)}"
                card_of_group[g] = self._new_card(bins[int(rng.integers(3))])
                address_of_group[g] = self._address()
            for _ in range(2 if rng.random() < op["second_card_share"] else 1):
                card = card_of_group[g]
                if op["wallet_tokens"]:  # a device token: same account funds, new fingerprint and number
                    card = self._new_card(self.cards["bin"][card], self.cards["exp"][card])
                self._pay(accounts[i], card, int(created[i] + rng.integers(60, 2 * DAY)),
                          text.name_variant(holder_of_group[g], rng) if rng.random() < 0.3 else holder_of_group[g],
                          countries[i], address_of_group[g])
        self._emit({"acc": accounts[acc], "ts": ts, "frame": frame, "ip": ip, "ua": ua,
                    "key": self._keys(accounts, acc, ua),
                    "model": self._op_models(ts, op["model_switch_hours"], op["mini_share"])})

    # ------------------------------------------------------------------ look-alikes

    def _build_individuals(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        crowd = self._crowd(n, sdk_share=spec["sdk_share"], mobile_share=spec["mobile_user_share"])
        proxy = rng.random(n) < spec["proxy_user_share"]
        crowd.p_proxy[proxy] = rng.uniform(0.3, 1.0, int(proxy.sum()))
        created = self._created_spread(n, 0.55)
        lo, hi = self._active(created)
        n_ex = self._counts(n, spec["mean_exchanges"], 1.0, 1, 100)
        n_ex[rng.random(n) < 0.04] = 0
        accounts = self._accounts(crowd, created, "individual", self._operator(n), "", False)
        self._own_cards(accounts, crowd, created, 1 - spec["no_card_share"])
        chunk = self._personal_chunk(crowd, accounts, n_ex, lo, hi, popular_share=rng.uniform(0, 0.08, n))
        # a few people found the same public prompt collection the operations use
        users = rng.choice(n, min(spec["public_template_users"], n), replace=False)
        if len(users):
            plain = [self.book.add(" ".join(c), p) for c, p in self.public_pool]
            for u in users:
                rows = np.flatnonzero(chunk["local"] == u)
                chosen = rng.choice(plain, int(rng.integers(1, 4)))
                use = rows[rng.random(len(rows)) < rng.uniform(0.2, 0.6)]
                chunk["frame"][use] = chosen[rng.integers(0, len(chosen), len(use))]
        self._emit(chunk)

    def _build_popular(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        crowd = self._crowd(n, sdk_share=0.1)
        created = self._created_spread(n, 0.5)
        lo, hi = self._active(created, churn=0.3)
        n_ex = self._counts(n, 7, 0.9, 1, 60)
        accounts = self._accounts(crowd, created, "popular_question", self._operator(n), "", False)
        self._own_cards(accounts, crowd, created, 0.5)
        share = np.clip(rng.normal(spec["popular_share"], 0.08, n), 0.3, 1.0)
        self._emit(self._personal_chunk(crowd, accounts, n_ex, lo, hi, popular_share=share))

    def _build_campus(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        asn = self.plan.new_asn()
        block = self.plan.block(int(rng.integers(20, 24)), asn, spec["name"], "education")
        nat = self.plan.addresses(block, spec["nat_addresses"])
        domain = f"{spec['slug']}.edu.example" if rng.random() < 0.5 else f"mail.{spec['slug']}-univ.test"
        crowd = self._crowd(n, tz=spec["tz"], country=spec["country"], sdk_share=0.1, mobile_share=0.6)
        crowd.country = [spec["country"] if rng.random() < 0.85 else vocab.TIME_ZONES[int(rng.integers(13))][1][0]
                         for _ in range(n)]
        term = self.t0 + int(spec["semester_start_day"] * DAY)
        burst = rng.random(n) < spec["burst_share"]
        created = np.where(burst, term + (rng.exponential(3.0, n).clip(0, 20) * DAY),
                           self._created_spread(n, 0.6)).astype(np.int64)
        lo, hi = self._active(created, churn=0.1)
        n_ex = self._counts(n, spec["mean_exchanges"], 0.9, 1, 100)
        declared = [spec["name"] if rng.random() < 0.05 else None for _ in range(n)]
        signup_ip = np.where(burst, nat[rng.integers(0, len(nat), n)], crowd.home[:, 0])
        accounts = self._accounts(crowd, created, "campus", self._operator(n), "", False, domain=domain,
                                  domain_share=spec["domain_share"], declared=declared, signup_ip=signup_ip,
                                  phone_share=0.3)
        self._own_cards(accounts, crowd, created, spec["card_share"])
        chunk = self._personal_chunk(crowd, accounts, n_ex, lo, hi)
        m = len(chunk["ts"])
        # the common homework questions, asked all term long
        questions = [text.fill(self._one(vocab.HOMEWORK_FRAMES), rng)
                     for _ in range(spec["homework_questions"])]
        hw_ids = np.array([self.book.add("{pq_prefix}" + q + "{pq_suffix}", "popular") for q in questions])
        hw = rng.random(m) < spec["homework_share"]
        chunk["frame"][hw] = hw_ids[rng.integers(0, len(hw_ids), int(hw.sum()))]
        on_campus = rng.random(m) < np.clip(rng.normal(spec["on_campus_share"], 0.15, n), 0, 1)[chunk["local"]]
        chunk["ip"][on_campus] = nat[rng.integers(0, len(nat), int(on_campus.sum()))]
        self._emit(chunk)
        # weekly exercises: one template per week of the course, used by the enrolled students that week
        if spec["weekly_course"]:
            lang = self._one(vocab.SLOTS["lang"])
            enrolled = np.flatnonzero(rng.random(n) < spec["enrolled_share"])
            weeks = int((self.t1 - term) // (7 * DAY))
            frame_of_week = [self.book.add(text.fill(vocab.EXERCISE_FRAMES[0 if w % 3 else int(rng.integers(3))], rng,
                                                     week=str(w + 1), lang=lang,
                                                     ex_rule=self._one(vocab.EXERCISE_RULES)),
                                           "coding") for w in range(weeks)]
            if weeks and len(enrolled):
                counts = rng.poisson(1.5, (len(enrolled), weeks))
                who = np.repeat(np.repeat(enrolled, weeks), counts.ravel())
                week = np.repeat(np.tile(np.arange(weeks), len(enrolled)), counts.ravel())
                k = len(who)
                wlo = np.maximum(term + week * 7 * DAY, lo[who])
                ts = self._place(wlo, wlo + 7 * DAY, crowd.tz[who], crowd.hours[who])
                ip = self._personal_ips(crowd, who, ts)
                lab_session = rng.random(k) < 0.6
                ip[lab_session] = nat[rng.integers(0, len(nat), int(lab_session.sum()))]
                ua = crowd.ua_main[who]
                self._emit({"acc": accounts[who], "ts": ts, "frame": np.array(frame_of_week)[week], "ip": ip,
                            "ua": ua, "key": self._keys(accounts, who, ua),
                            "model": self._benign_models(ts, crowd.tau_days[who], crowd.p_mini[who])})

    def _build_event(self, spec: dict) -> None:
        """A class or a hackathon: one or two templates at one venue for one day to a week."""
        rng = self.rng
        n = spec["size"]
        kind = spec["kind"]
        asn = self.plan.new_asn()
        venue_name = f"{text.place_name(rng)} {'Community College' if kind == 'class' else 'Innovation Hub'}"
        block = self.plan.block(int(rng.integers(25, 29)), asn, venue_name,
                                "education" if kind == "class" else "corporate")
        venue = self.plan.addresses(block, min(spec["venue_addresses"], block.size - 2))
        crowd = self._crowd(n, tz=spec["tz"], country=spec["country"], sdk_share=0.1 if kind == "class" else 0.6)
        if kind == "hackathon":  # everyone installed the SDK that morning: one version
            crowd.ua_main[:] = self._ua(self.s["platform"]["popular_client"], True)
        start_local = self.t0 + int(spec["start_day"]) * DAY + spec["session_start_hour"] * HOUR
        start = int(start_local - spec["tz"] * HOUR)
        at_event = rng.random(n) < spec["signup_at_event_share"]
        created = np.where(at_event, start + rng.exponential(40 * 60, n).clip(0, 3 * HOUR),
                           self._created_spread(n, 0.6)).astype(np.int64)
        created = np.minimum(created, start + 3 * HOUR)
        signup_ip = np.where(at_event, venue[rng.integers(0, len(venue), n)], crowd.home[:, 0])
        accounts = self._accounts(crowd, created, kind, self._operator(n), "", False, signup_ip=signup_ip)
        self._own_cards(accounts, crowd, created, 0.4)
        lo, hi = self._active(created)
        self._emit(self._personal_chunk(crowd, accounts, self._counts(n, 6, 1.0, 0, 60), lo, hi))
        # the event itself
        if kind == "class":
            lang = self._one(vocab.SLOTS["lang"])
            texts = [text.fill(vocab.EXERCISE_FRAMES[int(rng.integers(3))], rng, week=str(int(rng.integers(1, 12))),
                               lang=lang) for _ in range(spec["templates"])]
            ids = [self.book.add("{greet}" + t, "coding") for t in texts]
        else:
            ids = [self.book.add(vocab.HACKATHON_FRAMES[int(rng.integers(3))].replace("{idea}", "{hack_idea}"), "coding")
                   for _ in range(spec["templates"])]
        counts = np.maximum(rng.poisson(spec["event_exchanges"], n), 1)
        who = np.repeat(np.arange(n), counts)
        k = len(who)
        day = rng.integers(0, spec["event_days"], k)
        ts = start + day * DAY + (rng.random(k) * spec["session_hours"] * HOUR).astype(np.int64)
        ts = np.clip(np.maximum(ts, created[who] + 60), self.t0, self.t1 - 1)
        ip = venue[rng.integers(0, len(venue), k)]
        ua = crowd.ua_main[who]
        self._emit({"acc": accounts[who], "ts": ts, "frame": np.array(ids)[rng.integers(0, len(ids), k)], "ip": ip,
                    "ua": ua, "key": self._keys(accounts, who, ua),
                    "model": self._benign_models(ts, crowd.tau_days[who], crowd.p_mini[who])})

    def _build_vpn(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        name = f"{self._one(vocab.HANDLE_WORDS).capitalize()} {self._one(vocab.VPN_TAILS)}"
        block = self.plan.block(int(rng.integers(22, 25)), self.plan.new_asn(), name, "vpn")
        exits = self.plan.addresses(block, spec["exits"])
        crowd = self._crowd(n, sdk_share=0.3)
        created = self._created_spread(n, 0.5)
        lo, hi = self._active(created)
        favourite = rng.integers(0, len(exits), (n, 2))
        share = np.clip(rng.normal(spec["vpn_share"], 0.1, n), 0.2, 1.0)
        signup_ip = np.where(rng.random(n) < share, exits[favourite[:, 0]], crowd.home[:, 0])
        accounts = self._accounts(crowd, created, "vpn", self._operator(n), "", False, signup_ip=signup_ip)
        self._own_cards(accounts, crowd, created, 0.7)
        chunk = self._personal_chunk(crowd, accounts, self._counts(n, 12, 1.0, 1, 100), lo, hi)
        acc = chunk["local"]
        via = rng.random(len(acc)) < share[acc]
        chunk["ip"][via] = exits[favourite[acc[via], rng.integers(0, 2, int(via.sum()))]]
        self._emit(chunk)

    def _build_reseller(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        cloud = self._one(self.clouds)[0]
        block = self.plan.block(int(rng.integers(26, 29)), cloud.asn, cloud.as_name, "datacenter")
        egress = self.plan.addresses(block, min(spec["egress_addresses"], block.size - 2))
        client = self._ua(spec["client_string"], True)
        crowd = self._crowd(n, sdk_share=1.0)
        crowd.ua_main[:] = client
        crowd.p_alt[:] = 0.0
        crowd.hours[rng.random(n) < 0.4] = HOURS_OFFICE
        created = self._created_spread(n, 0.4)
        lo, hi = self._active(created)
        signup_ip = np.where(rng.random(n) < 0.7, egress[rng.integers(0, len(egress), n)], crowd.home[:, 0])
        accounts = self._accounts(crowd, created, "reseller", self._operator(n), "", False, signup_ip=signup_ip)
        self._own_cards(accounts, crowd, created, 0.6)
        chunk = self._personal_chunk(crowd, accounts, self._counts(n, 25, 1.1, 1, 300), lo, hi, work_share=0.3)
        chunk["ip"] = egress[rng.integers(0, len(egress), len(chunk["ip"]))]
        self._emit(chunk)

    def _org_row(self, spec: dict, block: Block, domain: str, aliases: list[str]) -> None:
        self.orgs.append({"org_id": spec["org_id"], "name": spec["name"], "aliases": ";".join(aliases),
                          "email_domains": domain, "asns": str(block.asn), "cidrs": block.cidr,
                          "billing_names": spec["legal_name"]})

    def _build_company(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        block = self.plan.block(int(rng.integers(24, 29)), self.plan.new_asn(), spec["name"], "corporate")
        egress = self.plan.addresses(block, min(spec["egress_addresses"], block.size - 2))
        domain = f"{spec['slug']}.example" if rng.random() < 0.6 else f"{spec['slug']}-{spec['name'].split()[1].lower()}.test"
        self._org_row(spec, block, domain, [spec["slug"].capitalize(), spec["name"].upper()])
        crowd = self._crowd(n, tz=spec["tz"], country=spec["country"], sdk_share=0.3, hours=HOURS_OFFICE)
        if spec["internal_tool"]:
            version = f"{int(rng.integers(1, 5))}.{int(rng.integers(0, 9))}.0"
            tool = self._ua(f"{spec['slug']}-assistant/{version} python-requests/2.31.0", True)
            crowd.ua_main[rng.random(n) < 0.6] = tool
        operator = self._operator()[0]
        created = self._created_spread(n, 0.6)
        lo, hi = self._active(created, churn=0.05)
        declared = [text.name_variant(spec["name"], rng) if rng.random() < 0.5 else None for _ in range(n)]
        signup_ip = egress[rng.integers(0, len(egress), n)]
        accounts = self._accounts(crowd, created, "company", np.full(n, operator), spec["org_id"], False,
                                  domain=domain, domain_share=spec["domain_share"], declared=declared,
                                  signup_ip=signup_ip, phone_share=0.2)
        company_bin = f"{rng.choice([4, 5])}{int(rng.integers(0, 100000)):05d}"
        shared = self._new_card(company_bin)
        office = self._address()
        for i, account in enumerate(accounts):
            card = shared if spec["card_mode"] == "shared_card" else self._new_card(company_bin)
            self._pay(account, card, int(created[i] + rng.integers(60, 3 * DAY)),
                      text.name_variant(spec["legal_name"], rng) if rng.random() < 0.5 else spec["legal_name"],
                      spec["country"], office)
        chunk = self._personal_chunk(crowd, accounts, self._counts(n, spec["mean_exchanges"], 0.9, 1, 200), lo, hi,
                                     work_share=rng.uniform(0.5, 0.8))
        office = rng.random(len(chunk["ts"])) < spec["office_share"]
        chunk["ip"][office] = egress[rng.integers(0, len(egress), int(office.sum()))]
        self._emit(chunk)

    def _build_enterprise(self, spec: dict) -> None:
        rng = self.rng
        n = spec["size"]
        if spec["infrastructure"] == "corporate":
            block = self.plan.block(int(rng.integers(26, 29)), self.plan.new_asn(), spec["name"], "corporate")
            egress = self.plan.addresses(block, min(int(rng.integers(1, 4)), block.size - 2))
        else:
            block = self.plan.block(int(rng.integers(26, 29)), self.plan.new_asn(), spec["name"], "corporate")
            egress = self.plan.spread(self._one(self.clouds), int(rng.integers(2, 11)))
        domain = f"{spec['slug']}.example"
        self._org_row(spec, block, domain, [spec["name"].split()[0]])
        crowd = self._crowd(n, tz=spec["tz"], country=spec["country"], sdk_share=1.0)
        version = f"0.{int(rng.integers(1, 9))}.{int(rng.integers(0, 9))}"
        harness = self._ua(f"{spec['slug'][:6]}-evals/{version} python-httpx/0.27.0", True)
        crowd.ua_main[:] = harness
        operator = self._operator()[0]
        start = self.t0 + int(spec["start_day"] * DAY)
        created = start - rng.integers(HOUR, 5 * DAY, n)
        accounts = self._accounts(crowd, created, "enterprise_eval", np.full(n, operator), spec["org_id"], False,
                                  domain=domain, domain_share=1.0, declared=[spec["name"]] * n,
                                  signup_ip=egress[rng.integers(0, len(egress), n)], phone_share=0.1)
        card = self._new_card(f"{rng.choice([4, 5])}{int(rng.integers(0, 100000)):05d}")
        office = self._address()
        for i, account in enumerate(accounts):
            self._pay(account, card, int(created[i] + 600), spec["legal_name"], spec["country"], office)
        topic = vocab.ENTERPRISE_FRAMES[spec["topic"]]
        ids = np.array([self.book.add(f, "short") for f in topic])
        per = np.maximum(rng.poisson(spec["exchanges_per_account"], n), 1)
        acc = np.repeat(np.arange(n), per)
        k = len(acc)
        # batch job: evenly spaced requests with jitter, round the clock
        position = np.concatenate([np.arange(p) / p for p in per])
        ts = start + (position * spec["job_days"] * DAY).astype(np.int64) + rng.integers(0, 90, k)
        ts = np.clip(ts, self.t0, self.t1 - 1)
        if spec["model_mode"] == "pinned":
            model = np.full(k, self.gen_flag[max(np.searchsorted(self.gen_release, start) - 1, 0)])
        else:
            model = self._op_models(ts, 2.0, 0.0)
        ua = np.full(k, harness)
        self._emit({"acc": accounts[acc], "ts": ts, "frame": ids[rng.integers(0, len(ids), k)],
                    "ip": egress[rng.integers(0, len(egress), k)], "ua": ua, "key": self._keys(accounts, acc, ua),
                    "model": model})

    def _build_households(self, spec: dict) -> None:
        rng = self.rng
        sizes = np.array(spec["household_sizes"])
        n = int(sizes.sum())
        house = np.repeat(np.arange(len(sizes)), sizes)
        head = np.concatenate([[0], np.cumsum(sizes)[:-1]])[house]
        crowd = self._crowd(n)
        crowd.tz = crowd.tz[head]
        crowd.country = [crowd.country[h] for h in head]
        crowd.last = [crowd.last[h] for h in head]
        crowd.home = crowd.home[head]
        crowd.nhome = crowd.nhome[head]
        crowd.carrier = crowd.carrier[head]
        operators = self._operator(len(sizes))[house]
        created = self._created_spread(n, 0.6)
        lo, hi = self._active(created)
        accounts = self._accounts(crowd, created, "household", operators, "", False)
        cards = [self._new_card() for _ in sizes]
        homes = [self._address() for _ in sizes]
        for i, account in enumerate(accounts):
            holder = f"{crowd.first[head[i]]} {crowd.last[head[i]]}"
            self._pay(account, cards[house[i]], int(created[i] + rng.integers(60, 5 * DAY)),
                      text.name_variant(holder, rng) if rng.random() < 0.3 else holder, crowd.country[i],
                      homes[house[i]])
        self._emit(self._personal_chunk(crowd, accounts, self._counts(n, 10, 1.0, 1, 100), lo, hi))

    def _build_dual(self, spec: dict) -> None:
        rng = self.rng
        sizes = np.array(spec["accounts_per_person"])
        n = int(sizes.sum())
        person = np.repeat(np.arange(len(sizes)), sizes)
        head = np.concatenate([[0], np.cumsum(sizes)[:-1]])[person]
        crowd = self._crowd(n).take(head)
        crowd.ua_alt = crowd.ua_alt[rng.permutation(n)]
        operators = self._operator(len(sizes))[person]
        created = self._created_spread(n, 0.5)
        lo, hi = self._active(created)
        emails, names = [], []
        for i in range(n):
            local = text.email_local(crowd.first[i], crowd.last[i], rng)
            if i != head[i] and rng.random() < spec["gmail_variant_share"]:
                base = emails[head[i]].split("@")[0].split("+")[0]
                emails.append(self._unique_email(text.gmail_variant(base, rng), "gmail.com"))
            else:
                emails.append(self._unique_email(local, "gmail.com" if rng.random() < 0.4 else self._freemail()))
            names.append(text.display_name(crowd.first[i], crowd.last[i], rng))
        accounts = self._accounts(crowd, created, "dual_account", operators, "", False, emails=emails, names=names)
        first_card: dict[int, int | None] = {}
        for i, account in enumerate(accounts):
            p = int(person[i])
            if i == head[i]:
                card = self._new_card() if rng.random() < 0.85 else None
                first_card[p] = card
            elif rng.random() < spec["same_card_share"] and first_card[p] is not None:
                card = first_card[p]
            else:
                card = self._new_card() if rng.random() < 0.7 else None
            if card is not None:
                holder = f"{crowd.first[i]} {crowd.last[i]}"
                self._pay(account, card, int(created[i] + rng.integers(60, 5 * DAY)),
                          text.name_variant(holder, rng), crowd.country[i])
        self._emit(self._personal_chunk(crowd, accounts, self._counts(n, 10, 1.0, 1, 100), lo, hi))

    # ------------------------------------------------------------------ assembly

    def build(self) -> None:
        self._setup()
        s = self.s
        labs = {lab["org_id"]: lab for lab in s["labs"]}
        lab_blocks, lab_pools = {}, {}
        for lab in s["labs"]:
            asn = self.plan.new_asn()
            block = self.plan.block(lab["own_prefix"], asn, lab["legal_name"], lab["own_network_type"])
            lab_blocks[lab["org_id"]] = block
            lab_pools[lab["org_id"]] = self.plan.addresses(block, int(self.rng.integers(2, 21)))
            self.orgs.append({
                "org_id": lab["org_id"], "name": lab["name"],
                "aliases": ";".join([lab["slug"].capitalize(), lab["name"].split(" ")[0].upper()]),
                "email_domains": ";".join(lab["email_domains"]), "asns": str(asn), "cidrs": block.cidr,
                "billing_names": ";".join([lab["legal_name"]] + lab["shells_listed"]),
            })
        by_name = {lab["name"]: lab for lab in s["labs"]}
        for op in s["operations"]:
            lab = labs.get(op["org_id"]) or by_name[op["lab"]]
            self._build_operation(op, lab, lab_blocks[lab["org_id"]], lab_pools[lab["org_id"]])
        builders = {"campus": self._build_campus, "class": self._build_event, "hackathon": self._build_event,
                    "vpn": self._build_vpn, "reseller": self._build_reseller, "company": self._build_company,
                    "enterprise_eval": self._build_enterprise, "household": self._build_households,
                    "dual_account": self._build_dual, "popular_question": self._build_popular}
        for spec in s["lookalikes"]:
            builders[spec["kind"]](spec)
        self._build_individuals(s["individuals"])

    def tables(self) -> dict[str, pa.Table]:
        """Every output table, rows shuffled / sorted so order reveals no group."""
        rng = self.rng
        a = self.acc
        n_acc = len(a["created"])
        salt = int(rng.integers(1, 1 << 39))
        mult = int(rng.integers(1, 1 << 39)) | 1
        account_ids = text.id_strings("u-", np.arange(n_acc), salt, mult)
        ip_text = pa.array(self.plan.ip_text, pa.string())
        ua_text = pa.array(self.ua_text, pa.string())
        ua_sdk = np.array(self.ua_sdk)
        created = np.array(a["created"], dtype=np.int64)

        # exchanges
        ex = {k: np.concatenate([c[k] for c in self.chunks]) for k in ("acc", "ts", "frame", "ip", "ua", "key", "model")}
        ex["ts"] = np.maximum(ex["ts"], created[ex["acc"]] + 30)
        order = np.lexsort((ex["acc"], ex["ts"]))
        ex = {k: v[order] for k, v in ex.items()}
        m = len(ex["ts"])
        prompt = self.book.render(ex["frame"], rng)
        profile = self.book.profiles()[ex["frame"]]
        length = np.asarray(pc.utf8_length(prompt).to_numpy(zero_copy_only=False), dtype=np.int64)
        context = np.where(rng.random(m) < 0.3, rng.lognormal(math.log(400), 1.0, m), rng.lognormal(math.log(30), 0.8, m))
        input_tokens = np.ceil(length / 3.8).astype(np.int64) + context.astype(np.int64) + 8
        medians = np.array([OUTPUT_TOKENS[p][0] for p in range(len(OUTPUT_TOKENS))])[profile]
        sigmas = np.array([OUTPUT_TOKENS[p][1] for p in range(len(OUTPUT_TOKENS))])[profile]
        output_tokens = np.maximum(np.round(medians * np.exp(rng.standard_normal(m) * sigmas)), 1).astype(np.int64)
        tool_calls = np.where(profile == text.PROFILES.index("tool"), 1 + rng.poisson(1.5, m),
                              (ua_sdk[ex["ua"]] & (rng.random(m) < 0.02)).astype(np.int64))
        key_ids = text.id_strings("key-", np.maximum(ex["key"], 0), salt ^ 0x5A5A5, mult)
        key_ids = pc.if_else(pa.array(ex["key"] >= 0), key_ids, pa.scalar(None, pa.string()))
        exchanges = pa.table({
            "exchange_id": text.id_strings("x-", np.arange(m), salt ^ 0x33, mult),
            "account_id": account_ids.take(pa.array(ex["acc"])),
            "api_key_id": key_ids,
            "ts": _ts(ex["ts"]),
            "model": pa.array(self.model_names, pa.string()).take(pa.array(ex["model"])),
            "prompt": prompt,
            "input_tokens": pa.array(input_tokens, pa.int64()),
            "output_tokens": pa.array(output_tokens, pa.int64()),
            "tool_calls": pa.array(tool_calls.astype(np.int64), pa.int64()),
            "ip": ip_text.take(pa.array(ex["ip"])),
            "user_agent": ua_text.take(pa.array(ex["ua"])),
        })

        # ip events: sign-up, a log-in per web day, an api event per (account, day, address)
        frame = pd.DataFrame({"acc": ex["acc"], "ts": ex["ts"], "ip": ex["ip"], "ua": ex["ua"],
                              "day": ex["ts"] // DAY, "sdk": ua_sdk[ex["ua"]]})
        logins = frame[~frame["sdk"]].drop_duplicates(["acc", "day"])
        apis = frame[frame["sdk"]].drop_duplicates(["acc", "day", "ip"])
        login_ts = np.maximum(logins["ts"].to_numpy() - rng.integers(5, 600, len(logins)), created[logins["acc"].to_numpy()])
        ev_acc = np.concatenate([np.arange(n_acc), logins["acc"].to_numpy(), apis["acc"].to_numpy()])
        ev_ts = np.concatenate([created, login_ts, apis["ts"].to_numpy()])
        ev_ip = np.concatenate([np.array(a["signup_ip"], dtype=np.int64), logins["ip"].to_numpy(), apis["ip"].to_numpy()])
        ev_ua = np.concatenate([np.array(a["signup_ua"], dtype=np.int64), logins["ua"].to_numpy(), apis["ua"].to_numpy()])
        ev_kind = np.concatenate([np.zeros(n_acc, np.int8), np.ones(len(logins), np.int8), np.full(len(apis), 2, np.int8)])
        order = np.lexsort((ev_kind, ev_acc, ev_ts))
        ip_events = pa.table({
            "account_id": account_ids.take(pa.array(ev_acc[order])),
            "ts": _ts(ev_ts[order]),
            "ip": ip_text.take(pa.array(ev_ip[order])),
            "user_agent": ua_text.take(pa.array(ev_ua[order])),
            "event": pa.array(["signup", "login", "api"], pa.string()).take(pa.array(ev_kind[order])),
        })

        # accounts and truth, in a random order
        perm = rng.permutation(n_acc)
        operator_ids = text.id_strings("op-", np.array(a["operator"], dtype=np.int64), salt ^ 0x777, mult)
        accounts = pa.table({
            "account_id": account_ids.take(pa.array(perm)),
            "created_at": _ts(created[perm]),
            "email": pa.array([a["email"][i] for i in perm], pa.string()),
            "display_name": pa.array([a["display_name"][i] for i in perm], pa.string()),
            "declared_org": pa.array([a["declared_org"][i] for i in perm], pa.string()),
            "country": pa.array([a["country"][i] for i in perm], pa.string()),
            "phone": pa.array([a["phone"][i] for i in perm], pa.string()),
            "signup_ip": ip_text.take(pa.array(np.array(a["signup_ip"], dtype=np.int64)[perm])),
            "signup_user_agent": ua_text.take(pa.array(np.array(a["signup_ua"], dtype=np.int64)[perm])),
        })
        truth = pd.DataFrame({
            "account_id": accounts.column("account_id").to_pylist(),
            "operator_id": operator_ids.take(pa.array(perm)).to_pylist(),
            "org_id": [a["org_id"][i] for i in perm],
            "is_campaign": ["true" if a["campaign"][i] else "false" for i in perm],
            "kind": [a["kind"][i] for i in perm],
        })

        # payment methods, in a random order
        p = self.pm
        n_pm = len(p["account"])
        pperm = rng.permutation(n_pm)
        card = np.array(p["card"], dtype=np.int64)[pperm]
        payments = pa.table({
            "payment_method_id": text.id_strings("pm-", np.arange(n_pm), salt ^ 0x999, mult),
            "account_id": account_ids.take(pa.array(np.array(p["account"], dtype=np.int64)[pperm])),
            "added_at": _ts(np.clip(np.array(p["added"], dtype=np.int64)[pperm], None, self.t1 - 1)),
            "card_fingerprint": pa.array(self.cards["fp"], pa.string()).take(pa.array(card)),
            "card_bin": pa.array(self.cards["bin"], pa.string()).take(pa.array(card)),
            "card_last4": pa.array(self.cards["last4"], pa.string()).take(pa.array(card)),
            "card_exp": pa.array(self.cards["exp"], pa.string()).take(pa.array(card)),
            "billing_name": pa.array([p["billing_name"][i] for i in pperm], pa.string()),
            "billing_address": pa.array([p["billing_address"][i] for i in pperm], pa.string()),
            "billing_postcode": pa.array([p["billing_postcode"][i] for i in pperm], pa.string()),
            "billing_country": pa.array([p["billing_country"][i] for i in pperm], pa.string()),
        })
        networks = pa.Table.from_pandas(self.plan.networks_frame(), preserve_index=False)
        organizations = pa.Table.from_pandas(pd.DataFrame(self.orgs, columns=[
            "org_id", "name", "aliases", "email_domains", "asns", "cidrs", "billing_names"]), preserve_index=False)
        return {"accounts": accounts, "payment_methods": payments, "ip_events": ip_events, "exchanges": exchanges,
                "networks": networks.replace_schema_metadata(None),
                "organizations": organizations.replace_schema_metadata(None), "truth": truth}


def _ts(seconds: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(seconds, dtype=np.int64) * 1_000_000, pa.int64()).cast(TS_TYPE)


TYPED_TEXT = {"ip", "signup_ip", "cidr"}


def _guard(tables: dict[str, pa.Table]) -> None:
    """Refuse to write anything the contract would read as a card number (a generator bug)."""
    for name, table in tables.items():
        if name == "truth":
            continue
        for column in table.column_names:
            values = table.column(column)
            if column in TYPED_TEXT:  # addresses are checked by their type, not as free text
                continue
            if pa.types.is_string(values.type):
                rows = text.card_number_rows(values)
                if rows:
                    raise RuntimeError(f"{name}.{column} row {rows[0]} looks like a card number")


def draw_world(seed: int, size: str, out_dir: Path) -> dict:
    """Draw one world of the family into ``out_dir``; returns (and writes) its ``world.json``."""
    out_dir = Path(out_dir)
    structure = draw_structure(seed, size)
    builder = WorldBuilder(structure)
    builder.build()
    tables = builder.tables()
    _guard(tables)
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in ("accounts", "payment_methods", "ip_events", "exchanges", "networks", "organizations"):
        pq.write_table(tables[name], out_dir / f"{name}.parquet", compression="zstd")
    tables["truth"].to_csv(out_dir / "truth.csv", index=False, lineterminator="\n")
    truth = tables["truth"]
    structure["residential_proxy_exits"] = builder.structure_extra["residential_proxy_exits"]
    structure["counts"] = {
        "accounts": len(truth),
        "exchanges": tables["exchanges"].num_rows,
        "payment_methods": tables["payment_methods"].num_rows,
        "ip_events": tables["ip_events"].num_rows,
        "networks": tables["networks"].num_rows,
        "organizations": tables["organizations"].num_rows,
        "campaign_accounts": int((truth["is_campaign"] == "true").sum()),
        "operators": int(truth["operator_id"].nunique()),
        "by_kind": {k: int(v) for k, v in truth["kind"].value_counts().sort_index().items()},
    }
    (out_dir / "world.json").write_text(json.dumps(structure, indent=1) + "\n")
    return structure

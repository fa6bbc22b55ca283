"""Expand account behaviour profiles into requests (exchanges) and ip_events, chunk by chunk.

Everything is array arithmetic over one chunk of accounts: each request draws its time from the
account's window and timing profile, its address and client from the account's pool blocks and
its prompt from five pool segments, then pyarrow joins the strings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .population import TIMING_PROFILES, WEEKDAY_ONLY
from .prompts import PromptMaterial
from .world import DAY, LEGACY_MODEL, MAIN_MODEL, MINI_MODEL, NEW_MODEL, WorldParams

TS_TYPE = pa.timestamp("us", tz="UTC")
MODELS = pa.array([MAIN_MODEL, MINI_MODEL, LEGACY_MODEL, NEW_MODEL])
EXCHANGES_SCHEMA = pa.schema([
    ("exchange_id", pa.string()), ("account_id", pa.string()), ("api_key_id", pa.string()),
    ("ts", TS_TYPE), ("model", pa.string()), ("prompt", pa.string()),
    ("input_tokens", pa.int64()), ("output_tokens", pa.int64()), ("tool_calls", pa.int64()),
    ("ip", pa.string()), ("user_agent", pa.string()),
])
_B36 = np.array(list("0123456789abcdefghijklmnopqrstuvwxyz"))
_HOUR_CDFS = [np.cumsum(w) / np.sum(w) for w in TIMING_PROFILES.values()]
#: lognormal mu of output tokens per template kind (coding, reasoning, tool, task, starter), benign last
_OUT_MU = np.array([6.5, 7.0, 6.0, 4.5, 5.0, 5.6])


@dataclass
class Profiles:
    """Per-account behaviour arrays in final account order plus the shared pools (pyarrow)."""

    account_id: pa.Array
    n_ex: np.ndarray
    created_at: np.ndarray
    t_start: np.ndarray
    t_end: np.ndarray
    timing: np.ndarray
    tz: np.ndarray
    cadence_s: np.ndarray
    jitter_s: np.ndarray
    ip_a_off: np.ndarray
    ip_a_cnt: np.ndarray
    ip_b_off: np.ndarray
    ip_b_cnt: np.ndarray
    p_b: np.ndarray
    signup_ip: np.ndarray
    ua_off: np.ndarray
    ua_cnt: np.ndarray
    browser_ua: np.ndarray
    tmpl_off: np.ndarray
    tmpl_cnt: np.ndarray
    p_tmpl: np.ndarray
    topics: np.ndarray
    switch_at: np.ndarray
    p_new: np.ndarray
    p_mini: np.ndarray
    p_legacy: np.ndarray
    ctx_tokens: np.ndarray
    n_keys: np.ndarray
    api_keys: pa.Array  # two per account: index 2*account + k
    ips: pa.Array
    uas: pa.Array
    prompts: PromptMaterial
    prompt_pool: pa.Array


def ts_array(seconds: np.ndarray) -> pa.Array:
    return pa.array(seconds.astype(np.int64) * 1_000_000, type=pa.timestamp("us")).cast(TS_TYPE)


def exchange_ids(start: int, m: int) -> pa.Array:
    """``ex_`` + 7 base-36 characters of a running counter (never a long digit run)."""
    counter = np.arange(start, start + m, dtype=np.int64)
    powers = 36 ** np.arange(6, -1, -1, dtype=np.int64)
    chars = np.empty((m, 10), dtype="<U1")
    chars[:, 0], chars[:, 1], chars[:, 2] = "e", "x", "_"
    chars[:, 3:] = _B36[(counter[:, None] // powers) % 36]
    return pa.array(chars.view("<U10").ravel())


def _pick(rng: np.random.Generator, off: np.ndarray, cnt: np.ndarray) -> np.ndarray:
    return off + (rng.random(len(off)) * cnt).astype(np.int64)


def _addresses(rng: np.random.Generator, P: Profiles, rows: np.ndarray) -> np.ndarray:
    use_b = rng.random(len(rows)) < P.p_b[rows]
    off = np.where(use_b, P.ip_b_off[rows], P.ip_a_off[rows])
    cnt = np.where(use_b, P.ip_b_cnt[rows], P.ip_a_cnt[rows])
    return _pick(rng, off, cnt)


def _times(rng: np.random.Generator, P: Profiles, rows: np.ndarray) -> np.ndarray:
    """Request times: day uniform in the account's window, hour from its local timing profile."""
    m = len(rows)
    t0, t1 = P.t_start[rows], P.t_end[rows]
    t = t0 + (rng.random(m) * (t1 - t0)).astype(np.int64)
    tz = np.round(P.tz[rows] * 3600).astype(np.int64)
    day = (t + tz) // DAY
    prof = P.timing[rows]
    hour = np.empty(m, dtype=np.int64)
    for p, cdf in enumerate(_HOUR_CDFS):
        mask = prof == p
        hour[mask] = np.searchsorted(cdf, rng.random(int(mask.sum())), side="right")
    dow = (day + 3) % 7  # 1970-01-01 was a Thursday; Monday = 0
    weekend = WEEKDAY_ONLY[prof] & (dow >= 5)
    to_friday = rng.random(m) < 0.5
    day = np.where(weekend, np.where(to_friday, day - (dow - 4), day + (7 - dow)), day)
    sec = rng.integers(0, 3600, m)
    cad = P.cadence_s[rows]
    has = cad > 0
    if has.any():
        c = cad[has]
        jitter = rng.normal(0.0, 1.0, int(has.sum())) * P.jitter_s[rows][has]
        sec[has] = (np.round(sec[has] / c) * c + jitter).astype(np.int64)
    shaped = day * DAY + hour * 3600 + sec - tz
    # outside the account's window (edge days, weekend moves): keep the plain uniform draw
    return np.where((shaped >= t0) & (shaped <= t1), shaped, t)


def _prompts(rng: np.random.Generator, P: Profiles, rows: np.ndarray) -> tuple[pa.Array, np.ndarray]:
    """Prompt strings and template kind per request (-1 = benign diverse prompt)."""
    m = len(rows)
    pm = P.prompts
    t_p0, t_p1, t_p2 = (np.asarray(x, dtype=np.int64) for x in (pm.t_part0, pm.t_part1, pm.t_part2))
    t_s0, t_s1 = np.asarray(pm.t_slot0, dtype=np.int64), np.asarray(pm.t_slot1, dtype=np.int64)
    t_kind = np.asarray(pm.t_kind, dtype=np.int64)
    use_t = rng.random(m) < P.p_tmpl[rows]
    tv = _pick(rng, P.tmpl_off[rows], P.tmpl_cnt[rows])
    if len(t_kind) == 0:
        use_t[:] = False
        tv[:] = 0
        t_p0 = t_p1 = t_p2 = t_s0 = t_s1 = t_kind = np.zeros(1, dtype=np.int64)
    k0, k1 = t_s0[tv], t_s1[tv]
    s0 = _pick(rng, pm.slot_off[k0], pm.slot_cnt[k0])
    s1 = _pick(rng, pm.slot_off[k1], pm.slot_cnt[k1])
    topic = P.topics[rows, rng.integers(0, P.topics.shape[1], m)]
    subj = _pick(rng, pm.topic_off[topic], pm.topic_cnt[topic])
    frame = rng.integers(0, pm.n_frames, m)
    segs = [
        np.where(use_t, t_p0[tv], pm.intro_off + rng.integers(0, pm.n_intros, m)),
        np.where(use_t, s0, pm.frame_pre_off + frame),
        np.where(use_t, t_p1[tv], subj),
        np.where(use_t, s1, pm.frame_post_off + frame),
        np.where(use_t, t_p2[tv], pm.detail_off + rng.integers(0, pm.n_details, m)),
    ]
    parts = [P.prompt_pool.take(pa.array(s)) for s in segs]
    prompt = pc.binary_join_element_wise(*parts, "")
    return prompt, np.where(use_t, t_kind[tv], -1)


def exchange_chunk(
    rng: np.random.Generator, P: Profiles, accounts: np.ndarray, first_id: int, api_rate: float
) -> tuple[pa.Table, pa.Table]:
    """Requests of ``accounts`` sorted by time, and the sampled ``api`` ip_events."""
    rows = np.repeat(accounts, P.n_ex[accounts])
    ts = _times(rng, P, rows)
    order = np.argsort(ts, kind="stable")
    rows, ts = rows[order], ts[order]
    m = len(rows)
    ip = _addresses(rng, P, rows)
    ua = _pick(rng, P.ua_off[rows], P.ua_cnt[rows])
    key = 2 * rows + (rng.random(m) * P.n_keys[rows]).astype(np.int64)
    prompt, kind = _prompts(rng, P, rows)

    after = ts >= P.switch_at[rows]
    r = rng.random(m)
    model = np.where(r < P.p_mini[rows], 1, np.where(r < P.p_mini[rows] + P.p_legacy[rows], 2, 0))
    model = np.where(after & (rng.random(m) < P.p_new[rows]), 3, model)

    plen = pc.utf8_length(prompt).to_numpy(zero_copy_only=False)
    ctx = P.ctx_tokens[rows] * rng.lognormal(0.0, 0.3, m)
    input_tokens = (np.ceil(plen / 4.0) + ctx).astype(np.int64)
    out_mu = _OUT_MU[kind]  # kind -1 picks the benign (last) entry
    output_tokens = np.maximum(1, rng.lognormal(out_mu, 0.6)).astype(np.int64)
    tool_calls = np.where(kind == 2, rng.integers(1, 5, m), (rng.random(m) < 0.02).astype(np.int64))

    account_id = P.account_id.take(pa.array(rows))
    ts_arr = ts_array(ts)
    ip_arr = P.ips.take(pa.array(ip))
    ua_arr = P.uas.take(pa.array(ua))
    exchanges = pa.table({
        "exchange_id": exchange_ids(first_id, m),
        "account_id": account_id,
        "api_key_id": P.api_keys.take(pa.array(key)),
        "ts": ts_arr,
        "model": MODELS.take(pa.array(model)),
        "prompt": prompt,
        "input_tokens": pa.array(input_tokens),
        "output_tokens": pa.array(output_tokens),
        "tool_calls": pa.array(tool_calls.astype(np.int64)),
        "ip": ip_arr,
        "user_agent": ua_arr,
    }).cast(EXCHANGES_SCHEMA)
    sample = pa.array(np.flatnonzero(rng.random(m) < api_rate))
    api = pa.table({
        "account_id": account_id.take(sample),
        "ts": ts_arr.take(sample),
        "ip": ip_arr.take(sample),
        "user_agent": ua_arr.take(sample),
        "event": pa.array(np.full(len(sample), "api")),
    })
    return exchanges, api


def signup_events(P: Profiles) -> pa.Table:
    n = len(P.n_ex)
    return pa.table({
        "account_id": P.account_id,
        "ts": ts_array(P.created_at),
        "ip": P.ips.take(pa.array(P.signup_ip)),
        "user_agent": P.uas.take(pa.array(P.browser_ua)),
        "event": pa.array(np.full(n, "signup")),
    })


def login_events(
    rng: np.random.Generator, P: Profiles, accounts: np.ndarray, per_week: float
) -> pa.Table:
    """Web logins from the account's usual addresses with its browser."""
    days = (P.t_end[accounts] - P.t_start[accounts]) / DAY
    active = P.n_ex[accounts] > 0
    n_login = rng.poisson(per_week * np.maximum(days, 0) / 7 * np.where(active, 1.0, 0.2))
    rows = np.repeat(accounts, n_login)
    t0, t1 = P.t_start[rows], P.t_end[rows]
    ts = t0 + (rng.random(len(rows)) * (t1 - t0)).astype(np.int64)
    return pa.table({
        "account_id": P.account_id.take(pa.array(rows)),
        "ts": ts_array(ts),
        "ip": P.ips.take(pa.array(_addresses(rng, P, rows))),
        "user_agent": P.uas.take(pa.array(P.browser_ua[rows])),
        "event": pa.array(np.full(len(rows), "login")),
    })


def account_chunks(n_ex: np.ndarray, chunk_exchanges: int) -> list[np.ndarray]:
    """Consecutive account ranges holding about ``chunk_exchanges`` requests each."""
    cum = np.cumsum(n_ex)
    bounds = np.searchsorted(cum, np.arange(chunk_exchanges, cum[-1], chunk_exchanges), side="left")
    edges = np.unique(np.concatenate([[0], bounds + 1, [len(n_ex)]]).clip(0, len(n_ex)))
    return [np.arange(a, b) for a, b in zip(edges[:-1], edges[1:])]


def activity(
    seed: int, P: Profiles, params: WorldParams
) -> Iterator[tuple[pa.Table, pa.Table]]:
    """Yield (exchanges, ip_events) per chunk; each chunk has its own seeded stream."""
    first_id = 0
    for i, accounts in enumerate(account_chunks(P.n_ex, params.chunk_exchanges)):
        rng = np.random.default_rng([seed, 1, i])
        ex, api = exchange_chunk(rng, P, accounts, first_id, params.api_event_rate)
        first_id += ex.num_rows
        logins = login_events(rng, P, accounts, params.logins_per_week)
        yield ex, pa.concat_tables([logins, api])

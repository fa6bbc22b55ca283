"""A randomised FAMILY of synthetic worlds: training / validation data for the resolver.

Written only from the data contract and the domain notes, independently of the product's own
generator (``pipelines/generate``) and of ``bench/alt_world.py``: no vocabulary, name or
structure is shared with them, so tuning on some draws and judging on held-out draws tests
the resolver rather than our knowledge of one generator.

Each draw randomises the world's STRUCTURE, not only its seed: 2-8 distillation operations
of 1-4 fictional labs (accounts, accounts per card or wallet tokens, datacenter pool or
residential proxy exits shared with ordinary people and their rotation, private or popular
client string, private or public harvesting templates, paraphrase, sign-up bursts or spread,
office hours or round the clock, sparse attribution clues), and benign look-alikes each
present with some probability and sized from wide ranges (campuses behind NAT, classes,
hackathons, VPN exits, resellers, companies on a corporate card, households, dual accounts,
enterprise evaluation jobs, popular questions), with ordinary individuals as the bulk.

    from bench.worlds import draw_world
    structure = draw_world(seed=7, size="small", out_dir=Path("/tmp/w7"))   # or size="demo"

or ``.venv/bin/python bench/worlds/draw.py --seed 7 --size small --out /tmp/w7``. The folder
gets the contract tables as Parquet, ``truth.csv`` (account_id, operator_id, org_id,
is_campaign, kind) and ``world.json`` (the drawn structure plus row counts). The same
(seed, size) always gives byte-identical files.
"""

from .family import KINDS, draw_world
from .structure import SIZES, draw_structure

__all__ = ["KINDS", "SIZES", "draw_structure", "draw_world"]

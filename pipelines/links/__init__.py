"""Stages 4 and 5: candidate account pairs by blocking, then Fellegi–Sunter pair scores.

One module per concept, in the order a run meets them: ``config`` (the settings and domain
facts), ``templates`` (which prompt templates are evidence), ``blocking`` (candidate pairs
from shared values), ``sparse_joins`` (what two accounts share, for millions of pairs),
``comparisons`` (a level per evidence kind and pair), ``fellegi_sunter`` (the model and its
EM), ``pair_scores`` (each candidate's score and explanation) and ``evidence_text`` (the
explanation as JSON text). Callers import the names below from ``pipelines.links``.

A name that a test patches is read in its own module, so it is patched there (for example
``pipelines.links.evidence_text.EVIDENCE_CHUNK``) and not handed on here.
"""

from .blocking import EXACT_KINDS, account_codes, candidate_pairs, exact_values, pairs_from_groups
from .blocking import account_codes as _account_codes
from .comparisons import (COMPARISON_KINDS, COMPARISONS, IP_OVERLAP_BOUNDS, IP_RARE_LEVEL, PAIR_CHUNK, Comparison,
                          Pairs, _address_overlap, compare_pairs, shared_templates_text)
from .config import EVENT_LIFE_SHARE, EVENT_SPAN_US, FAMILY_MIN, INSTITUTIONAL_NETWORKS, ResolutionConfig
from .evidence_text import evidence_json
from .evidence_text import evidence_json as _evidence_json
from .fellegi_sunter import (CONTEXT_KINDS, GATE_LEVEL, MATCH_TYPES, OPERATOR_KINDS, PERSONAL_ANCHOR, FSParameters,
                             combine_weights, estimate_parameters, mixture_score, random_pairs, type_allowed)
from .pair_scores import _MODEL_CONFIG, TF_ADJUSTED, PairEvidence, score_candidates, score_pairs
from .templates import COHERENT_MIN_SHARE, COHERENT_MIN_Z, template_coherence, template_families, template_weights

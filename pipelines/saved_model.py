"""The Fellegi–Sunter model kept between runs.

A daily run that re-estimates m and u by EM moves every weight in the third decimal, so the
graph load would rewrite every link. Between refits a run scores with the last estimated model
instead (``links.score_candidates(reuse=...)``), and only pairs whose evidence changed move.
This module is the file behind that: when a saved model may be reused, and how it is kept.
The Dagster ``resolution`` resource and ``sybilgraph resolve --model`` both call it.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path


def read_saved_model(path: Path | str, refit_days: float, now: datetime | None = None) -> tuple[str | None, str]:
    """(the saved model's JSON when it may be reused, why or why not).

    ``refit_days`` <= 0 re-estimates on every run; a model older than ``refit_days`` is
    re-estimated (the population drifts). ``score_candidates`` may still refuse a model it is
    handed (other comparison levels or settings, another population): see ``outcome``."""
    path = Path(path)
    if refit_days <= 0:
        return None, "re-estimated (refit_days = 0)"
    try:
        saved = json.loads(path.read_text())
        fitted = datetime.fromisoformat(saved["fitted_at"])
        model = saved["model"]
    except FileNotFoundError:
        return None, "estimated (no saved model)"
    except (OSError, ValueError, KeyError, TypeError):
        return None, f"re-estimated (unreadable {path.name})"
    age = (now or datetime.now(timezone.utc)) - fitted
    if age > timedelta(days=refit_days):
        return None, f"re-estimated (saved model fitted {fitted:%Y-%m-%d %H:%M} UTC, older than {refit_days:g} days)"
    return model, f"reused (fitted {fitted:%Y-%m-%d %H:%M} UTC)"


def write_saved_model(path: Path | str, model_json: str, now: datetime | None = None) -> None:
    """Keep a freshly estimated model (written beside, then renamed: never half a file)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fitted = (now or datetime.now(timezone.utc)).isoformat()
    tmp.write_text(json.dumps({"fitted_at": fitted, "model": model_json}))
    tmp.replace(path)


def outcome(saved: str | None, why: str, reused: bool) -> str:
    """The final word on the model a run scored with: ``why`` from ``read_saved_model``, unless
    the scorer refused the model it was handed."""
    if saved is not None and not reused:
        return ("re-estimated (the saved model was fitted on other comparison levels or settings, or on a "
                "population half or twice this size)")
    return why


def score_with_saved_model(path: Path | str | None, refit_days: float, score, now: datetime | None = None):
    """Run ``score(reuse)`` with the saved model when it may be reused, keep a newly estimated
    one; returns (``score``'s result, why). ``score``'s frame must carry
    ``attrs["parameters_json"]`` and ``attrs["parameters_reused"]`` (``links.score_candidates``,
    ``links.score_pairs``). ``path`` None: estimate, keep nothing."""
    if path is None:
        return score(None), "estimated (no model file)"
    saved, why = read_saved_model(path, refit_days, now)
    result = score(saved)
    frame = result[0] if isinstance(result, tuple) else result
    reused = bool(frame.attrs.get("parameters_reused"))
    if not reused:
        write_saved_model(path, frame.attrs["parameters_json"], now)
    return result, outcome(saved, why, reused)

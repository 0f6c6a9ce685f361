"""Per-row reasons: how much each feature moves a row's score, in words a rep understands.

The contribution of a feature to a row is the change in the model's log-odds when that
feature is set back to its typical training value (median, or most common category)
and everything else is kept: exact for the logistic regression (its coefficient times
the distance from typical), a faithful local reading for the boosted trees, and the same
code for any model. The top three by size become sentences through a phrasebook per
model (ml/models.py); a feature without a phrase gets a plain generic sentence.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import pandas as pd
import polars as pl

from ml.train import TrainedModel, single_threaded, to_pandas

Phrase = Callable[[Any, bool], str]  # (value, raises the score) -> sentence
TYPICAL = "Typical on every signal the model uses"
MIN_CONTRIBUTION = 1e-6  # log-odds: a feature at its typical value explains nothing


def _log_odds(model: Any, frame: pd.DataFrame) -> np.ndarray:
    p = np.clip(model.predict_proba(frame)[:, 1], 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


@single_threaded
def contributions(model: TrainedModel, frame: pl.DataFrame | pd.DataFrame) -> np.ndarray:
    """Rows x features: log-odds moved by each feature relative to its typical value."""
    x = to_pandas(frame, model.spec)
    base = _log_odds(model.base_estimator, x)
    out = np.zeros((len(x), len(model.spec.features)))
    for j, name in enumerate(model.spec.features):
        saved = x[name].copy()
        if name in model.spec.numeric:
            x[name] = model.reference["numeric"][name]["median"]
        else:
            mode = model.reference["categorical"][name]["mode"]
            x[name] = np.nan if mode in (None, "(missing)") else mode
        out[:, j] = base - _log_odds(model.base_estimator, x)
        x[name] = saved
    return out


def generic_phrase(name: str) -> Phrase:
    label = name.replace("_", " ")

    def phrase(value: Any, up: bool) -> str:
        shown = "unknown" if value is None or (isinstance(value, float) and np.isnan(value)) else value
        if isinstance(shown, float):
            shown = f"{shown:,.2f}".rstrip("0").rstrip(".")
        return f"{label.capitalize()} is {shown} ({'raises' if up else 'lowers'} the score)"

    return phrase


def top_reasons(
    model: TrainedModel,
    frame: pl.DataFrame,
    phrases: Mapping[str, Phrase],
    *,
    top: int = 3,
    contrib: np.ndarray | None = None,
) -> list[list[str]]:
    """The ``top`` largest contributions of each row, as sentences, largest first."""
    contrib = contributions(model, frame) if contrib is None else contrib
    names = model.spec.features
    values = {name: frame[name].to_list() for name in names}
    phrasebook = [phrases.get(name) or generic_phrase(name) for name in names]
    order = np.argsort(-np.abs(contrib), axis=1)[:, :top]
    said: dict[tuple[int, Any, bool], str] = {}  # the same value says the same thing
    reasons: list[list[str]] = []
    for i in range(len(frame)):
        row = []
        for j in order[i]:
            size = contrib[i, j]
            if abs(size) >= MIN_CONTRIBUTION:
                key = (j, values[names[j]][i], bool(size > 0))
                sentence = said.get(key)
                if sentence is None:
                    sentence = said[key] = phrasebook[j](key[1], key[2])
                row.append(sentence)
        reasons.append(row or [TYPICAL])
    return reasons

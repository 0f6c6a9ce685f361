"""Frames from numpy arrays and constants that keep their dtypes when empty.

polars turns ``{"a": <empty array>, "b": "x"}`` into all-null columns, which then fail
to join or concatenate with the non-empty frames of another block. Repeating the
constants to the arrays' length keeps every dtype, whatever the block size.
"""

from __future__ import annotations

import numpy as np
import polars as pl

_SCALARS = (str, bool, int, float, np.generic)


def table(columns: dict[str, object]) -> pl.DataFrame:
    lengths = {len(v) for v in columns.values() if not isinstance(v, _SCALARS)}
    if len(lengths) != 1:
        raise ValueError(f"columns must have one length, got {sorted(lengths)}")
    n = lengths.pop()
    return pl.DataFrame({k: np.full(n, v) if isinstance(v, _SCALARS) else v for k, v in columns.items()})

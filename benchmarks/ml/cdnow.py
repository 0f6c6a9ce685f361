"""BG/NBD and Gamma-Gamma on CDNOW (shipped in the lifetimes package) vs the published fits.

python -m benchmarks.ml.cdnow
"""

from __future__ import annotations

import time
from pathlib import Path

import polars as pl

from benchmarks.ml.common import write_result
from ml.clv import fit_bgnbd, fit_gamma_gamma

PUBLISHED_BGNBD = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
PUBLISHED_GAMMA_GAMMA = {"p": 6.25, "q": 3.74, "gamma": 15.44}


def main() -> None:
    import lifetimes

    data = pl.read_csv(
        Path(lifetimes.__file__).parent / "datasets" / "cdnow_customers_summary_with_transactions.csv"
    )
    started = time.perf_counter()
    bgnbd = fit_bgnbd(data["x"], data["t_x"], data["T"])
    bgnbd_seconds = time.perf_counter() - started
    started = time.perf_counter()
    gamma_gamma = fit_gamma_gamma(data["x"], data["zbar"])
    gg_seconds = time.perf_counter() - started
    ours_bgnbd = {k: round(v, 3) for k, v in bgnbd.as_dict().items()}
    ours_gg = {k: round(v, 3) for k, v in gamma_gamma.as_dict().items()}
    print(f"BG/NBD      ours {ours_bgnbd}  published {PUBLISHED_BGNBD}  ({bgnbd_seconds:.1f}s)")
    print(f"Gamma-Gamma ours {ours_gg}  published {PUBLISHED_GAMMA_GAMMA}  ({gg_seconds:.1f}s)")
    write_result(
        "ml_cdnow",
        {
            "data": "CDNOW sample (lifetimes 0.11.3 datasets), 2357 customers, 39-week calibration period",
            "bgnbd": {
                "ours": ours_bgnbd,
                "published": PUBLISHED_BGNBD,
                "match_3dp": ours_bgnbd == PUBLISHED_BGNBD,
            },
            "gamma_gamma": {"ours": ours_gg, "published": PUBLISHED_GAMMA_GAMMA},
            "fit_seconds": {"bgnbd": round(bgnbd_seconds, 2), "gamma_gamma": round(gg_seconds, 2)},
        },
    )


if __name__ == "__main__":
    main()

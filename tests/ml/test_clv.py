"""BG/NBD and Gamma-Gamma against the CDNOW data and parameters published for it."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from ml.clv import BgNbd, GammaGamma, customer_value, fit_bgnbd, fit_gamma_gamma, summarise_transactions

lifetimes = pytest.importorskip("lifetimes")
DATASETS = Path(lifetimes.__file__).parent / "datasets"


@pytest.fixture(scope="module")
def cdnow() -> pl.DataFrame:
    return pl.read_csv(DATASETS / "cdnow_customers_summary_with_transactions.csv")


def test_bgnbd_reproduces_the_published_cdnow_parameters(cdnow: pl.DataFrame) -> None:
    model = fit_bgnbd(cdnow["x"], cdnow["t_x"], cdnow["T"])
    # Fader, Hardie and Lee (2005): r 0.243, alpha 4.414, a 0.793, b 2.426
    assert round(model.r, 3) == 0.243
    assert round(model.alpha, 3) == 4.414
    assert round(model.a, 3) == 0.793
    assert round(model.b, 3) == 2.426


def test_gamma_gamma_reproduces_the_published_cdnow_parameters(cdnow: pl.DataFrame) -> None:
    model = fit_gamma_gamma(cdnow["x"], cdnow["zbar"])
    # Fader, Hardie and Lee (2005b): p 6.25, q 3.74, gamma 15.44
    assert model.p == pytest.approx(6.25, abs=0.01)
    assert model.q == pytest.approx(3.74, abs=0.01)
    assert model.gamma == pytest.approx(15.44, abs=0.01)


def test_forecasts_agree_with_the_lifetimes_package(cdnow: pl.DataFrame) -> None:
    import pandas as pd
    from lifetimes import BetaGeoFitter

    params = {"r": 0.243, "alpha": 4.414, "a": 0.793, "b": 2.426}
    reference = BetaGeoFitter()
    reference.params_ = pd.Series(params)
    x, tx, T = (cdnow[c].to_numpy() for c in ("x", "t_x", "T"))
    ours = BgNbd(**params)
    theirs = np.asarray(reference.conditional_expected_number_of_purchases_up_to_time(39, x, tx, T))
    np.testing.assert_allclose(ours.expected_purchases(39, x, tx, T), theirs, rtol=1e-9)
    alive = np.asarray(reference.conditional_probability_alive(x, tx, T))
    np.testing.assert_allclose(ours.p_alive(x, tx, T), alive, rtol=1e-9)


def test_summaries_from_raw_transactions_match_the_published_summary(cdnow: pl.DataFrame) -> None:
    raw = _read_cdnow_sample()
    summary = summarise_transactions(
        raw.filter(pl.col("at") <= datetime(1997, 9, 30)),
        customer="customer",
        at="at",
        amount="amount",
        observation_end=datetime(1997, 9, 30),
        unit_days=7.0,
    ).sort("customer")
    published = cdnow.sort("ID")
    assert summary["customer"].to_list() == published["ID"].to_list()
    assert summary["frequency"].to_list() == published["x"].to_list()
    np.testing.assert_allclose(summary["recency"].to_numpy(), published["t_x"].to_numpy(), atol=0.01)
    np.testing.assert_allclose(summary["T"].to_numpy(), published["T"].to_numpy(), atol=0.01)


def _read_cdnow_sample() -> pl.DataFrame:
    rows = [line.split() for line in (DATASETS / "CDNOW_sample.txt").read_text().splitlines() if line.strip()]
    return pl.DataFrame(
        {
            "customer": [int(r[1]) for r in rows],
            "at": [datetime.strptime(r[2], "%Y%m%d") for r in rows],
            "amount": [float(r[4]) for r in rows],
        }
    )


def test_customer_value_is_purchases_times_spend() -> None:
    summary = pl.DataFrame(
        {
            "frequency": [0, 2, 10],
            "recency": [0.0, 20.0, 38.0],
            "T": [39.0, 39.0, 39.0],
            "monetary": [0.0, 30.0, 50.0],
        }
    )
    bgnbd = BgNbd(0.243, 4.414, 0.793, 2.426)
    value = customer_value(summary, bgnbd, GammaGamma(6.25, 3.74, 15.44), horizon=52)
    assert (
        value["expected_value"] - value["expected_purchases"] * value["expected_order_value"]
    ).abs().max() < 1e-9
    # the frequent, recent buyer is worth most and most likely alive
    assert value["expected_value"].arg_max() == 2
    assert value["p_alive"][2] > value["p_alive"][1]

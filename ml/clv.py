"""Customer value: BG/NBD (purchase count) and Gamma-Gamma (spend per order), in numpy/scipy.

Fader, Hardie and Lee (2005), "Counting your customers the easy way"; Fader, Hardie and
Lee (2005), "RFM and CLV: using iso-value curves". Each customer is summarised as
``frequency`` (repeat purchases, x), ``recency`` (time of the last purchase since the
first, t_x), ``T`` (time since the first purchase) and ``monetary`` (mean value of the
repeat purchases). Time is in whatever unit the summary uses (days here, weeks for CDNOW).

The fit maximises the exact log-likelihood over log-parameters with L-BFGS from several
starts; it reproduces the published CDNOW parameters (tests/ml/test_clv.py).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

import numpy as np
import polars as pl
from scipy.optimize import minimize
from scipy.special import betaln, gammaln, hyp2f1


@dataclass(frozen=True)
class BgNbd:
    r: float
    alpha: float
    a: float
    b: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def p_alive(self, frequency, recency, T) -> np.ndarray:
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        ratio = _dropout_ratio(self, x, tx, T)
        return 1.0 / (1.0 + ratio)

    def expected_purchases(self, t: float, frequency, recency, T) -> np.ndarray:
        """E[purchases in (T, T + t]] for each customer (equation 10 of the BG/NBD paper)."""
        r, alpha, a, b = self.r, self.alpha, self.a, self.b
        x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
        z = t / (alpha + T + t)
        head = (a + b + x - 1.0) / (a - 1.0)
        tail = 1.0 - ((alpha + T) / (alpha + T + t)) ** (r + x) * hyp2f1(r + x, b + x, a + b + x - 1.0, z)
        return head * tail / (1.0 + _dropout_ratio(self, x, tx, T))


@dataclass(frozen=True)
class GammaGamma:
    p: float
    q: float
    gamma: float

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def expected_spend(self, frequency, monetary) -> np.ndarray:
        """E[spend per order | x repeat orders of mean value m]; the population mean when x = 0."""
        p, q, g = self.p, self.q, self.gamma
        x, m = np.asarray(frequency, dtype=float), np.nan_to_num(np.asarray(monetary, dtype=float))
        population = p * g / (q - 1.0)
        conditional = (g + x * m) * p / (p * x + q - 1.0)
        return np.where(x > 0, conditional, population)


def _dropout_ratio(model: BgNbd, x, tx, T) -> np.ndarray:
    """delta(x > 0) * a / (b + x - 1) * ((alpha + T) / (alpha + t_x)) ** (r + x)."""
    safe_b = np.where(x > 0, model.b + x - 1.0, 1.0)
    ratio = model.a / safe_b * ((model.alpha + T) / (model.alpha + tx)) ** (model.r + x)
    return np.where(x > 0, ratio, 0.0)


def bgnbd_log_likelihood(params: np.ndarray, x: np.ndarray, tx: np.ndarray, T: np.ndarray) -> np.ndarray:
    r, alpha, a, b = params
    common = gammaln(r + x) - gammaln(r) + r * np.log(alpha)
    first = betaln(a, b + x) - betaln(a, b) - (r + x) * np.log(alpha + T)
    second = np.where(
        x > 0,
        betaln(a + 1.0, np.maximum(b + x - 1.0, 1e-12)) - betaln(a, b) - (r + x) * np.log(alpha + tx),
        -np.inf,
    )
    return common + np.logaddexp(first, second)


def _fit(neg_ll, starts: list[np.ndarray]) -> np.ndarray:
    best = None
    for start in starts:
        result = minimize(neg_ll, np.log(start), method="L-BFGS-B")
        if best is None or result.fun < best.fun:
            best = result
    # polish the best start with Nelder-Mead: the surface is flat along (r, alpha)
    polished = minimize(
        neg_ll, best.x, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000}
    )
    return np.exp(polished.x if polished.fun <= best.fun else best.x)


def fit_bgnbd(frequency, recency, T) -> BgNbd:
    """Maximum-likelihood BG/NBD parameters for a customer summary."""
    x, tx, T = (np.asarray(v, dtype=float) for v in (frequency, recency, T))
    if len(x) == 0:
        raise ValueError("cannot fit BG/NBD on no customers")
    scale = max(float(np.mean(T)), 1e-9)

    def neg_ll(log_params: np.ndarray) -> float:
        params = np.exp(np.clip(log_params, -30, 30))
        value = -np.sum(bgnbd_log_likelihood(params, x, tx, T)) / len(x)
        return float(value) if np.isfinite(value) else 1e12

    starts = [
        np.array([0.5, scale / 5, 1.0, 2.0]),
        np.array([1.0, scale, 0.5, 1.0]),
        np.array([0.2, scale / 20, 2.0, 5.0]),
    ]
    r, alpha, a, b = _fit(neg_ll, starts)
    return BgNbd(r=float(r), alpha=float(alpha), a=float(a), b=float(b))


def fit_gamma_gamma(frequency, monetary) -> GammaGamma:
    """Maximum-likelihood Gamma-Gamma parameters, on customers with at least one repeat order."""
    x, m = np.asarray(frequency, dtype=float), np.asarray(monetary, dtype=float)
    keep = (x > 0) & (m > 0)
    x, m = x[keep], m[keep]
    if len(x) == 0:
        raise ValueError("cannot fit Gamma-Gamma without repeat customers")

    def neg_ll(log_params: np.ndarray) -> float:
        p, q, g = np.exp(np.clip(log_params, -30, 30))
        ll = (
            gammaln(p * x + q)
            - gammaln(p * x)
            - gammaln(q)
            + q * np.log(g)
            + (p * x - 1.0) * np.log(m)
            + p * x * np.log(x)
            - (p * x + q) * np.log(g + x * m)
        )
        value = -np.sum(ll) / len(x)
        return float(value) if np.isfinite(value) else 1e12

    mean = float(np.mean(m))
    p, q, g = _fit(
        neg_ll, [np.array([2.0, 3.0, mean]), np.array([6.0, 4.0, mean / 4]), np.array([1.0, 2.0, mean / 10])]
    )
    return GammaGamma(p=float(p), q=float(q), gamma=float(g))


def summarise_transactions(
    transactions: pl.DataFrame,
    *,
    customer: str | list[str],
    at: str,
    amount: str,
    observation_end: datetime,
    unit_days: float = 1.0,
) -> pl.DataFrame:
    """Transactions (one row per order) -> frequency, recency, T, monetary per customer.

    Orders of the same customer on the same day count as one purchase (as in the
    literature); ``monetary`` is the mean daily value of the repeat purchases (0 when none).
    Orders after ``observation_end`` are ignored, so the summary is point-in-time.
    """
    keys = [customer] if isinstance(customer, str) else list(customer)
    end = pl.lit(observation_end).cast(transactions.schema[at])
    daily = (
        transactions.filter(pl.col(at) <= end)
        .group_by(*keys, pl.col(at).dt.truncate("1d").alias("_day"))
        .agg(pl.col(amount).sum().alias("_value"))
        .sort(*keys, "_day")
    )
    unit = unit_days * 86_400.0
    return (
        daily.group_by(keys, maintain_order=True)
        .agg(
            (pl.len() - 1).alias("frequency"),
            ((pl.col("_day").max() - pl.col("_day").min()).dt.total_seconds() / unit).alias("recency"),
            ((end.dt.truncate("1d") - pl.col("_day").min()).dt.total_seconds() / unit).alias("T"),
            pl.when(pl.len() > 1).then(pl.col("_value").slice(1).mean()).otherwise(0.0).alias("monetary"),
        )
        .with_columns(pl.col("frequency").cast(pl.Int64))
    )


def customer_value(
    summary: pl.DataFrame, bgnbd: BgNbd, gamma_gamma: GammaGamma, horizon: float
) -> pl.DataFrame:
    """Expected purchases, spend per order and spend within ``horizon`` (summary's time unit)."""
    x, tx, T = (summary[c].to_numpy().astype(float) for c in ("frequency", "recency", "T"))
    purchases = bgnbd.expected_purchases(horizon, x, tx, T)
    spend = gamma_gamma.expected_spend(x, summary["monetary"].to_numpy().astype(float))
    return summary.with_columns(
        p_alive=pl.Series(bgnbd.p_alive(x, tx, T)),
        expected_purchases=pl.Series(purchases),
        expected_order_value=pl.Series(spend),
        expected_value=pl.Series(purchases * spend),
    )

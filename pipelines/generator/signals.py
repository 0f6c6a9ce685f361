"""The true models behind lead conversion, churn and purchases.

The ML layer is graded against these, so they are written once, here, and the
generator feeds them the activity it actually wrote (counts of the landed events,
e-mails opened and clicked, tickets, breaches, NPS answers) rather than the latent
traits that produced that activity. A model can therefore recover the signal from the
landing data alone, and the truth files say exactly how strong it is.
"""

from __future__ import annotations

import numpy as np

from pipelines.generator import vocab

# Lead conversion: logit = intercept + fit + engagement + campaign touches, where
# engagement counts the person's page/track messages in the lead window (divided by
# the scale's activity multiplier, so that the same coefficients hold at every scale)
# and e-mail opens/clicks there; touches are campaign memberships added in the window.
LEAD_COEF = {
    "intercept": -3.1,
    "fit": 1.0,
    "log_events": 0.45,
    "opens": 0.3,
    "clicks": 0.55,
    "touches": 0.25,
}

# Churn (subscriptions active at the cut-off; outcome: cancelled within 90 days after it).
CHURN_COEF = {
    "intercept": -2.1,
    "usage_trend": -1.1,  # log((events last 90 d + 1) / (events the 90 d before + 1))
    "tickets": 0.22,  # tickets created in the 180 days before the cut-off
    "breaches": 0.55,  # of those, tickets that breached a first-response or resolution target
    "nps_gap": -0.3,  # (latest NPS score before the cut-off) - 7
    "nps_missing": 0.25,  # no NPS answer before the cut-off
    "log_tenure_years": -0.35,
    "past_due": 1.5,  # subscription past due at the cut-off
}

# BG/NBD purchases (time in days) and Gamma-Gamma spend per order.
BGNBD = {"r": 0.75, "alpha": 40.0, "a": 1.0, "b": 3.0}
GAMMA_GAMMA = {"p": 6.0, "q": 3.8, "gamma": 60.0}


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def size_effect(employee_count: np.ndarray) -> np.ndarray:
    """Fit effect of company size; NaN (no company) gets the no-company effect."""
    out = np.full(employee_count.shape, vocab.NO_COMPANY_FIT, dtype=float)
    known = ~np.isnan(employee_count)
    bounds = np.array([b for b, _ in vocab.SIZE_BANDS])
    effects = np.array([e for _, e in vocab.SIZE_BANDS])
    out[known] = effects[np.searchsorted(bounds, employee_count[known], side="left")]
    return out


def lead_fit(industry_effect: np.ndarray, employee_count: np.ndarray, seniority: np.ndarray) -> np.ndarray:
    seniority_effect = np.array([s for s, _ in vocab.SENIORITY])
    senior = np.where(seniority >= 0, seniority_effect[np.maximum(seniority, 0)], vocab.NO_COMPANY_FIT)
    return industry_effect + size_effect(employee_count) + senior


def lead_logit(fit, events_normalised, opens, clicks, touches) -> np.ndarray:
    c = LEAD_COEF
    return (
        c["intercept"]
        + c["fit"] * fit
        + c["log_events"] * np.log1p(events_normalised)
        + c["opens"] * opens
        + c["clicks"] * clicks
        + c["touches"] * touches
    )


def churn_logit(usage_last, usage_prev, tickets, breaches, nps_last, tenure_years, past_due) -> np.ndarray:
    c = CHURN_COEF
    trend = np.log((usage_last + 1.0) / (usage_prev + 1.0))
    has_nps = ~np.isnan(nps_last)
    nps_term = np.where(has_nps, c["nps_gap"] * (np.nan_to_num(nps_last, nan=7.0) - 7.0), c["nps_missing"])
    return (
        c["intercept"]
        + c["usage_trend"] * trend
        + c["tickets"] * tickets
        + c["breaches"] * breaches
        + nps_term
        + c["log_tenure_years"] * np.log(np.maximum(tenure_years, 0.05))
        + c["past_due"] * past_due
    )

"""Lead-like feature tables with a known logistic signal, for the training tests."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import polars as pl

INDUSTRY_EFFECT = {"software": 0.8, "retail": 0.0, "education": -0.8}


def lead_table(
    n: int, seed: int = 0, *, shift: float = 0.0, start: datetime = datetime(2025, 1, 1)
) -> pl.DataFrame:
    """Rows shaped like features.ml_lead_features, with the true probability alongside.

    ``shift`` moves the engagement distribution (drift) without changing the model.
    """
    rng = np.random.default_rng(seed)
    web = rng.poisson(4 + shift * 10, size=n)
    opens = rng.poisson(1.5, size=n)
    clicks = rng.binomial(opens, 0.4)
    touches = rng.poisson(1.0, size=n)
    industry = rng.choice(list(INDUSTRY_EFFECT), size=n)
    seniority = rng.choice(["individual", "manager", "executive"], size=n)
    logit = (
        -2.0
        + 0.6 * np.log1p(web)
        + 0.3 * opens
        + 0.6 * clicks
        + 0.2 * touches
        + np.vectorize(INDUSTRY_EFFECT.get)(industry)
        + np.where(seniority == "executive", 0.7, np.where(seniority == "manager", 0.3, -0.3))
    )
    p = 1 / (1 + np.exp(-logit))
    return pl.DataFrame(
        {
            "tenant_id": "acme",
            "lead_id": [f"L{seed}-{i}" for i in range(n)],
            "source_system": "crm",
            "customer_id": [f"cus_{seed}_{i}" for i in range(n)],
            "owner_id": "U1",
            "stage": "working",
            "point_at": [start + timedelta(hours=int(h)) for h in np.sort(rng.integers(0, 24 * 500, size=n))],
            "web_events": web,
            "email_opens": opens,
            "email_clicks": clicks,
            "campaign_touches": touches,
            "industry": industry,
            "company_size": rng.choice(["11-50", "51-200", "unknown"], size=n),
            "seniority": seniority,
            "lead_source": rng.choice(["web", "referral"], size=n),
            "label": rng.random(n) < p,
            "true_p": p,
        }
    )

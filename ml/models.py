"""The platform's models: which feature mart each reads, its columns, bands and phrasebook.

Everything model-specific lives here; the training, evaluation, reasons and registry
code is generic (it takes any feature table with a label column).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ml.explain import Phrase


def _n(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None
    return float(value)


def _count(value: Any) -> str:
    v = _n(value)
    return "no" if not v else f"{v:,.0f}"


@dataclass(frozen=True)
class ModelDefinition:
    name: str  # registry name
    feature_table: str  # features.<table>
    entity: str  # what a row is
    id_columns: tuple[str, ...]
    numeric: tuple[str, ...]
    categorical: tuple[str, ...]
    bands: tuple[tuple[float, str], ...]  # (lower bound of probability, band), highest first
    phrases: Mapping[str, Phrase] = field(default_factory=dict)
    time_column: str = "point_at"
    label: str = "label"

    def band(self, probability: float) -> str:
        for bound, band in self.bands:
            if probability >= bound:
                return band
        return self.bands[-1][1]


LEAD_PHRASES: dict[str, Phrase] = {
    "web_events": lambda v, up: (
        f"Very active on our website ({_count(v)} visits and actions around sign-up)"
        if up
        else f"Little website activity ({_count(v)} visits and actions around sign-up)"
    ),
    "email_opens": lambda v, up: (
        f"Opened {_count(v)} of our e-mails"
        if up
        else ("Has not opened our e-mails" if not _n(v) else f"Opened only {_count(v)} of our e-mails")
    ),
    "email_clicks": lambda v, up: (
        f"Clicked links in {_count(v)} of our e-mails" if up else "Has not clicked any of our e-mails"
    ),
    "campaign_touches": lambda v, up: (
        f"Reached by {_count(v)} of our campaigns" if up else "Reached by few of our campaigns"
    ),
    "industry": lambda v, up: (
        f"Works in {v}, an industry that often buys from us"
        if up
        else f"Works in {v or 'an unknown industry'}, which rarely buys from us"
    ),
    "company_size": lambda v, up: (
        f"Company size ({v} employees) is our sweet spot"
        if up
        else ("Company size unknown" if v == "unknown" else f"Company size ({v} employees) rarely buys")
    ),
    "employee_count": lambda v, up: (
        f"Company of {_count(v)} employees, a size that buys"
        if up
        else (
            "Company size unknown"
            if _n(v) is None
            else f"Company of {_count(v)} employees, a size that rarely buys"
        )
    ),
    "seniority": lambda v, up: (
        f"Senior contact ({v}), likely a decision maker"
        if up
        else f"Contact is not a decision maker ({v} level)"
    ),
    "lead_source": lambda v, up: (
        f"Came in through {v}, a channel that converts well"
        if up
        else f"Came in through {v}, a channel that converts poorly"
    ),
}


def _trend(v: Any, up: bool) -> str:
    change = math.expm1(_n(v) or 0.0) * 100
    if up:
        return f"Product use is falling ({change:+.0f}% on the 90 days before)"
    return f"Product use is steady or growing ({change:+.0f}% on the 90 days before)"


CHURN_PHRASES: dict[str, Phrase] = {
    "usage_trend": _trend,
    "events_last_90d": lambda v, up: (
        f"Low product use ({_count(v)} actions in the last 90 days)"
        if up
        else f"Uses the product a lot ({_count(v)} actions in the last 90 days)"
    ),
    "days_since_last_event": lambda v, up: (
        f"Last used the product {_count(v)} days ago"
        if up
        else f"Used the product recently ({_count(v)} days ago)"
    ),
    "tickets_180d": lambda v, up: (
        f"Opened {_count(v)} support tickets in the last 6 months" if up else "Few support tickets lately"
    ),
    "sla_breaches_180d": lambda v, up: (
        f"We missed our support targets {_count(v)} times in the last 6 months"
        if up
        else "Support has met its targets for this customer"
    ),
    "nps_last": lambda v, up: (
        ("Has never answered an NPS survey" if _n(v) is None else f"Low NPS score ({_count(v)}/10)")
        if up
        else ("Has never answered an NPS survey" if _n(v) is None else f"High NPS score ({_count(v)}/10)")
    ),
    "tenure_years": lambda v, up: (
        f"Fairly new customer ({_n(v) or 0:.1f} years)"
        if up
        else f"Long-standing customer ({_n(v) or 0:.1f} years)"
    ),
    "has_usage_data": lambda v, up: (
        "Product use is not visible (their app login is not linked to this account)"
        if not v
        else "Product use is visible and counted"
    ),
    "is_past_due": lambda v, up: "Payment is past due" if up else "Pays on time",
    "mrr": lambda v, up: f"Pays {_n(v) or 0:,.0f} a month",
}

LEAD = ModelDefinition(
    name="lead_scoring",
    feature_table="ml_lead_features",
    entity="lead",
    id_columns=("tenant_id", "lead_id", "source_system", "customer_id"),
    numeric=("web_events", "email_opens", "email_clicks", "campaign_touches"),
    categorical=("industry", "company_size", "seniority", "lead_source"),
    bands=((0.5, "hot"), (0.2, "warm"), (0.0, "cold")),
    phrases=LEAD_PHRASES,
)

CHURN = ModelDefinition(
    name="churn",
    feature_table="ml_churn_features",
    entity="subscription",
    id_columns=("tenant_id", "subscription_id", "source_system", "customer_id"),
    numeric=(
        "has_usage_data",
        "usage_trend",
        "events_last_90d",
        "days_since_last_event",
        "tickets_180d",
        "sla_breaches_180d",
        "nps_last",
        "tenure_years",
        "is_past_due",
        "mrr",
    ),
    categorical=(),
    bands=((0.4, "high"), (0.15, "medium"), (0.0, "low")),
    phrases=CHURN_PHRASES,
)

CLASSIFIERS: dict[str, ModelDefinition] = {LEAD.name: LEAD, CHURN.name: CHURN}
CUSTOMER_VALUE = "customer_value"
CUSTOMER_VALUE_TABLE = "ml_customer_value_features"

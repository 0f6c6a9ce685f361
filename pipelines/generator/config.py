"""Fixed clock, scales, tenants and the bad-input vocabulary of the generator.

The clock is fixed (``NOW``) rather than read from the machine so that the same seed
writes byte-identical files on any day; every date in the data set is relative to it.
``CUTOFF`` is the point-in-time boundary the churn labels are drawn around: features
come from before it, outcomes from the 90 days after it (which end at ``NOW``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from warehouse.contract import QUARANTINE_REASONS

DAY = 86_400  # seconds
NOW_DT = datetime(2026, 10, 31, tzinfo=UTC)
NOW = int(NOW_DT.timestamp())
START = NOW - 730 * DAY  # events and most CRM activity span the two years before NOW
HISTORY_START = NOW - 4 * 365 * DAY  # the oldest customers (CRM history is longer than events)
CUTOFF = NOW - 90 * DAY  # churn: features up to CUTOFF, outcome in (CUTOFF, NOW]
LEAD_WINDOW_BEFORE = 30 * DAY  # lead engagement counted from created_at - 30 days...
LEAD_DECISION_AFTER = 14 * DAY  # ...to created_at + 14 days (the lead's decision time)
LEAD_HORIZON = 90 * DAY  # a converted lead converts within 90 days of created_at


@dataclass(frozen=True)
class Scale:
    name: str
    people: int
    block_size: int  # people generated and written together; bounds memory
    activity: float  # multiplier on behavioural rates (sessions), tunes events per person
    events_per_file: int  # a tenant's events of one block are split into files of at most this many lines


SCALES: dict[str, Scale] = {
    # Two blocks even when small, so every test exercises the block boundary.
    "small": Scale("small", 400, 200, 0.22, 2_000),
    "demo": Scale("demo", 20_000, 50_000, 0.92, 1_000_000),
    "large": Scale("large", 1_000_000, 50_000, 0.37, 1_000_000),
}


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    default_country: str
    timezone: str
    currency: str
    share: float  # of the people
    foreign_countries: tuple[str, ...]  # where its non-domestic customers live
    site: str  # the tenant's website host (page urls, user e-mails)


TENANTS: tuple[Tenant, ...] = (
    Tenant("acme", "Acme Ltd", "GB", "Europe/London", "GBP", 0.6, ("IE", "FR", "DE"), "acme.example"),
    Tenant("globex", "Globex Corporation", "US", "America/New_York", "USD", 0.4, ("CA",), "globex.example"),
)
UNKNOWN_TENANT = "ghost"  # rows and an events folder for a tenant that is not registered
TENANT_UPDATED_AT = "2024-01-15T09:00:00+00:00"

# Kinds of injected bad input. Those named like a quarantine reason must end up in the
# loader's quarantine with exactly that reason; the duplicate kinds are valid rows the
# loader must count as duplicates instead of loading twice.
QUARANTINE_KINDS = (
    "malformed_json",
    "malformed_csv",
    "oversize_message",
    "missing_required_field",
    "wrong_type",
    "invalid_value",
    "unknown_tenant",
)
DUPLICATE_KINDS = ("duplicate_message", "duplicate_record")
BAD_KINDS = QUARANTINE_KINDS + DUPLICATE_KINDS
assert set(QUARANTINE_KINDS) <= set(QUARANTINE_REASONS)

# Which kinds each file format can carry: Parquet is typed (no wrong types, no quoting),
# events have no CRM duplicates and CRM rows no Segment-only problems.
KINDS_BY_FORMAT: dict[str, tuple[str, ...]] = {
    "csv": ("malformed_csv", "missing_required_field", "wrong_type", "unknown_tenant", "duplicate_record"),
    "parquet": ("missing_required_field", "unknown_tenant", "duplicate_record"),
    "jsonl": (
        "malformed_json",
        "oversize_message",
        "missing_required_field",
        "wrong_type",
        "invalid_value",
        "duplicate_message",
    ),
}
DEFAULT_BAD_FRACTION = 0.006


def bad_fractions(bad_fraction: float | Mapping[str, float]) -> dict[str, float]:
    """Per-kind fractions from one number (every kind) or a partial mapping (others 0)."""
    if isinstance(bad_fraction, Mapping):
        unknown = set(bad_fraction) - set(BAD_KINDS)
        if unknown:
            raise ValueError(f"unknown bad-input kinds {sorted(unknown)}; known: {', '.join(BAD_KINDS)}")
        fractions = {kind: float(bad_fraction.get(kind, 0.0)) for kind in BAD_KINDS}
    else:
        fractions = dict.fromkeys(BAD_KINDS, float(bad_fraction))
    for kind, value in fractions.items():
        if not 0.0 <= value <= 0.2:
            raise ValueError(f"bad fraction for {kind} must be within [0, 0.2], got {value}")
    return fractions

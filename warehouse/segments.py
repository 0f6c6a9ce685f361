"""Saved segments: a filter definition on customer_360, stored in the operational store.

A segment saved in the dashboards is a row of ``saved_segments`` in the operational
store (SQLite, ``warehouse/opstore.py``): the dashboards cannot write the read-only
snapshot nor the single-writer warehouse (DESIGN.md decision 1), and the ops store is
where the API already keeps what users create. The definition is a small JSON document
(:class:`SegmentFilters`, validated, every field optional) and its members are exactly
:data:`SEGMENT_MEMBERS_SQL` run with :func:`segment_params`: the dashboards size and
sample a segment with it, and publishing a serving snapshot (warehouse/snapshots.py)
runs the same statement on the snapshot's customer_360 to write ``segment_members``,
so a segment means the same thing on screen, in the API and in exports.
"""

from __future__ import annotations

import json
import re
import secrets
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from warehouse.opstore import ops_db
from warehouse.settings import Settings

SCHEMA = """
create table if not exists saved_segments (
    tenant_id text not null,
    segment_id text not null,
    name text not null,
    description text not null default '',
    definition text not null,
    created_by_key_id text not null,
    created_at text not null,
    updated_at text not null,
    primary key (tenant_id, segment_id)
);
"""
_SLUG = re.compile(r"[^a-z0-9]+")
CONSENT_CHANNELS = ("email", "sms", "whatsapp", "phone", "push")


@dataclass(frozen=True)
class SegmentFilters:
    """Filters on customer_360 fields; an empty list or None means "any"."""

    lifecycle_stages: tuple[str, ...] = ()
    countries: tuple[str, ...] = ()
    rfm_segments: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    min_revenue: float | None = None
    max_revenue: float | None = None
    min_orders: int | None = None
    active_within_days: int | None = None
    consent_channel: str | None = None  # only people with marketing consent on this channel
    version: int = field(default=1)

    def __post_init__(self) -> None:
        if self.consent_channel is not None and self.consent_channel not in CONSENT_CHANNELS:
            raise ValueError(f"unknown consent channel {self.consent_channel!r}")
        for name in ("min_revenue", "max_revenue", "min_orders", "active_within_days"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> SegmentFilters:
        raw = json.loads(text)
        known = set(cls.__dataclass_fields__)
        unknown = set(raw) - known
        if unknown:
            raise ValueError(f"unknown segment filter(s): {', '.join(sorted(unknown))}")
        for name in ("lifecycle_stages", "countries", "rfm_segments", "tags"):
            if name in raw:
                raw[name] = tuple(str(v) for v in raw[name])
        return cls(**raw)

    def describe(self) -> str:
        parts = []
        for label, values in (
            ("stage", self.lifecycle_stages),
            ("country", self.countries),
            ("RFM", self.rfm_segments),
            ("tag", self.tags),
        ):
            if values:
                parts.append(f"{label} in {', '.join(values)}")
        if self.min_revenue is not None:
            parts.append(f"revenue ≥ {self.min_revenue:,.0f}")
        if self.max_revenue is not None:
            parts.append(f"revenue ≤ {self.max_revenue:,.0f}")
        if self.min_orders is not None:
            parts.append(f"orders ≥ {self.min_orders}")
        if self.active_within_days is not None:
            parts.append(f"active in the last {self.active_within_days} days")
        if self.consent_channel:
            parts.append(f"consented to {self.consent_channel} marketing")
        return "; ".join(parts) or "all customers"


@dataclass(frozen=True)
class SavedSegment:
    tenant_id: str
    segment_id: str
    name: str
    description: str
    filters: SegmentFilters
    created_by_key_id: str
    created_at: str
    updated_at: str


def segment_id_for(name: str) -> str:
    """``saved:<slug>``: the segment id the pipeline publishes the members under."""
    slug = _SLUG.sub("_", name.lower()).strip("_")[:60]
    return f"saved:{slug or secrets.token_hex(4)}"


def save_segment(
    tenant_id: str,
    name: str,
    filters: SegmentFilters,
    *,
    key_id: str,
    description: str = "",
    settings: Settings | None = None,
) -> SavedSegment:
    """Create or replace the tenant's segment of this name; returns it."""
    name = name.strip()
    if not name:
        raise ValueError("a segment needs a name")
    segment_id = segment_id_for(name)
    now = datetime.now(UTC).isoformat()
    with ops_db(settings) as con:
        con.execute(SCHEMA.strip().rstrip(";"))
        con.execute(
            "insert into saved_segments (tenant_id, segment_id, name, description, definition, created_by_key_id, "
            "created_at, updated_at) values (?, ?, ?, ?, ?, ?, ?, ?) "
            "on conflict (tenant_id, segment_id) do update set name = excluded.name, "
            "description = excluded.description, definition = excluded.definition, updated_at = excluded.updated_at",
            [tenant_id, segment_id, name, description, filters.to_json(), key_id, now, now],
        )
    return next(s for s in list_segments(tenant_id, settings) if s.segment_id == segment_id)


def list_segments(tenant_id: str | None = None, settings: Settings | None = None) -> list[SavedSegment]:
    """Saved segments of one tenant, or of all tenants (what the pipeline reads)."""
    with ops_db(settings) as con:
        con.execute(SCHEMA.strip().rstrip(";"))
        rows = con.execute(
            "select tenant_id, segment_id, name, description, definition, created_by_key_id, created_at, updated_at "
            "from saved_segments where ? is null or tenant_id = ? order by tenant_id, segment_id",
            [tenant_id, tenant_id],
        ).fetchall()
    return [
        SavedSegment(r[0], r[1], r[2], r[3], SegmentFilters.from_json(r[4]), r[5], r[6], r[7]) for r in rows
    ]


def delete_segment(tenant_id: str, segment_id: str, settings: Settings | None = None) -> bool:
    with ops_db(settings) as con:
        con.execute(SCHEMA.strip().rstrip(";"))
        cursor = con.execute(
            "delete from saved_segments where tenant_id = ? and segment_id = ?", [tenant_id, segment_id]
        )
        return cursor.rowcount == 1


# The members of a segment definition (a SegmentFilters, parameters from segment_params): the
# statement the pipeline runs too, so a saved segment means the same thing everywhere.
SEGMENT_MEMBERS_SQL = """
select customer_id
from customer_360
where tenant_id = ?
  and (len(?::varchar[]) = 0 or list_contains(?::varchar[], lifecycle_stage))
  and (len(?::varchar[]) = 0 or list_contains(?::varchar[], country))
  and (len(?::varchar[]) = 0 or list_contains(?::varchar[], rfm_segment))
  and (len(?::varchar[]) = 0 or len(list_intersect(coalesce(tags, []), ?::varchar[])) > 0)
  and (?::double is null or coalesce(total_revenue, 0) >= ?::double)
  and (?::double is null or coalesce(total_revenue, 0) <= ?::double)
  and (?::bigint is null or coalesce(order_count, 0) >= ?::bigint)
  and (?::bigint is null or last_activity_at >= (
        select max(last_activity_at) from customer_360 where tenant_id = ?) - to_days(?::bigint))
  and (?::varchar is null
       or ((consents::json -> coalesce(?::varchar, 'none')) ->> 'marketing') = 'granted')
"""


def segment_params(tenant: str, filters: SegmentFilters) -> list[Any]:
    """Parameters of SEGMENT_MEMBERS_SQL for a SegmentFilters."""
    f = filters
    return [
        tenant,
        list(f.lifecycle_stages),
        list(f.lifecycle_stages),
        list(f.countries),
        list(f.countries),
        list(f.rfm_segments),
        list(f.rfm_segments),
        list(f.tags),
        list(f.tags),
        f.min_revenue,
        f.min_revenue,
        f.max_revenue,
        f.max_revenue,
        f.min_orders,
        f.min_orders,
        f.active_within_days,
        tenant,
        f.active_within_days,
        f.consent_channel,
        f.consent_channel,
    ]

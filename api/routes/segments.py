"""Segments, their members, and their consent-filtered export for activation."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import SegmentsExporter, SegmentsReader, State
from api.errors import no_snapshot, not_found
from api.masking import mask_name
from api.routes.pages import masked_rows, page_body
from api.schemas import (
    CONSENT_CHANNELS,
    CONSENT_PURPOSES,
    SegmentExportPage,
    SegmentMembersPage,
    SegmentsPage,
)
from api.serving import ServingData

router = APIRouter(prefix="/v1/segments", tags=["segments"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000)]


def _segments_sql(data: ServingData) -> str:
    counts = (
        "select tenant_id, segment_id, count(distinct customer_id) as member_count "
        "from segment_members group by all"
    )
    if "segments" in data.tables:
        return (
            f"select {data.select_list('segments', 's')}, coalesce(m.member_count, 0) as member_count "
            "from segments s "
            f"left join ({counts}) m using (tenant_id, segment_id)"
        )
    return counts


@router.get("", response_model=SegmentsPage)
def list_segments(
    principal: SegmentsReader, state: State, limit: Limit = 100, offset: Offset = 0
) -> Response:
    """The tenant's segments with their member counts."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        rows = []
        if "segment_members" in data.tables or "segments" in data.tables:
            source = (
                _segments_sql(data)
                if "segment_members" in data.tables
                else f"select {data.select_list('segments', 's')}, 0 as member_count from segments s"
            )
            rows = data.query(
                f"select to_json(s)::varchar from ({source}) s where tenant_id = ? "
                "order by segment_id limit ? offset ?",
                [principal.tenant_id, limit + 1, offset],
            )
        return Response(page_body(rows, limit, offset, data.version), media_type="application/json")


def _segment_exists(data: ServingData, tenant_id: str, segment_id: str) -> bool:
    for table in ("segments", "segment_members"):
        if table in data.tables and data.query(
            f"select 1 from {table} where tenant_id = ? and segment_id = ? limit 1", [tenant_id, segment_id]
        ):
            return True
    return False


@router.get("/{segment_id}/members", response_model=SegmentMembersPage)
def list_segment_members(
    segment_id: str, principal: SegmentsReader, state: State, limit: Limit = 100, offset: Offset = 0
) -> Response:
    """The customers in one segment, by customer id, paginated."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        if not _segment_exists(data, principal.tenant_id, segment_id):
            principal.audit("segments.members.read", "segment", segment_id, 404)
            raise not_found("segment")
        rows = []
        if "segment_members" in data.tables:
            rows = data.query(
                f"select to_json(r)::varchar from (select {data.select_list('segment_members', 'm')} "
                "from segment_members m where m.tenant_id = ? and m.segment_id = ? "
                "order by m.customer_id limit ? offset ?) r",
                [principal.tenant_id, segment_id, limit + 1, offset],
            )
        principal.audit("segments.members.read", "segment", segment_id, pii=principal.sees_pii)
        body = page_body(
            masked_rows(rows, principal.sees_pii), limit, offset, data.version, segment_id=segment_id
        )
        return Response(body, media_type="application/json")


# Which customer_360 column holds the address an activation on each channel needs.
EXPORT_ADDRESS = {"email": "email", "sms": "phone", "whatsapp": "phone", "phone": "phone", "push": "user_id"}
ExportLimit = Annotated[int, Query(ge=1, le=10_000, description="rows per page")]


def _export_sql(
    data: ServingData, tenant_id: str, segment_id: str, channel: str, purpose: str
) -> tuple[str, dict[str, Any]]:
    """Members of one segment, each with whether it has a current granted consent for
    (channel, purpose), and the channel's address. Fails closed: a member
    without a consent record for that channel and purpose, or whose latest one is not
    ``granted``, has no row in ``consented`` and is left out; so is one without an address
    for the channel. ``consent_history`` (the privacy mart) is the source; a snapshot
    built before it existed falls back to customer_360's ``consents`` (channel -> purpose
    -> latest status), which says the same without the time and source. With neither,
    nobody is exported.
    """
    profile = data.tables.get("customer_360", {})
    address = EXPORT_ADDRESS[channel]
    params: dict[str, Any] = {"tenant": tenant_id, "segment": segment_id}
    if "consent_history" in data.tables:
        params |= {"channel": channel, "purpose": purpose}
        consented = (
            "select customer_id, max(recorded_at) as consented_at, arg_max(source_system, recorded_at) as consent_source "
            "from consent_history where tenant_id = $tenant and channel = $channel and purpose = $purpose "
            "and is_current and status = 'granted' group by customer_id"
        )
    elif "consents" in profile:
        params["path"] = f'$."{channel}"."{purpose}"'
        consented = (
            "select customer_id, null::timestamptz as consented_at, 'customer_360' as consent_source "
            "from customer_360 where tenant_id = $tenant and json_extract_string(consents, $path) = 'granted'"
        )
    else:
        consented = "select null::varchar as customer_id, null::timestamptz as consented_at, null as consent_source where false"
    names = [f"c.{column}" for column in ("first_name", "last_name") if column in profile]
    sql = f"""
        with members as (
            select distinct customer_id from segment_members where tenant_id = $tenant and segment_id = $segment
        ),
        consented as ({consented}),
        joined as (
            select
                m.customer_id,
                {f"c.{address}" if address in profile else "null::varchar"} as address,
                {", ".join(names) + "," if names else ""}
                k.consented_at,
                k.consent_source,
                k.customer_id is not null as has_consent
            from members m
            left join consented k using (customer_id)
            left join customer_360 c on c.tenant_id = $tenant and c.customer_id = m.customer_id
        )
        select * from joined
    """
    return sql, params


@router.get(
    "/{segment_id}/export",
    response_model=SegmentExportPage,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def export_segment(
    segment_id: str,
    principal: SegmentsExporter,
    state: State,
    channel: Annotated[Literal[CONSENT_CHANNELS], Query(description="the channel the list is for")],  # type: ignore[valid-type]
    purpose: Annotated[
        Literal[CONSENT_PURPOSES], Query(description="the purpose consented to")
    ] = "marketing",  # type: ignore[valid-type]
    format: Annotated[Literal["json", "csv"], Query(description="json (a page object) or csv")] = "json",
    limit: ExportLimit = 1_000,
    offset: Offset = 0,
) -> Response:
    """The segment's members with a current granted consent for the channel and purpose, with their address."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        if not _segment_exists(data, principal.tenant_id, segment_id):
            principal.audit("segments.export", "segment", segment_id, 404)
            raise not_found("segment")
        address = EXPORT_ADDRESS[channel]
        rows: list[tuple] = []
        members = exported = 0
        if "segment_members" in data.tables and "customer_360" in data.tables:
            sql, params = _export_sql(data, principal.tenant_id, segment_id, channel, purpose)
            members, exported = data.query(
                f"select count(*), count(*) filter (where has_consent and address is not null) from ({sql})",
                params,
            )[0]
            rows = data.query(
                "select to_json(r)::varchar from (select customer_id, address as "
                f'"{address}", * exclude (customer_id, address, has_consent, consented_at), '
                "strftime(timezone('UTC', consented_at), '%Y-%m-%dT%H:%M:%S.%fZ') as consented_at "
                f"from ({sql}) where has_consent and address is not null "
                "order by customer_id limit $limit offset $offset) r",
                params | {"limit": limit + 1, "offset": offset},
            )
        items = [json.loads(row[0]) for row in rows]
        if not principal.sees_pii:
            # The channel's address is what the consent permits using; names are not.
            for item in items:
                for column in ("first_name", "last_name"):
                    if column in item:
                        item[column] = mask_name(item[column])
        more = len(items) > limit
        page = items[:limit]
        principal.audit(
            "segments.export",
            "segment",
            segment_id,
            pii=bool(page),
            detail=(
                f"channel={channel} purpose={purpose} format={format} offset={offset} "
                f"members={members} consented={exported} excluded={members - exported} rows={len(page)}"
            ),
        )
        if format == "csv":
            out = io.StringIO()
            columns = ["customer_id", address, "first_name", "last_name", "consented_at", "consent_source"]
            writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
            writer.writeheader()
            writer.writerows(page)
            headers = {"X-Snapshot-Version": data.version}
            if more:
                headers["X-Next-Offset"] = str(offset + limit)
            return Response(out.getvalue(), media_type="text/csv", headers=headers)
        body = page_body(
            [(json.dumps(item, separators=(",", ":")),) for item in items],
            limit,
            offset,
            data.version,
            segment_id=segment_id,
            channel=channel,
            purpose=purpose,
        )
        return Response(body, media_type="application/json", headers={"X-Snapshot-Version": data.version})

"""Segments and their members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import SegmentsReader, State
from api.errors import no_snapshot, not_found
from api.routes.pages import page_body
from api.schemas import SegmentMembersPage, SegmentsPage
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


@router.get("/{segment_id}/members", response_model=SegmentMembersPage)
def list_segment_members(
    segment_id: str, principal: SegmentsReader, state: State, limit: Limit = 100, offset: Offset = 0
) -> Response:
    """The customers in one segment, by customer id, paginated."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        exists = []
        for table in ("segments", "segment_members"):
            if table in data.tables and not exists:
                exists = data.query(
                    f"select 1 from {table} where tenant_id = ? and segment_id = ? limit 1",
                    [principal.tenant_id, segment_id],
                )
        if not exists:
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
        principal.audit("segments.members.read", "segment", segment_id)
        body = page_body(rows, limit, offset, data.version, segment_id=segment_id)
        return Response(body, media_type="application/json")

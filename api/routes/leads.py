"""Leads ranked by their lead score."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import LeadsReader, State
from api.errors import no_snapshot
from api.routes.pages import masked_rows, page_body
from api.schemas import LeadsPage

router = APIRouter(prefix="/v1/leads", tags=["leads"])


@router.get("", response_model=LeadsPage)
def list_leads(
    principal: LeadsReader,
    state: State,
    owner_id: Annotated[str | None, Query(max_length=200, description="the owning user's record id")] = None,
    stage: Annotated[str | None, Query(max_length=100, description="lead stage, e.g. mql")] = None,
    min_score: Annotated[
        float | None, Query(ge=-1e12, le=1e12, description="lowest score to include")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> Response:
    """Leads ordered by score (highest first), filtered by owner, stage and minimum score."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        if data.leads_sql is None:
            body = page_body([], limit, offset, data.version, status="unavailable")
            return Response(body, media_type="application/json")
        columns = data.tables["lead_scores"]
        where, params = ["tenant_id = ?"], [principal.tenant_id]
        for column, value in (("owner_id", owner_id), ("stage", stage)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if min_score is not None:
            where.append("score >= ?")
            params.append(min_score)
        order = "score desc nulls last, customer_id" if "score" in columns else "customer_id"
        rows = data.query(
            f"select to_json(l)::varchar from ({data.leads_sql}) l where {' and '.join(where)} "
            f"order by {order} limit ? offset ?",
            [*params, limit + 1, offset],
        )
        principal.audit("leads.read", "leads", None, pii=principal.sees_pii)
        body = page_body(masked_rows(rows, principal.sees_pii), limit, offset, data.version, status="ok")
        return Response(body, media_type="application/json")

"""The audit log, for the tenant's admins."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.audit import query_audit
from api.deps import AuditReader, State
from api.schemas import AuditPage, AuditRecord, IsoDatetime

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.get("", response_model=AuditPage)
def list_audit_records(
    principal: AuditReader,
    state: State,
    since: Annotated[IsoDatetime | None, Query(description="records at or after this time")] = None,
    until: Annotated[IsoDatetime | None, Query(description="records before this time")] = None,
    action: Annotated[str | None, Query(max_length=100, description="e.g. customers.read")] = None,
    key_id: Annotated[str | None, Query(max_length=100)] = None,
    object_id: Annotated[str | None, Query(max_length=200, description="e.g. a customer id")] = None,
    pii: Annotated[bool | None, Query(description="only reads that returned personal data unmasked")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> AuditPage:
    """Who read whose personal data or changed what, newest first (this tenant only)."""
    state.audit_log.flush()
    rows = query_audit(
        state.settings,
        principal.tenant_id,
        since=since,
        until=until,
        action=action,
        key_id=key_id,
        object_id=object_id,
        pii=pii,
        limit=limit + 1,
        offset=offset,
    )
    more = len(rows) > limit
    return AuditPage(
        limit=limit,
        offset=offset,
        next_offset=offset + limit if more else None,
        items=[AuditRecord(**row) for row in rows[:limit]],
    )

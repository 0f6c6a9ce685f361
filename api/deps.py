"""The Annotated dependencies handlers declare: the caller, their permission, the snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.openapi.models import HTTPBase as HTTPBaseModel
from fastapi.security.base import SecurityBase

from api.audit import AuditLog
from api.auth import KeyRing, Principal, key_from_authorization
from api.errors import ApiError, no_snapshot
from api.landing import EventWriter
from api.permissions import PERMISSIONS
from api.serving import ServingData, ServingStore
from warehouse.settings import Settings


@dataclass
class AppState:
    settings: Settings
    store: ServingStore
    keyring: KeyRing
    audit_log: AuditLog
    event_writer: EventWriter


class _AuthorizationHeader(SecurityBase):
    """Returns the raw Authorization header; declared so /docs shows the scheme."""

    def __init__(self, scheme: str, name: str, description: str):
        self.model = HTTPBaseModel(scheme=scheme, description=description)
        self.scheme_name = name

    async def __call__(self, request: Request) -> str | None:
        return request.headers.get("authorization")


bearer_key = _AuthorizationHeader(
    "bearer", "apiKey", "`Authorization: Bearer <API key>`; the key as basic-auth user name works too."
)
write_key = _AuthorizationHeader(
    "basic",
    "writeKey",
    "Segment-style: the write key (an `ingest` API key) as basic-auth user name, no password.",
)


_QUERY_NAMES: dict[int, frozenset[str]] = {}


def _query_names(dependant: Any) -> set[str]:
    names = {param.alias for param in dependant.query_params}
    for sub in dependant.dependencies:
        names |= _query_names(sub)
    return names


async def reject_unknown_query(request: Request) -> None:
    """Unknown query parameters are an error, as unknown body fields are (a typo must not pass)."""
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if route is None:
        return
    known = _QUERY_NAMES.get(id(route))
    if known is None:
        known = _QUERY_NAMES[id(route)] = frozenset(_query_names(route.dependant))
    unknown = sorted(set(request.query_params) - known)
    if unknown:
        raise ApiError(400, "unknown_parameter", f"unknown query parameter(s): {', '.join(unknown)}")


async def app_state(request: Request) -> AppState:
    return request.app.state.crm360


def authorize(state: AppState, authorization: str | None, action: str) -> Principal:
    principal = state.keyring.principal(key_from_authorization(authorization))
    if principal.role not in PERMISSIONS[action]:
        raise ApiError(403, "forbidden", f"the {principal.role} role may not use this endpoint ({action})")
    return principal


def require(action: str):
    """A dependency that authenticates the caller and checks ``action`` in the permission table."""

    async def dependency(
        request: Request, authorization: Annotated[str | None, Depends(bearer_key)]
    ) -> Principal:
        return authorize(request.app.state.crm360, authorization, action)

    dependency.__name__ = f"require_{action.replace('.', '_')}"
    return dependency


async def serving(request: Request) -> ServingData:
    data = request.app.state.crm360.store.current
    if data is None:
        raise no_snapshot()
    return data


State = Annotated[AppState, Depends(app_state)]
Serving = Annotated[ServingData, Depends(serving)]
CustomersReader = Annotated[Principal, Depends(require("customers.read"))]
TimelineReader = Annotated[Principal, Depends(require("timeline.read"))]
ScoresReader = Annotated[Principal, Depends(require("scores.read"))]
LeadsReader = Annotated[Principal, Depends(require("leads.read"))]
SegmentsReader = Annotated[Principal, Depends(require("segments.read"))]
SegmentsExporter = Annotated[Principal, Depends(require("segments.export"))]
ConsentsWriter = Annotated[Principal, Depends(require("consents.write"))]
ErasuresWriter = Annotated[Principal, Depends(require("erasures.write"))]
ErasuresReader = Annotated[Principal, Depends(require("erasures.read"))]
AuditReader = Annotated[Principal, Depends(require("audit.read"))]
StatusReader = Annotated[Principal, Depends(require("status.read"))]
WriteKeyHeader = Annotated[str | None, Depends(write_key)]

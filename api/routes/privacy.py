"""Consent changes and erasure requests: recorded durably, carried out by the pipeline."""

from __future__ import annotations

import csv
import io
import secrets
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from api.deps import ConsentsWriter, ErasuresReader, ErasuresWriter, State
from api.errors import not_found
from api.idempotency import remember, replay
from api.landing import durable_write, unique_name
from api.schemas import ConsentIn, ConsentRecorded, Erasure, ErasureIn
from warehouse.contract import CRM_ENTITIES
from warehouse.privacy_requests import create_erasure, get_erasure

router = APIRouter(prefix="/v1", tags=["privacy"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        max_length=200,
        description="retrying with the same key returns the first answer and records nothing new",
    ),
]
CONSENT_COLUMNS = [column.name for column in CRM_ENTITIES["consents"]]


def _consent_csv(tenant_id: str, consent_id: str, body: ConsentIn, now: datetime) -> bytes:
    row = {
        "tenant_id": tenant_id,
        "source_system": "api",
        "record_id": consent_id,
        "updated_at": now.isoformat(),
        "contact_id": body.contact_id,
        "email": body.email,
        "phone": body.phone,
        "purpose": body.purpose,
        "channel": body.channel,
        "status": body.status,
        "source": body.source,
        "occurred_at": (body.occurred_at or now).isoformat(),
    }
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CONSENT_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerow({column: row.get(column) for column in CONSENT_COLUMNS})
    return out.getvalue().encode()


def _json(status: int, body: bytes) -> Response:
    return Response(body, status_code=status, media_type="application/json")


@router.post("/consents", status_code=202, response_model=ConsentRecorded)
async def record_consent(
    body: ConsentIn, principal: ConsentsWriter, state: State, idempotency_key: IdempotencyKey = None
) -> Response:
    """Record a consent granted or withdrawn; it reaches customer 360 with the next pipeline run."""
    settings = state.settings
    if idempotency_key and (
        seen := await run_in_threadpool(replay, settings, principal.tenant_id, "consents", idempotency_key)
    ):
        return _json(*seen)
    now = datetime.now(UTC)
    consent_id = "cns_" + secrets.token_hex(8)
    folder = settings.landing_dir / "crm" / "consents"
    await run_in_threadpool(
        durable_write,
        folder,
        unique_name(f"-api-{principal.tenant_id}.csv"),
        _consent_csv(principal.tenant_id, consent_id, body, now),
    )
    principal.audit("consents.write", "consent", consent_id, 202)
    answer = (
        ConsentRecorded(consent_id=consent_id, status="recorded", recorded_at=now).model_dump_json().encode()
    )
    if idempotency_key:
        return _json(
            *await run_in_threadpool(
                remember, settings, principal.tenant_id, "consents", idempotency_key, 202, answer
            )
        )
    return _json(202, answer)


@router.post("/privacy/erasures", status_code=202, response_model=Erasure)
def request_erasure(
    body: ErasureIn, principal: ErasuresWriter, state: State, idempotency_key: IdempotencyKey = None
) -> Response:
    """Ask for a person's data to be erased everywhere; poll the returned id for its status."""
    settings = state.settings
    if idempotency_key and (seen := replay(settings, principal.tenant_id, "erasures", idempotency_key)):
        return _json(*seen)
    identifiers = body.identifiers.model_dump(exclude_none=True)
    data = state.store.current
    # Another tenant's customer id is unknown here, like any other unknown id.
    if (
        "customer_id" in identifiers
        and data is not None
        and data.resolve(principal.tenant_id, identifiers["customer_id"]) is None
    ):
        raise not_found("customer")
    record = create_erasure(principal.tenant_id, identifiers, principal.key_id, body.reason, settings)
    principal.audit("erasures.write", "erasure_request", record["request_id"], 202)
    answer = Erasure(**record).model_dump_json().encode()
    if idempotency_key:
        return _json(*remember(settings, principal.tenant_id, "erasures", idempotency_key, 202, answer))
    return _json(202, answer)


@router.get("/privacy/erasures/{request_id}", response_model=Erasure)
def get_erasure_status(request_id: str, principal: ErasuresReader, state: State) -> Erasure:
    """The status of an erasure request: received, in_progress, completed or rejected."""
    record = get_erasure(principal.tenant_id, request_id, state.settings)
    if record is None:
        principal.audit("erasures.read", "erasure_request", request_id, 404)
        raise not_found("erasure request")
    principal.audit("erasures.read", "erasure_request", request_id)
    return Erasure(**record)

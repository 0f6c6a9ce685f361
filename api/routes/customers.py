"""Customer 360 reads: profile, identifier lookup, timeline, scores."""

from __future__ import annotations

import json
import re
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response

from api.deps import CustomersReader, ScoresReader, Serving, State, TimelineReader
from api.errors import ApiError, no_snapshot, not_found
from api.routes.pages import masked_rows
from api.schemas import Customer360, CustomerScores, TimelinePage
from api.serving import ServingData, dict_key

router = APIRouter(prefix="/v1/customers", tags=["customers"])

_PHONE_EXTENSION = re.compile(r"\s*(x|ext\.?|extension|#)\s*[0-9]+\s*$", re.IGNORECASE)
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="items to skip")]


def normalise(identifier_type: str, value: str) -> str:
    """The form customer_identifiers stores, as dbt's normalize macros make it.

    Email: trimmed, lower-cased, plus-tag dropped, gmail dots dropped. Phone: separators
    and extensions dropped, ``00`` read as ``+``; a number without its country code
    cannot be completed here (dbt uses the tenant's country), so send E.164.
    """
    value = value.strip()
    if identifier_type == "email":
        local, at, domain = value.lower().partition("@")
        local = local.split("+", 1)[0]
        if domain in ("gmail.com", "googlemail.com"):
            local, domain = local.replace(".", ""), "gmail.com"
        return f"{local}{at}{domain}"
    if identifier_type == "phone":
        value = _PHONE_EXTENSION.sub("", value)
        digits = "".join(ch for ch in value if ch.isdigit())
        if value.startswith("+"):
            return "+" + digits
        return "+" + digits[2:] if digits.startswith("00") else digits
    return value


def _json_response(body: bytes, data: ServingData, requested: str, survivor: str) -> Response:
    headers = {"X-Snapshot-Version": data.version}
    if survivor != requested:
        # A merged-away id answers with the surviving customer, and says so.
        headers["Content-Location"] = f"/v1/customers/{survivor}"
        headers["X-Merged-Into"] = survivor
    return Response(body, media_type="application/json", headers=headers)


@router.get("", response_model=Customer360)
async def lookup_customer(
    principal: CustomersReader,
    data: Serving,
    email: Annotated[str | None, Query(max_length=320)] = None,
    phone: Annotated[str | None, Query(max_length=40)] = None,
    user_id: Annotated[str | None, Query(max_length=200)] = None,
    anonymous_id: Annotated[str | None, Query(max_length=200)] = None,
    external_id: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    """Find a customer by identifier (several must agree); a merged-away customer answers with the survivor."""
    given = {
        name: value
        for name, value in (
            ("email", email),
            ("phone", phone),
            ("user_id", user_id),
            ("anonymous_id", anonymous_id),
            ("external_id", external_id),
        )
        if value is not None
    }
    if not given:
        raise ApiError(
            400, "identifier_required", "give one of email, phone, user_id, anonymous_id, external_id"
        )
    # Several identifiers must all lead to the same customer.
    found = {data.lookup(principal.tenant_id, kind, normalise(kind, value)) for kind, value in given.items()}
    customer_id = found.pop() if len(found) == 1 else None
    if customer_id is None:
        # The audit names the kinds of identifier, never their values.
        principal.audit("customers.lookup", "identifier:" + "+".join(sorted(given)), None, 404)
        raise not_found("customer")
    principal.audit("customers.lookup", "customer", customer_id, pii=principal.sees_pii)
    body = data.profile(dict_key(principal.tenant_id, customer_id), principal.sees_pii)
    return _json_response(body, data, customer_id, customer_id)


@router.get("/{customer_id}", response_model=Customer360)
async def get_customer(customer_id: str, principal: CustomersReader, data: Serving) -> Response:
    """The customer 360: golden record, lifecycle stage, segments, consents, revenue, counts, activity."""
    survivor = data.resolve(principal.tenant_id, customer_id)
    if survivor is None:
        principal.audit("customers.read", "customer", customer_id, 404)
        raise not_found("customer")
    principal.audit("customers.read", "customer", survivor, pii=principal.sees_pii)
    body = data.profile(dict_key(principal.tenant_id, survivor), principal.sees_pii)
    return _json_response(body, data, customer_id, survivor)


@router.get("/{customer_id}/scores", response_model=CustomerScores)
async def get_customer_scores(customer_id: str, principal: ScoresReader, data: Serving) -> Response:
    """Lead score, churn probability and customer value, with model versions and reasons."""
    survivor = data.resolve(principal.tenant_id, customer_id)
    if survivor is None:
        principal.audit("scores.read", "customer", customer_id, 404)
        raise not_found("customer")
    principal.audit("scores.read", "customer", survivor)
    return _json_response(data.scores[dict_key(principal.tenant_id, survivor)], data, customer_id, survivor)


@router.get("/{customer_id}/timeline", response_model=TimelinePage)
def get_customer_timeline(
    customer_id: str, principal: TimelineReader, state: State, limit: Limit = 50, offset: Offset = 0
) -> Response:
    """The customer's activities across sources, newest first, paginated."""
    with state.store.lease() as data:
        if data is None:
            raise no_snapshot()
        survivor = data.resolve(principal.tenant_id, customer_id)
        if survivor is None:
            principal.audit("timeline.read", "customer", customer_id, 404)
            raise not_found("customer")
        rows: list[tuple] = []
        if "customer_timeline" in data.tables:
            order = "t.occurred_at desc" if "occurred_at" in data.tables["customer_timeline"] else "1"
            rows = data.query(
                f"select to_json(r)::varchar from (select {data.select_list('customer_timeline', 't')} "
                "from customer_timeline t where t.tenant_id = ? and t.customer_id = ? "
                f"order by {order} limit ? offset ?) r",
                [principal.tenant_id, survivor, limit + 1, offset],
            )
        rows = masked_rows(rows, principal.sees_pii)
        principal.audit("timeline.read", "customer", survivor, pii=principal.sees_pii)
        more = len(rows) > limit
        body = b"".join(
            [
                b'{"customer_id":',
                json.dumps(survivor).encode(),
                b',"items":[',
                b",".join(row[0].encode() for row in rows[:limit]),
                b'],"limit":',
                str(limit).encode(),
                b',"offset":',
                str(offset).encode(),
                b',"next_offset":',
                str(offset + limit).encode() if more else b"null",
                b',"snapshot_version":',
                json.dumps(data.version).encode(),
                b"}",
            ]
        )
        return _json_response(body, data, customer_id, survivor)

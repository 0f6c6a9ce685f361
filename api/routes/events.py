"""Segment-compatible event collection: /v1/batch, /v1/track, /v1/identify, ...

Segment's and RudderStack's libraries send here unchanged: the write key (an ``ingest``
API key) is the basic-auth user name, or ``writeKey`` in a batch body. The answer is 200
only after the messages are durably in landing/events/<tenant>/. A batch is accepted or
rejected whole: 400 lists every problem, message by message, and nothing is written.
"""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.deps import WriteKeyHeader, authorize
from api.errors import ApiError
from api.schemas import EventsAccepted
from api.segment import BATCH_SCHEMA, MessageTooLarge, message_schema, prepare, validate_envelope
from warehouse.contract import MAX_BATCH_BYTES, MAX_MESSAGE_BYTES

router = APIRouter(prefix="/v1", tags=["events"])

_ACCEPTED = {"content": {"application/json": {"example": {"success": True, "accepted": 1}}}}


def _too_large(message: str) -> ApiError:
    return ApiError(413, "payload_too_large", message)


async def _read_body(request: Request, limit: int) -> bytes:
    """The request body, decompressed if gzipped, refusing anything over ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(f"the request body is over {limit} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(f"the request body is over {limit} bytes")
        chunks.append(chunk)
    body = b"".join(chunks)
    if request.headers.get("content-encoding", "").lower() == "gzip":
        inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        try:
            body = inflater.decompress(body, limit + 1)
        except zlib.error:
            raise ApiError(400, "malformed_gzip", "the body is not valid gzip") from None
        if len(body) > limit or inflater.unconsumed_tail:
            raise _too_large(f"the decompressed body is over {limit} bytes")
    return body


def _parse(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "malformed_json", "the body is not valid JSON") from None


async def _collect(request: Request, authorization: str | None, message_type: str | None) -> Response:
    state = request.app.state.crm360
    principal = authorize(state, authorization, "events.write") if authorization else None
    limit = MAX_BATCH_BYTES if message_type is None else MAX_MESSAGE_BYTES
    payload = _parse(await _read_body(request, limit))
    if not isinstance(payload, dict):
        raise ApiError(400, "malformed_json", "the body must be a JSON object")
    if message_type is None and (problems := validate_envelope(payload)):
        raise ApiError(
            400,
            "invalid_batch",
            "; ".join(text for _, _, text in problems),
            details=[{"code": code, "field": field, "message": text} for code, field, text in problems],
        )
    write_key = payload.get("writeKey")
    if principal is None:
        principal = authorize(
            state, f"Bearer {write_key}" if isinstance(write_key, str) else None, "events.write"
        )
    received_at = datetime.now(UTC).isoformat()
    if message_type is None:
        messages = payload["batch"]
        extras = {
            "batch_context": payload.get("context"),
            "batch_integrations": payload.get("integrations"),
            "batch_sent_at": payload.get("sentAt"),
        }
    else:
        payload.pop("writeKey", None)
        messages, extras = [payload], {}
    try:
        lines, errors = prepare(messages, message_type, received_at, **extras)
    except MessageTooLarge as exc:
        raise ApiError(
            413,
            "message_too_large",
            f"{len(exc.indexes)} message(s) over {MAX_MESSAGE_BYTES} bytes",
            details=[{"index": i, "code": "oversize_message"} for i in exc.indexes],
        ) from None
    if errors:
        raise ApiError(
            400,
            "invalid_messages",
            f"{len({e['index'] for e in errors})} of {len(messages)} message(s) are invalid; nothing was written",
            details=errors,
        )
    if lines:
        file_name = await state.event_writer.write(principal.tenant_id, lines)
        principal.audit("events.write", "landing_file", file_name)
    return Response(
        json.dumps({"success": True, "accepted": len(messages)}).encode(), media_type="application/json"
    )


def _body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


@router.post(
    "/batch", response_model=EventsAccepted, responses={200: _ACCEPTED}, openapi_extra=_body(BATCH_SCHEMA)
)
async def batch(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment batch: up to 500 KB of messages of any type, accepted or rejected whole."""
    return await _collect(request, authorization, None)


@router.post("/track", response_model=EventsAccepted, openapi_extra=_body(message_schema("track")))
async def track(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment track: an action the user performed."""
    return await _collect(request, authorization, "track")


@router.post("/identify", response_model=EventsAccepted, openapi_extra=_body(message_schema("identify")))
async def identify(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment identify: who the user is, with traits."""
    return await _collect(request, authorization, "identify")


@router.post("/page", response_model=EventsAccepted, openapi_extra=_body(message_schema("page")))
async def page(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment page: a web page view."""
    return await _collect(request, authorization, "page")


@router.post("/screen", response_model=EventsAccepted, openapi_extra=_body(message_schema("screen")))
async def screen(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment screen: a mobile screen view."""
    return await _collect(request, authorization, "screen")


@router.post("/group", response_model=EventsAccepted, openapi_extra=_body(message_schema("group")))
async def group(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment group: the user's company or account."""
    return await _collect(request, authorization, "group")


@router.post("/alias", response_model=EventsAccepted, openapi_extra=_body(message_schema("alias")))
async def alias(request: Request, authorization: WriteKeyHeader) -> Response:
    """Segment alias: merge a previous id into the user id."""
    return await _collect(request, authorization, "alias")

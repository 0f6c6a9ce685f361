"""Segment's HTTP tracking API shapes: validation and what gets written to landing/.

The rules are the landing contract's (warehouse/contract.py): a known message type,
one of userId and anonymousId, an event name for track, groupId for group, previousId
and userId for alias, objects for context/properties/traits, ISO 8601 times, at most
MAX_MESSAGE_BYTES a message. Reason codes are the quarantine's, so a message the API
rejects and a row the loader would quarantine are described the same way.

Unknown fields are kept, not rejected: Segment's and RudderStack's libraries add their
own (``_metadata``, ``channel``, ``originalTimestamp``...), and the platform must accept
them unchanged. Missing ``messageId``: derived from the message's content, so that a
client retrying the same message sends the same id. Missing ``timestamp``: the time the
API received it, as Segment does; ``receivedAt`` is always added.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from typing import Any

from warehouse.contract import EVENT_TYPES, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES

# The libraries send absent fields as explicit nulls, so every optional field may be null
# (and null counts as absent); a field a type requires must be present and not null.
_ID = {"type": ["string", "integer", "null"], "minLength": 1}
_ID_REQUIRED = {"type": ["string", "integer"], "minLength": 1}
_TIME = {"type": ["string", "null"], "format": "date-time"}
_OBJECT = {"type": ["object", "null"]}
_COMMON_PROPERTIES: dict[str, Any] = {
    "type": {"type": "string", "enum": list(EVENT_TYPES)},
    "messageId": {"type": ["string", "null"], "minLength": 1},
    "userId": _ID,
    "anonymousId": _ID,
    "timestamp": _TIME,
    "sentAt": _TIME,
    "originalTimestamp": _TIME,
    "context": _OBJECT,
    "integrations": _OBJECT,
    "properties": _OBJECT,
    "traits": _OBJECT,
    "event": {"type": ["string", "null"], "minLength": 1},
    "name": {"type": ["string", "null"]},
    "groupId": _ID,
    "previousId": _ID,
}
_WHO = [
    {"required": ["userId"], "properties": {"userId": _ID_REQUIRED}},
    {"required": ["anonymousId"], "properties": {"anonymousId": _ID_REQUIRED}},
]
_REQUIRED_BY_TYPE = {
    "track": {"event": {"type": "string", "minLength": 1}},
    "group": {"groupId": _ID_REQUIRED},
    "alias": {"previousId": _ID_REQUIRED, "userId": _ID_REQUIRED},
}


def message_schema(message_type: str, *, in_batch: bool = False) -> dict[str, Any]:
    """JSON schema of a message of one type, as sent to its endpoint or as a batch item."""
    properties = dict(_COMMON_PROPERTIES)
    properties["type"] = (
        {"type": "string", "enum": [message_type]}
        if in_batch
        else {"type": ["string", "null"], "enum": [message_type, None]}  # the endpoint names it
    )
    properties.update(_REQUIRED_BY_TYPE.get(message_type, {}))
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": True,
        "description": "A Segment-spec message; fields beyond these are kept as sent; null means absent.",
    }
    required = (["type"] if in_batch else []) + list(_REQUIRED_BY_TYPE.get(message_type, {}))
    if required:
        schema["required"] = required
    if message_type != "alias":
        schema["anyOf"] = _WHO
    return schema


BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["batch"],
    "properties": {
        "batch": {
            "type": "array",
            "items": {"oneOf": [message_schema(kind, in_batch=True) for kind in EVENT_TYPES]},
        },
        "context": _OBJECT,
        "integrations": _OBJECT,
        "sentAt": _TIME,
        "writeKey": {"type": "string"},
    },
    "additionalProperties": True,
    "description": f"At most {MAX_BATCH_BYTES // 1024} KB, each message at most {MAX_MESSAGE_BYTES // 1024} KB.",
}


class MessageTooLarge(Exception):
    def __init__(self, indexes: list[int]):
        super().__init__(f"messages over {MAX_MESSAGE_BYTES} bytes: {indexes}")
        self.indexes = indexes


def _parse_time(value: Any) -> bool:
    if not isinstance(value, str) or "T" not in value.upper():
        return False
    try:
        datetime.fromisoformat(value.upper())
    except ValueError:
        return False
    return True


def _is_id(value: Any) -> bool:
    return (isinstance(value, str) and value != "") or (
        isinstance(value, int) and not isinstance(value, bool)
    )


def validate_message(message: Any, message_type: str | None) -> list[tuple[str, str, str]]:
    """Problems with one message as (reason code, field, explanation); empty when valid.

    A field whose value is null counts as absent, as the libraries send it.
    """
    if not isinstance(message, dict):
        return [("wrong_type", "", "a message must be a JSON object")]
    present = {key for key, value in message.items() if value is not None}
    problems: list[tuple[str, str, str]] = []
    kind = message.get("type") if "type" in present else message_type
    if message_type is not None and kind != message_type:
        problems.append(("invalid_value", "type", f"this endpoint takes {message_type} messages"))
    elif kind is None:
        problems.append(("missing_required_field", "type", "type is required in a batch"))
    elif kind not in EVENT_TYPES:
        problems.append(("invalid_value", "type", f"type must be one of {', '.join(EVENT_TYPES)}"))
    for field in ("userId", "anonymousId", "groupId", "previousId"):
        if field in present and not _is_id(message[field]):
            problems.append(("wrong_type", field, f"{field} must be a non-empty string or an integer"))
    if "messageId" in present and not (isinstance(message["messageId"], str) and message["messageId"]):
        problems.append(("wrong_type", "messageId", "messageId must be a non-empty string"))
    if kind == "alias":
        for field in ("previousId", "userId"):
            if field not in present:
                problems.append(("missing_required_field", field, f"alias requires {field}"))
    elif "userId" not in present and "anonymousId" not in present:
        problems.append(("missing_required_field", "userId", "one of userId and anonymousId is required"))
    if kind == "track" and "event" not in present:
        problems.append(("missing_required_field", "event", "track requires an event name"))
    if "event" in present and not (isinstance(message["event"], str) and message["event"]):
        problems.append(("wrong_type", "event", "event must be a non-empty string"))
    if kind == "group" and "groupId" not in present:
        problems.append(("missing_required_field", "groupId", "group requires groupId"))
    if "name" in present and not isinstance(message["name"], str):
        problems.append(("wrong_type", "name", "name must be a string"))
    for field in ("context", "integrations", "properties", "traits"):
        if field in present and not isinstance(message[field], dict):
            problems.append(("wrong_type", field, f"{field} must be an object"))
    for field in ("timestamp", "sentAt", "originalTimestamp"):
        if field in present and not _parse_time(message[field]):
            problems.append(("wrong_type", field, f"{field} must be an ISO 8601 date-time"))
    return problems


def validate_envelope(payload: dict[str, Any]) -> list[tuple[str, str, str]]:
    """Problems with a batch's own fields (batch, context, integrations, sentAt, writeKey)."""
    problems = []
    if not isinstance(payload.get("batch"), list):
        problems.append(("missing_required_field", "batch", "batch must be a list of messages"))
    for field in ("context", "integrations"):
        if payload.get(field) is not None and not isinstance(payload[field], dict):
            problems.append(("wrong_type", field, f"{field} must be an object"))
    if payload.get("sentAt") is not None and not _parse_time(payload["sentAt"]):
        problems.append(("wrong_type", "sentAt", "sentAt must be an ISO 8601 date-time"))
    if "writeKey" in payload and not isinstance(payload["writeKey"], str):
        problems.append(("wrong_type", "writeKey", "writeKey must be a string"))
    return problems


_LINE_BREAKERS = str.maketrans({"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


def _serialise(message: dict[str, Any]) -> bytes:
    # UTF-8 as sent, except the characters that some line readers take for line breaks
    # (JSON already escapes the control characters): one message is always one line.
    return json.dumps(message, separators=(",", ":"), ensure_ascii=False).translate(_LINE_BREAKERS).encode()


def prepare(
    messages: list[Any],
    message_type: str | None,
    received_at: str,
    *,
    batch_context: dict[str, Any] | None = None,
    batch_integrations: dict[str, Any] | None = None,
    batch_sent_at: str | None = None,
) -> tuple[bytes, list[dict[str, Any]]]:
    """Validate and normalise messages; returns (JSON lines to write, errors).

    Raises :class:`MessageTooLarge` when any message is over the per-message limit.
    Nothing is to be written when errors is not empty: a batch is accepted whole.
    """
    oversize = [i for i, m in enumerate(messages) if len(_serialise(m)) > MAX_MESSAGE_BYTES]
    if oversize:
        raise MessageTooLarge(oversize)
    lines: list[bytes] = []
    errors: list[dict[str, Any]] = []
    for index, message in enumerate(messages):
        problems = validate_message(message, message_type)
        if problems:
            message_id = message.get("messageId") if isinstance(message, dict) else None
            errors += [
                {"index": index, "messageId": message_id, "code": code, "field": field, "message": text}
                for code, field, text in problems
            ]
            continue
        out = dict(message)
        if message_type is not None:
            out["type"] = message_type
        for field in ("userId", "anonymousId", "groupId", "previousId"):
            if isinstance(out.get(field), int):
                out[field] = str(out[field])
        if batch_context and isinstance(batch_context, dict):
            out["context"] = {**batch_context, **(out.get("context") or {})}
        if batch_integrations and isinstance(batch_integrations, dict) and out.get("integrations") is None:
            out["integrations"] = batch_integrations
        if batch_sent_at and out.get("sentAt") is None:
            out["sentAt"] = batch_sent_at
        if out.get("messageId") is None:
            digest = hashlib.sha256(_serialise({**out, "receivedAt": None})).hexdigest()[:32]
            out["messageId"] = f"api-{digest}"
        if out.get("timestamp") is None:
            out["timestamp"] = received_at
        out["receivedAt"] = received_at
        lines.append(_serialise(out) + b"\n")
    return b"".join(lines), errors

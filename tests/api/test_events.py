"""Segment-compatible event collection: durable, validated, size-limited, retry-safe."""

from __future__ import annotations

import gzip
import json

import pytest

from tests.api.conftest import basic, bearer
from warehouse.contract import EVENT_TYPES, MAX_BATCH_BYTES, MAX_MESSAGE_BYTES


def _landed(settings, tenant: str = "acme") -> list[dict]:
    folder = settings.landing_dir / "events" / tenant
    return [
        json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()
    ]


def _ids(settings) -> list[str]:
    return [message["messageId"] for message in _landed(settings)]


def test_batch_is_durably_landed_in_segment_shape(client, keys, settings):
    batch = {
        "batch": [
            {"type": "identify", "userId": "u-1", "traits": {"email": "a@b.c"}, "messageId": "ev-b1"},
            {
                "type": "track",
                "event": "Order Completed",
                "anonymousId": "anon-1",
                "properties": {"revenue": 12.5},
                "timestamp": "2025-03-01T10:00:00Z",
                "messageId": "ev-b2",
                "_metadata": {"nativeSdk": True},
            },
        ],
        "context": {"library": {"name": "analytics-python", "version": "2.3"}},
        "sentAt": "2025-03-01T10:00:01Z",
    }
    response = client.post("/v1/batch", headers=basic(keys["ingest"]), json=batch)
    assert response.status_code == 200
    assert response.json() == {"success": True, "accepted": 2}
    landed = {m["messageId"]: m for m in _landed(settings)}
    track = landed["ev-b2"]
    assert track["type"] == "track"
    assert track["timestamp"] == "2025-03-01T10:00:00Z"
    assert track["sentAt"] == "2025-03-01T10:00:01Z"
    assert track["receivedAt"]
    assert track["context"]["library"]["name"] == "analytics-python"
    assert track["_metadata"] == {"nativeSdk": True}  # unknown fields are kept, as Segment does
    identify = landed["ev-b1"]
    assert identify["timestamp"] == identify["receivedAt"]  # defaulted to the receive time
    # No temporary files are left behind; landed files end in .jsonl only.
    names = [p.name for p in (settings.landing_dir / "events" / "acme").iterdir()]
    assert all(name.endswith(".jsonl") and not name.startswith(".") for name in names)


@pytest.mark.parametrize("message_type", [t for t in EVENT_TYPES])
def test_each_single_message_endpoint(client, keys, settings, message_type):
    message = {"userId": "u-9", "messageId": f"ev-single-{message_type}"}
    message |= {
        "track": {"event": "Clicked"},
        "group": {"groupId": "acct-1"},
        "alias": {"previousId": "anon-9"},
    }.get(message_type, {})
    response = client.post(f"/v1/{message_type}", headers=basic(keys["ingest"]), json=message)
    assert response.status_code == 200, response.text
    landed = {m["messageId"]: m for m in _landed(settings)}
    assert landed[f"ev-single-{message_type}"]["type"] == message_type


def test_invalid_messages_are_400_with_a_reason_each_and_nothing_written(client, keys, settings):
    before = _ids(settings)
    batch = {
        "batch": [
            {"type": "track", "userId": "u-1", "event": "ok", "messageId": "ev-good"},
            {"type": "track", "userId": "u-1"},
            {"type": "shout", "userId": "u-1"},
            {"type": "identify"},
            {"type": "identify", "userId": "u-1", "traits": "not an object", "timestamp": "yesterday"},
            "not an object",
        ]
    }
    response = client.post("/v1/batch", headers=basic(keys["ingest"]), json=batch)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_messages"
    problems = {(d["index"], d["code"], d["field"]) for d in body["details"]}
    assert problems == {
        (1, "missing_required_field", "event"),
        (2, "invalid_value", "type"),
        (3, "missing_required_field", "userId"),
        (4, "wrong_type", "traits"),
        (4, "wrong_type", "timestamp"),
        (5, "wrong_type", ""),
    }
    assert _ids(settings) == before


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"{not json", "malformed_json"),
        (b"[1, 2]", "malformed_json"),
        (b'{"batch": "x"}', "invalid_batch"),
    ],
)
def test_malformed_bodies_are_400(client, keys, body, code):
    response = client.post(
        "/v1/batch", headers={**basic(keys["ingest"]), "Content-Type": "application/json"}, content=body
    )
    assert response.status_code == 400
    assert response.json()["code"] == code


def test_oversize_message_and_batch_are_413(client, keys):
    big = {"type": "track", "event": "x", "userId": "u", "properties": {"blob": "x" * MAX_MESSAGE_BYTES}}
    response = client.post("/v1/batch", headers=basic(keys["ingest"]), json={"batch": [big]})
    assert response.status_code == 413
    assert response.json()["code"] == "message_too_large"
    response = client.post("/v1/track", headers=basic(keys["ingest"]), json=big)
    assert response.status_code == 413
    messages = [
        {"type": "track", "event": "x", "userId": "u", "properties": {"blob": "x" * 20_000}}
        for _ in range(30)
    ]
    assert len(json.dumps({"batch": messages})) > MAX_BATCH_BYTES
    response = client.post("/v1/batch", headers=basic(keys["ingest"]), json={"batch": messages})
    assert response.status_code == 413
    assert response.json()["code"] == "payload_too_large"


def test_gzip_bodies_and_gzip_bombs(client, keys, settings):
    body = gzip.compress(
        json.dumps({"batch": [{"type": "page", "userId": "u", "messageId": "ev-gz"}]}).encode()
    )
    headers = {**basic(keys["ingest"]), "Content-Encoding": "gzip", "Content-Type": "application/json"}
    assert client.post("/v1/batch", headers=headers, content=body).status_code == 200
    assert "ev-gz" in _ids(settings)
    bomb = gzip.compress(b'{"batch": [], "pad": "' + b" " * (MAX_BATCH_BYTES * 4) + b'"}')
    assert len(bomb) < MAX_BATCH_BYTES
    assert client.post("/v1/batch", headers=headers, content=bomb).status_code == 413


def test_write_key_in_the_body_and_repeated_message_ids(client, keys, settings):
    batch = {
        "writeKey": keys["ingest"],
        "batch": [{"type": "track", "event": "x", "userId": "u", "messageId": "ev-r"}],
    }
    assert client.post("/v1/batch", json=batch).status_code == 200
    assert client.post("/v1/batch", json=batch).status_code == 200  # a retry: harmless, the loader dedups
    assert _ids(settings).count("ev-r") == 2
    assert client.post("/v1/batch", json={**batch, "writeKey": "nope"}).status_code == 401


def test_missing_message_id_is_derived_from_content(client, keys, settings):
    message = {"event": "Derived", "userId": "u-derived", "timestamp": "2025-03-02T00:00:00Z"}
    for _ in range(2):
        assert client.post("/v1/track", headers=basic(keys["ingest"]), json=message).status_code == 200
    derived = [m["messageId"] for m in _landed(settings) if m.get("event") == "Derived"]
    assert len(derived) == 2
    assert derived[0] == derived[1]
    assert derived[0].startswith("api-")


def test_only_ingest_and_admin_keys_may_send(client, keys):
    assert client.post("/v1/identify", headers=basic(keys["app"]), json={"userId": "u"}).status_code == 403
    assert client.post("/v1/identify", headers=bearer(keys["admin"]), json={"userId": "u"}).status_code == 200


def test_integer_ids_are_stringified(client, keys, settings):
    assert (
        client.post(
            "/v1/identify", headers=basic(keys["ingest"]), json={"userId": 42, "messageId": "ev-int"}
        ).status_code
        == 200
    )
    landed = {m["messageId"]: m for m in _landed(settings)}
    assert landed["ev-int"]["userId"] == "42"


def test_one_message_is_always_one_line(client, keys, settings):
    message = {"userId": "u", "messageId": "ev-lines", "traits": {"bio": "a\u2028b\u2029c\x85d\ne"}}
    assert client.post("/v1/identify", headers=basic(keys["ingest"]), json=message).status_code == 200
    landed = {m["messageId"]: m for m in _landed(settings)}  # reads with str.splitlines()
    assert landed["ev-lines"]["traits"]["bio"] == "a\u2028b\u2029c\x85d\ne"


def test_libraries_nulls_count_as_absent(client, keys, settings):
    message = {
        "type": None,
        "userId": "u",
        "anonymousId": None,
        "name": None,
        "context": None,
        "messageId": None,
    }
    response = client.post("/v1/page", headers=basic(keys["ingest"]), json=message)
    assert response.status_code == 200, response.text
    no_one = {"userId": None, "anonymousId": None}
    assert client.post("/v1/identify", headers=basic(keys["ingest"]), json=no_one).status_code == 400

"""The role-by-endpoint matrix, and authentication failures."""

from __future__ import annotations

import pytest

from api.permissions import PERMISSIONS
from tests.api.conftest import basic, bearer
from tests.api.endpoints import CALLS, Call
from warehouse.keys import ROLES, create_key, revoke_key


@pytest.fixture(scope="module")
def erasure_id(client, keys):
    response = client.post(
        "/v1/privacy/erasures", headers=bearer(keys["admin"]), json={"identifiers": {"user_id": "u-30"}}
    )
    assert response.status_code == 202
    return response.json()["request_id"]


def _send(client, call: Call, key: str | None, erasure_id: str):
    headers = {} if key is None else (basic(key) if call.basic else bearer(key))
    return client.request(
        call.method, call.path.format(erasure=erasure_id), headers=headers, json=call.json, params=call.query
    )


def test_every_route_is_in_the_matrix(client):
    routes = {
        (method.upper(), path)
        for path, operations in client.app.openapi()["paths"].items()
        for method in operations
    }
    assert routes == {(call.method, call.route) for call in CALLS}
    assert {call.action for call in CALLS if call.action} == set(PERMISSIONS)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("call", CALLS, ids=lambda call: f"{call.method} {call.route}")
def test_role_matrix(client, keys, erasure_id, call, role):
    response = _send(client, call, keys[role], erasure_id)
    if call.action is None or role in PERMISSIONS[call.action]:
        assert response.status_code in call.ok, response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["code"] == "forbidden"


@pytest.mark.parametrize(
    "call", [c for c in CALLS if c.action], ids=lambda call: f"{call.method} {call.route}"
)
def test_no_or_bad_key_is_401(client, erasure_id, call):
    for key in (None, "crm360_000000000000_" + "x" * 43, "not-a-key"):
        response = _send(client, call, key, erasure_id)
        assert response.status_code == 401, response.text
        assert response.json()["code"] in ("unauthorized", "invalid_key")


def test_revoked_key_stops_working(client, settings, monkeypatch):
    import api.auth

    monkeypatch.setattr(api.auth, "KEY_CACHE_SECONDS", 0.0)
    record, key = create_key("acme", "sales", "to revoke", settings)
    assert client.get("/v1/customers/cus_0001", headers=bearer(key)).status_code == 200
    assert revoke_key(record.key_id, settings)
    assert not revoke_key(record.key_id, settings)
    response = client.get("/v1/customers/cus_0001", headers=bearer(key))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_key"


def test_key_works_as_basic_user_name_and_bearer(client, keys):
    assert client.get("/v1/customers/cus_0001", headers=basic(keys["sales"])).status_code == 200
    assert (
        client.post("/v1/identify", headers=bearer(keys["ingest"]), json={"userId": "u-1"}).status_code == 200
    )

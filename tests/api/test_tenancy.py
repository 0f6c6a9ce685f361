"""A key of one tenant never sees or changes another tenant's data: its ids answer 404."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer
from tests.serving_fixtures import ACME_ONLY_CUSTOMER


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/customers/{ACME_ONLY_CUSTOMER}",
        f"/v1/customers/{ACME_ONLY_CUSTOMER}/scores",
        f"/v1/customers/{ACME_ONLY_CUSTOMER}/timeline",
        "/v1/segments/seg_acme_only/members",
        "/v1/customers?email=person25@acme.example",
        "/v1/customers?user_id=u-25",
        "/v1/customers?anonymous_id=anon-acme-25",
    ],
)
def test_other_tenants_ids_are_404(client, keys, path):
    own = client.get(path, headers=bearer(keys["admin"]))
    assert own.status_code == 200, own.text
    other = client.get(path, headers=bearer(keys["other_admin"]))
    assert other.status_code == 404
    assert other.json()["code"] == "not_found"


def test_shared_ids_resolve_to_the_callers_tenant(client, keys):
    ours = client.get("/v1/customers/cus_0001", headers=bearer(keys["admin"])).json()
    theirs = client.get("/v1/customers/cus_0001", headers=bearer(keys["other_admin"])).json()
    assert ours["tenant_id"] == "acme"
    assert theirs["tenant_id"] == "globex"
    assert theirs["email"] == "person1@globex.example"
    scores = client.get("/v1/customers/cus_0001/scores", headers=bearer(keys["other_app"])).json()
    assert scores["churn"]["tenant_id"] == "globex"


def test_other_tenants_erasure_request_is_404(client, keys):
    created = client.post(
        "/v1/privacy/erasures",
        headers=bearer(keys["support"]),
        json={"identifiers": {"email": "a@acme.example"}},
    ).json()
    path = f"/v1/privacy/erasures/{created['request_id']}"
    assert client.get(path, headers=bearer(keys["support"])).status_code == 200
    assert client.get(path, headers=bearer(keys["other_support"])).status_code == 404


def test_erasure_of_another_tenants_customer_id_is_404(client, keys):
    body = {"identifiers": {"customer_id": ACME_ONLY_CUSTOMER}}
    response = client.post("/v1/privacy/erasures", headers=bearer(keys["other_support"]), json=body)
    assert response.status_code == 404


def test_lists_hold_only_the_callers_tenant(client, keys):
    for path in ("/v1/leads?limit=500", "/v1/segments", "/v1/segments/seg_all/members?limit=500"):
        items = client.get(path, headers=bearer(keys["other_admin"])).json()["items"]
        assert items
        assert {item["tenant_id"] for item in items} == {"globex"}
    members = client.get("/v1/segments/seg_all/members?limit=500", headers=bearer(keys["other_admin"])).json()
    assert len(members["items"]) == 20


def test_events_land_in_the_keys_tenant_folder(client, keys, settings):
    from tests.api.conftest import basic

    response = client.post(
        "/v1/track",
        headers=basic(keys["other_ingest"]),
        json={"event": "x", "userId": "u", "messageId": "tenancy-1"},
    )
    assert response.status_code == 200
    globex = "".join(p.read_text() for p in (settings.landing_dir / "events" / "globex").glob("*.jsonl"))
    acme_dir = settings.landing_dir / "events" / "acme"
    acme = "".join(p.read_text() for p in acme_dir.glob("*.jsonl")) if acme_dir.exists() else ""
    assert "tenancy-1" in globex
    assert "tenancy-1" not in acme

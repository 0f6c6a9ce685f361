"""Audit records for personal-data reads and every change; admins query their tenant's."""

from __future__ import annotations

from tests.api.conftest import basic, bearer


def test_reads_and_writes_are_audited_with_ids_not_personal_data(client, keys):
    client.get("/v1/customers/cus_0011", headers=bearer(keys["support"]))
    client.get("/v1/customers?email=person12@acme.example", headers=bearer(keys["sales"]))
    client.get("/v1/customers/cus_0013/scores", headers=bearer(keys["app"]))
    client.get("/v1/customers/cus_0014/timeline", headers=bearer(keys["support"]))
    client.post("/v1/identify", headers=basic(keys["ingest"]), json={"userId": "u-audit"})
    page = client.get("/v1/audit?limit=1000", headers=bearer(keys["admin"]))
    assert page.status_code == 200
    records = page.json()["items"]
    seen = {(r["role"], r["action"], r["object_id"]) for r in records}
    assert ("support", "customers.read", "cus_0011") in seen
    assert ("sales", "customers.lookup", "cus_0012") in seen
    assert ("app", "scores.read", "cus_0013") in seen
    assert ("support", "timeline.read", "cus_0014") in seen
    assert any(r["action"] == "events.write" and r["role"] == "ingest" for r in records)
    assert all(r["tenant_id"] == "acme" and r["key_id"] for r in records)
    assert "person12@acme.example" not in page.text


def test_audit_filters_and_tenant_scope(client, keys):
    client.get("/v1/customers/cus_0015", headers=bearer(keys["other_admin"]))
    ours = client.get("/v1/audit?object_id=cus_0015", headers=bearer(keys["admin"])).json()["items"]
    theirs = client.get("/v1/audit?object_id=cus_0015", headers=bearer(keys["other_admin"])).json()["items"]
    assert ours == []
    assert [r["tenant_id"] for r in theirs] == ["globex"]
    only_reads = client.get("/v1/audit?action=customers.read&limit=5", headers=bearer(keys["admin"])).json()
    assert {r["action"] for r in only_reads["items"]} == {"customers.read"}
    future = client.get("/v1/audit?since=2999-01-01T00:00:00Z", headers=bearer(keys["admin"])).json()
    assert future["items"] == []


def test_failed_reads_are_audited_too(client, keys):
    client.get("/v1/customers/cus_7777", headers=bearer(keys["sales"]))
    items = client.get("/v1/audit?object_id=cus_7777", headers=bearer(keys["admin"])).json()["items"]
    assert [(r["action"], r["status"]) for r in items] == [("customers.read", 404)]

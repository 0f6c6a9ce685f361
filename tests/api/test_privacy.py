"""Consents and erasure requests: durable, idempotent, pollable, strict bodies."""

from __future__ import annotations

import csv

from tests.api.conftest import bearer
from warehouse.contract import CRM_ENTITIES
from warehouse.privacy_requests import pending_erasures, update_erasure

CONSENT = {"email": "person4@acme.example", "purpose": "marketing", "channel": "sms", "status": "withdrawn"}


def _consent_rows(settings) -> list[dict]:
    folder = settings.landing_dir / "crm" / "consents"
    rows = []
    for path in sorted(folder.glob("*.csv")):
        with path.open() as handle:
            rows += list(csv.DictReader(handle))
    return rows


def test_consent_lands_as_a_crm_consents_file(client, keys, settings):
    response = client.post("/v1/consents", headers=bearer(keys["marketing"]), json=CONSENT)
    assert response.status_code == 202
    consent_id = response.json()["consent_id"]
    rows = {row["record_id"]: row for row in _consent_rows(settings)}
    row = rows[consent_id]
    assert list(row) == [column.name for column in CRM_ENTITIES["consents"]]
    assert row["tenant_id"] == "acme"
    assert row["source_system"] == "api"
    assert (row["email"], row["channel"], row["status"], row["source"]) == (
        "person4@acme.example",
        "sms",
        "withdrawn",
        "api",
    )
    assert row["occurred_at"] and row["updated_at"]


def test_consent_bodies_forbid_unknown_fields_and_need_a_subject(client, keys):
    headers = bearer(keys["marketing"])
    response = client.post("/v1/consents", headers=headers, json={**CONSENT, "colour": "blue"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"
    no_subject = {k: v for k, v in CONSENT.items() if k != "email"}
    assert client.post("/v1/consents", headers=headers, json=no_subject).status_code == 422
    assert (
        client.post("/v1/consents", headers=headers, json={**CONSENT, "channel": "pigeon"}).status_code == 422
    )


def test_consent_retry_with_an_idempotency_key_records_once(client, keys, settings):
    headers = {**bearer(keys["app"]), "Idempotency-Key": "consent-retry-1"}
    first = client.post("/v1/consents", headers=headers, json=CONSENT)
    count = len(_consent_rows(settings))
    second = client.post("/v1/consents", headers=headers, json=CONSENT)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(_consent_rows(settings)) == count


def test_erasure_is_recorded_and_its_status_pollable(client, keys, settings):
    headers = bearer(keys["support"])
    response = client.post(
        "/v1/privacy/erasures",
        headers=headers,
        json={
            "identifiers": {"email": "person5@acme.example", "customer_id": "cus_0005"},
            "reason": "art. 17",
        },
    )
    assert response.status_code == 202
    request_id = response.json()["request_id"]
    assert response.json()["status"] == "received"
    pending = {r["request_id"]: r for r in pending_erasures(settings)}
    assert pending[request_id]["identifiers"] == {"email": "person5@acme.example", "customer_id": "cus_0005"}
    assert pending[request_id]["tenant_id"] == "acme"
    # The privacy pipeline carries it out and reports back.
    update_erasure(request_id, "completed", {"deleted": {"raw.events": 3}}, settings)
    polled = client.get(f"/v1/privacy/erasures/{request_id}", headers=headers).json()
    assert polled["status"] == "completed"
    assert polled["detail"] == {"deleted": {"raw.events": 3}}
    assert "identifiers" not in polled  # the answer does not repeat the personal data
    assert client.get("/v1/privacy/erasures/era_0000000000000000", headers=headers).status_code == 404


def test_erasure_idempotency_and_strict_body(client, keys):
    headers = {**bearer(keys["admin"]), "Idempotency-Key": "erase-once"}
    body = {"identifiers": {"phone": "+441555000006"}}
    first = client.post("/v1/privacy/erasures", headers=headers, json=body).json()
    second = client.post("/v1/privacy/erasures", headers=headers, json=body).json()
    assert first["request_id"] == second["request_id"]
    for bad in (
        {"identifiers": {}},
        {"identifiers": {"email": "a@b.c"}, "extra": 1},
        {"identifiers": {"ssn": "1"}},
    ):
        response = client.post("/v1/privacy/erasures", headers=bearer(keys["admin"]), json=bad)
        assert response.status_code == 422, bad

"""Customer 360 reads: profile, merged ids, identifier lookup, scores, timeline."""

from __future__ import annotations

import pytest

from tests.api.conftest import bearer


@pytest.fixture
def sales(keys):
    return bearer(keys["sales"])


def test_profile_is_the_tenants_golden_record(client, sales):
    response = client.get("/v1/customers/cus_0001", headers=sales)
    assert response.status_code == 200
    body = response.json()
    assert body["tenant_id"] == "acme"
    assert body["customer_id"] == "cus_0001"
    assert body["email"] == "person1@acme.example"
    assert body["segments"] == ["all"]
    assert body["consents"] == {"email": {"marketing": "granted"}}
    assert body["last_activity_at"] == "2025-01-02T00:00:00.000000Z"  # ISO 8601, not DuckDB's text
    assert response.headers["x-snapshot-version"]


def test_merged_away_id_answers_with_the_survivor(client, sales):
    response = client.get("/v1/customers/cus_9001", headers=sales)
    assert response.status_code == 200
    assert response.json()["customer_id"] == "cus_0002"
    assert response.headers["x-merged-into"] == "cus_0002"
    assert response.headers["content-location"] == "/v1/customers/cus_0002"
    scores = client.get("/v1/customers/cus_9001/scores", headers=sales)
    assert scores.json()["customer_id"] == "cus_0002"


def test_unknown_customer_is_404_with_a_json_error(client, sales):
    response = client.get("/v1/customers/cus_4242", headers=sales)
    assert response.status_code == 404
    assert response.json() == {"code": "not_found", "message": "customer not found"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("email=%20Person7@ACME.example%20", "cus_0007"),
        ("phone=%2B44%201555%20000007", "cus_0007"),
        ("phone=0044-1555-000007", "cus_0007"),
        ("phone=%2B44%20(1555)%20000007%20ext.%2012", "cus_0007"),
        ("email=person7%2Bnews@acme.example", "cus_0007"),
        ("user_id=u-7", "cus_0007"),
        ("anonymous_id=anon-acme-7", "cus_0007"),
        ("external_id=crm:7", "cus_0007"),
    ],
)
def test_lookup_by_each_identifier(client, sales, query, expected):
    response = client.get(f"/v1/customers?{query}", headers=sales)
    assert response.status_code == 200, response.text
    assert response.json()["customer_id"] == expected


def test_lookup_needs_an_identifier_and_several_must_agree(client, sales):
    response = client.get("/v1/customers", headers=sales)
    assert response.status_code == 400
    assert response.json()["code"] == "identifier_required"
    assert client.get("/v1/customers?email=nobody@acme.example", headers=sales).status_code == 404
    agree = client.get("/v1/customers?email=person7@acme.example&user_id=u-7", headers=sales)
    assert agree.json()["customer_id"] == "cus_0007"
    disagree = client.get("/v1/customers?email=person7@acme.example&user_id=u-8", headers=sales)
    assert disagree.status_code == 404


def test_scores_carry_model_versions_and_reasons(client, keys):
    response = client.get("/v1/customers/cus_0001/scores", headers=bearer(keys["app"]))
    assert response.status_code == 200
    body = response.json()
    assert body["customer_id"] == "cus_0001"
    assert body["lead_score"]["status"] == "scored"
    assert body["lead_score"]["model_version"] == "lead-v1"
    assert body["lead_score"]["reasons"] == ["recent_activity", "company_size"]
    assert body["churn"] == {
        "status": "scored",
        "tenant_id": "acme",
        "customer_id": "cus_0001",
        "churn_probability": 0.25,
        "model_version": "churn-v3",
        "reasons": ["few_logins"],
        "scored_at": "2025-02-01T00:00:00.000000Z",
    }
    assert body["customer_value"]["predicted_value"] == 200.0
    # Customer 3 is an opportunity: the lead model did not score them.
    assert client.get("/v1/customers/cus_0003/scores", headers=bearer(keys["app"])).json()["lead_score"] == {
        "status": "not_scored"
    }


def test_timeline_is_paginated_newest_first(client, sales):
    first = client.get("/v1/customers/cus_0001/timeline?limit=25", headers=sales).json()
    assert [item["detail"] for item in first["items"][:2]] == ["/page/60", "/page/59"]
    assert first["next_offset"] == 25
    seen = [item["detail"] for item in first["items"]]
    offset = first["next_offset"]
    while offset is not None:
        page = client.get(f"/v1/customers/cus_0001/timeline?limit=25&offset={offset}", headers=sales).json()
        seen += [item["detail"] for item in page["items"]]
        offset = page["next_offset"]
    assert len(seen) == len(set(seen)) == 61
    assert client.get("/v1/customers/cus_0001/timeline?limit=0", headers=sales).status_code == 422
    assert client.get("/v1/customers/cus_4242/timeline", headers=sales).status_code == 404


def test_unknown_query_parameters_are_rejected(client, sales):
    response = client.get("/v1/customers/cus_0001/timeline?limt=5", headers=sales)
    assert response.status_code == 400
    assert response.json() == {"code": "unknown_parameter", "message": "unknown query parameter(s): limt"}

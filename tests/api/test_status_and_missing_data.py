"""Status, and clean answers when there is no snapshot yet or no scores in it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import bearer, settings_in
from tests.serving_fixtures import publish_fixture_snapshot
from warehouse.keys import create_key


def test_status_reports_the_snapshot(client, keys):
    body = client.get("/v1/status", headers=bearer(keys["ingest"])).json()
    assert body["status"] == "ok"
    assert body["snapshot"]["tables"]["customer_360"] == 50
    assert body["snapshot"]["age_seconds"] >= 0
    assert body["model_versions"]["churn_predictions"] == ["churn-v3"]
    assert client.get("/v1/health").json() == {"status": "ok"}


def test_no_snapshot_yet_is_503_with_a_code(tmp_path):
    settings = settings_in(tmp_path)
    _, key = create_key("acme", "admin", "t", settings)
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/status", headers=bearer(key)).json()["status"] == "no_snapshot"
        for path in ("/v1/customers/cus_0001", "/v1/customers/cus_0001/scores", "/v1/leads", "/v1/segments"):
            response = client.get(path, headers=bearer(key))
            assert response.status_code == 503, path
            assert response.json()["code"] == "no_snapshot"
            assert response.headers["retry-after"]
        # Writes do not need a snapshot.
        assert client.post("/v1/identify", headers=bearer(key), json={"userId": "u"}).status_code == 200


def test_snapshot_without_scores_answers_unavailable(tmp_path):
    settings = settings_in(tmp_path)
    publish_fixture_snapshot(settings, with_scores=False)
    _, key = create_key("acme", "admin", "t", settings)
    with TestClient(create_app(settings)) as client:
        scores = client.get("/v1/customers/cus_0001/scores", headers=bearer(key)).json()
        for field in ("lead_score", "churn", "customer_value"):
            assert scores[field]["status"] == "unavailable"
            assert "reason" in scores[field]
        leads = client.get("/v1/leads", headers=bearer(key)).json()
        assert leads["status"] == "unavailable"
        assert leads["items"] == []
        assert client.get("/v1/status", headers=bearer(key)).json()["model_versions"] == {}


def test_awkward_ids_are_audited_and_queryable(client, keys):
    odd = 'a,"b"\nc'
    assert client.get("/v1/customers/" + "a%2C%22b%22%0Ac", headers=bearer(keys["sales"])).status_code == 404
    items = client.get("/v1/audit", params={"object_id": odd}, headers=bearer(keys["admin"])).json()["items"]
    assert [item["object_id"] for item in items] == [odd]

"""Per-key rate limiting: 429 with Retry-After, other keys unaffected."""

from __future__ import annotations

import dataclasses

from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import bearer


def test_rate_limit_answers_429_with_retry_after(settings, keys):
    limited = dataclasses.replace(settings, api_rate_limit=0.5, api_rate_burst=3)
    with TestClient(create_app(limited)) as client:
        codes = [
            client.get("/v1/customers/cus_0001", headers=bearer(keys["sales"])).status_code for _ in range(4)
        ]
        assert codes == [200, 200, 200, 429]
        response = client.get("/v1/customers/cus_0001", headers=bearer(keys["sales"]))
        assert response.status_code == 429
        assert response.json()["code"] == "rate_limited"
        assert int(response.headers["retry-after"]) >= 1
        assert client.get("/v1/customers/cus_0001", headers=bearer(keys["support"])).status_code == 200

"""The hot-path middleware answers exactly as the routes do, or leaves the answer to them."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import bearer, flush_audit

PATHS = [
    "/v1/customers/cus_0001",
    "/v1/customers/cus_0001/scores",
    "/v1/customers/cus_9001",  # merged away
    "/v1/customers/cus_9001/scores",
    "/v1/customers/cus_4242",  # unknown
    "/v1/customers/cus_0025/scores",  # acme only
    "/v1/customers/cus_0001/timeline",
    "/v1/customers/",
]
HEADERS = ("content-type", "content-length", "x-snapshot-version", "content-location", "x-merged-into")


@pytest.fixture(scope="module")
def clients(settings, keys):
    """A hot-path app and a routes-only app, both started on the same current snapshot.

    Made here rather than reusing the session client, which may still be catching up on
    a snapshot another module published; nothing publishes while this module runs.
    """
    with (
        TestClient(create_app(settings)) as hot,
        TestClient(create_app(settings, hot_reads=False)) as plain,
    ):
        yield hot, plain


def _view(response):
    return response.status_code, response.content, {h: response.headers.get(h) for h in HEADERS}


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("who", ["sales", "app", "ingest", "other_admin", None, "bogus"])
def test_same_answers_with_and_without_the_hot_path(clients, keys, path, who):
    hot, plain_client = clients
    headers = {} if who is None else bearer(keys.get(who, "crm360_000000000000_" + "x" * 43))
    for _ in range(2):  # the second request is served from the key cache
        fast = hot.get(path, headers=headers)
        plain = plain_client.get(path, headers=headers)
        assert _view(fast) == _view(plain)


def test_hot_path_reads_are_audited(client, keys):
    headers = bearer(keys["app"])
    for _ in range(2):
        assert client.get("/v1/customers/cus_0019/scores", headers=headers).status_code == 200
    flush_audit(client)
    items = client.get(
        "/v1/audit?object_id=cus_0019&action=scores.read", headers=bearer(keys["admin"])
    ).json()
    assert len(items["items"]) == 2

"""Integration: the real dbt marts (built from the hand-made raw rows) through snapshot and API.

The rest of tests/api use synthetic serving tables; this test proves the API reads what
dbt actually builds: customer_360, customer_identifiers, customer_aliases,
customer_timeline, with segments derived at publish time.
"""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from tests.api.conftest import bearer, settings_in
from warehouse.connection import load_key, open_encrypted, warehouse
from warehouse.keys import create_key
from warehouse.snapshots import find_serving_tables, publish_snapshot

pytestmark = pytest.mark.timeout(900)


@pytest.fixture(scope="module")
def real(handmade_built_by_dagster, tmp_path_factory):
    from tests.conftest import copy_home
    from tests.dbt.dbt_runner import DbtRunner

    home = tmp_path_factory.mktemp("real")
    copy_home(handmade_built_by_dagster.home, home)  # the hand-made raw rows, built by dbt (through Dagster)
    settings = settings_in(home)
    dbt = DbtRunner(home)
    with warehouse(read_only=True, settings=settings) as con:
        info = publish_snapshot(con, find_serving_tables(con), settings=settings)
    con = open_encrypted(info.path, load_key(settings), read_only=True)
    try:
        sample = con.execute(
            "select c.tenant_id, c.customer_id, i.identifier_type, i.identifier_value from customer_360 c "
            "join customer_identifiers i using (tenant_id, customer_id) order by all limit 1"
        ).fetchone()
    finally:
        con.close()
    keys = {tenant: create_key(tenant, "admin", "real", settings)[1] for tenant in ("acme", "globex")}
    with TestClient(create_app(settings)) as client:
        yield client, keys, info, sample, (settings, dbt)


def test_real_snapshot_holds_the_marts(real):
    _, _, info, _, _ = real
    for table in (
        "customer_360",
        "customer_identifiers",
        "customer_aliases",
        "customer_timeline",
        "segments",
    ):
        assert table in info.tables
    assert info.tables["customer_360"] > 0


def test_profile_lookup_timeline_scores_on_real_marts(real):
    client, keys, _, (tenant, customer_id, kind, value), _ = real
    headers = bearer(keys[tenant])
    profile = client.get(f"/v1/customers/{customer_id}", headers=headers)
    assert profile.status_code == 200
    assert profile.json()["customer_id"] == customer_id
    found = client.get("/v1/customers", params={kind: value}, headers=headers)
    assert found.status_code == 200, (kind, value, found.text)
    assert found.json()["customer_id"] == customer_id
    timeline = client.get(f"/v1/customers/{customer_id}/timeline", headers=headers)
    assert timeline.status_code == 200
    scores = client.get(f"/v1/customers/{customer_id}/scores", headers=headers).json()
    assert {scores[f]["status"] for f in ("lead_score", "churn", "customer_value")} <= {
        "unavailable",
        "scored",
        "not_scored",
    }
    other = "globex" if tenant == "acme" else "acme"
    assert client.get(f"/v1/customers/{customer_id}", headers=bearer(keys[other])).status_code in (200, 404)


def test_segments_are_derived_from_customer_360(real):
    client, keys, _, (tenant, _, _, _), _ = real
    segments = client.get("/v1/segments", headers=bearer(keys[tenant])).json()["items"]
    assert segments
    assert any(s["segment_id"].startswith("lifecycle:") for s in segments)
    first = segments[0]["segment_id"]
    members = client.get(f"/v1/segments/{first}/members", headers=bearer(keys[tenant])).json()
    assert len(members["items"]) == segments[0]["member_count"] or members["next_offset"]


def test_merged_away_id_resolves_on_real_marts(real):
    """A new record links two people; after the next build and publish, the API serves the
    merged-away id with the survivor, without a restart."""
    client, keys, _, _, (settings, dbt) = real
    # As in tests/dbt/test_dbt_build.py: Cy's support record now shares Bob's phone.
    with warehouse(settings=settings) as con:
        con.execute(
            "insert into raw.contacts (tenant_id, source_system, record_id, first_name, email, phone, "
            "updated_at, _file, _line, _loaded_at) values ('acme', 'support', 's3', 'Cy', "
            "'info@shared.example', '+447700900002', '2025-02-01 00:00:00+00', 'later.csv', 1, "
            "'2025-02-01 00:00:00+00')"
        )
    dbt("run")
    with warehouse(read_only=True, settings=settings) as con:
        info = publish_snapshot(con, find_serving_tables(con), settings=settings)
        old_id, survivor = con.execute(
            "select alias_customer_id, customer_id from marts.customer_aliases "
            "where tenant_id = 'acme' and alias_customer_id <> customer_id"
        ).fetchone()
    store = client.app.state.crm360.store
    deadline = time.monotonic() + 30
    while store.current.version != info.version and time.monotonic() < deadline:
        time.sleep(0.05)
    response = client.get(f"/v1/customers/{old_id}", headers=bearer(keys["acme"]))
    assert response.status_code == 200
    assert response.json()["customer_id"] == survivor
    assert response.headers["x-merged-into"] == survivor
    assert response.headers["x-snapshot-version"] == info.version


def test_consent_history_agrees_with_customer_360_and_exports(real):
    """The privacy mart is built, published, agrees with customer_360.consents, and drives exports."""
    client, keys, info, _, _ = real
    assert "consent_history" in info.tables
    con = open_encrypted(info.path, load_key(real[4][0]), read_only=True)
    try:
        current = con.execute(
            "select tenant_id, customer_id, channel, purpose, status from consent_history where is_current "
            "order by all"
        ).fetchall()
        from_360 = con.execute(
            "select tenant_id, customer_id, k.key, p.key, p.value ->> '$' from customer_360, "
            "json_each(consents) k, json_each(k.value) p order by all"
        ).fetchall()
    finally:
        con.close()
    assert current and current == from_360
    tenant, customer_id = current[0][0], current[0][1]
    segment = next(
        s["segment_id"]
        for s in client.get("/v1/segments?limit=500", headers=bearer(keys[tenant])).json()["items"]
        if any(
            m["customer_id"] == customer_id
            for m in client.get(
                f"/v1/segments/{s['segment_id']}/members?limit=500", headers=bearer(keys[tenant])
            ).json()["items"]
        )
    )
    exported = client.get(
        f"/v1/segments/{segment}/export", params={"channel": "email"}, headers=bearer(keys[tenant])
    ).json()["items"]
    assert customer_id in {item["customer_id"] for item in exported}

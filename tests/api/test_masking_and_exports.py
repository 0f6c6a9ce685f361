"""PII masking per role (routes and hot path), consent-filtered segment exports, their audit.

The session snapshot (tests/serving_fixtures.py) serves the masking tests. The export
tests need consent records the synthetic snapshot does not have, so this module builds
one more small snapshot with a ``consent_history`` table beside the serving tables:
acme's cus_0005..cus_0030 are in seg_vip (every fifth customer: 5, 10, ..., 30) with

- cus_0005: email/marketing granted (current)            -> exported
- cus_0010: no consent record at all                     -> excluded
- cus_0015: email granted, then withdrawn (current)      -> excluded
- cus_0020: sms/marketing granted only (another channel) -> excluded for email
- cus_0025: email/analytics granted (another purpose)    -> excluded for marketing
- cus_0030: email withdrawn, then granted again          -> exported
"""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from api.main import create_app
from api.masking import mask_email, mask_name, mask_phone, mask_record, mask_text, role_sees_pii
from tests.api.conftest import bearer, flush_audit, settings_in
from tests.serving_fixtures import build_serving_warehouse
from warehouse.connection import load_key, open_encrypted
from warehouse.keys import ROLES, create_key

PII_ROLES = {"admin", "sales", "support"}
PROFILE_READERS = ("admin", "analyst", "sales", "support", "marketing")


def test_mask_values():
    assert mask_email("john.doe@example.com") == "j***@e***.com"
    assert mask_email("person1@acme.example") == "p***@a***.example"
    assert mask_phone("+441555000001") == "+44********01"
    assert mask_phone("07700 900123") == "07*******23"
    assert mask_name("John") == "J."
    assert mask_name("mary ann") == "M. A."
    assert mask_text("mail to j.smith@corp.io or call +44 7700 900123") == (
        "mail to j***@c***.io or call +44********23"
    )
    record = mask_record(
        {
            "first_name": "Ann",
            "email": "ann@x.org",
            "email_marketing_consent": "granted",
            "phone": "+15550001234",
            "street": "1 High St",
            "consents": {"email": {"marketing": "granted"}},
            "identifier_type": "email",
            "identifier_value": "ann@x.org",
            "customer_id": "cus_1",
        }
    )
    assert record == {
        "first_name": "A.",
        "email": "a***@x***.org",
        "email_marketing_consent": "granted",
        "phone": "+15*******34",
        "street": "***",
        "consents": {"email": {"marketing": "granted"}},
        "identifier_type": "email",
        "identifier_value": "a***@x***.org",
        "customer_id": "cus_1",
    }
    assert {role for role in ROLES if role_sees_pii(role)} == PII_ROLES


@pytest.mark.parametrize("role", PROFILE_READERS)
def test_profile_is_masked_for_roles_without_pii(client, keys, role):
    headers = bearer(keys[role])
    for _ in range(2):  # the second answer comes from the hot path (key cached)
        for path, params in (
            ("/v1/customers/cus_0003", None),
            ("/v1/customers", {"email": "person3@acme.example"}),
        ):
            body = client.get(path, params=params, headers=headers).json()
            if role in PII_ROLES:
                assert (body["email"], body["phone"], body["last_name"]) == (
                    "person3@acme.example",
                    "+441555000003",
                    "Acme3",
                )
            else:
                assert (body["email"], body["phone"], body["first_name"], body["last_name"]) == (
                    "p***@a***.example",
                    "+44********03",
                    "F.",
                    "A.",
                )
                assert "person3" not in str(body) and "1555000003" not in str(body)
            assert body["consents"] == {"email": {"marketing": "granted"}}


def test_hot_path_never_serves_unmasked_bytes(settings, keys):
    """Both apps (hot path on and off) give the analyst the same masked bytes."""
    with (
        TestClient(create_app(settings)) as hot,
        TestClient(create_app(settings, hot_reads=False)) as plain,
    ):
        for _ in range(2):
            fast = hot.get("/v1/customers/cus_0004", headers=bearer(keys["analyst"]))
            slow = plain.get("/v1/customers/cus_0004", headers=bearer(keys["analyst"]))
            assert fast.content == slow.content
            assert b"person4@" not in fast.content and b"1555000004" not in fast.content
        data = hot.app.state.crm360.store.current
        assert any(key.endswith("cus_0004") for key in data.masked_profiles)


def test_lists_are_masked_for_roles_without_pii(client, keys):
    leads_masked = client.get("/v1/leads?limit=500", headers=bearer(keys["analyst"])).json()["items"]
    leads_clear = client.get("/v1/leads?limit=500", headers=bearer(keys["sales"])).json()["items"]
    assert [lead["customer_id"] for lead in leads_masked] == [lead["customer_id"] for lead in leads_clear]
    members = client.get("/v1/segments/seg_all/members", headers=bearer(keys["marketing"]))
    assert members.status_code == 200
    timeline = client.get("/v1/customers/cus_0001/timeline", headers=bearer(keys["marketing"])).json()
    assert timeline["items"] and "@" not in str(timeline)


def test_pii_reads_are_audited_as_such(client, keys):
    client.get("/v1/customers/cus_0007", headers=bearer(keys["support"]))
    client.get("/v1/customers/cus_0007", headers=bearer(keys["analyst"]))
    flush_audit(client)
    items = client.get(
        "/v1/audit",
        params={"object_id": "cus_0007", "action": "customers.read"},
        headers=bearer(keys["admin"]),
    ).json()["items"]
    by_role = {item["role"]: item["pii"] for item in items}
    assert by_role["support"] is True and by_role["analyst"] is False
    pii_only = client.get(
        "/v1/audit", params={"object_id": "cus_0007", "pii": "true"}, headers=bearer(keys["admin"])
    ).json()["items"]
    assert pii_only and {item["role"] for item in pii_only} <= PII_ROLES


# Exports -----------------------------------------------------------------------------

CONSENTS = [
    # customer, consent id, channel, purpose, status, day, is_current
    ("cus_0005", "c1", "email", "marketing", "granted", 1, True),
    ("cus_0015", "c2", "email", "marketing", "granted", 1, False),
    ("cus_0015", "c3", "email", "marketing", "withdrawn", 5, True),
    ("cus_0020", "c4", "sms", "marketing", "granted", 1, True),
    ("cus_0025", "c5", "email", "analytics", "granted", 1, True),
    ("cus_0030", "c6", "email", "marketing", "withdrawn", 1, False),
    ("cus_0030", "c7", "email", "marketing", "granted", 9, True),
    # another tenant's grant for an acme id must not leak into acme's export
    ("cus_0010", "g1", "email", "marketing", "granted", 1, True),
]


@pytest.fixture(scope="module")
def export_app(tmp_path_factory):
    settings = settings_in(tmp_path_factory.mktemp("exports"))
    build_serving_warehouse(settings)
    con = open_encrypted(settings.warehouse_path, load_key(settings))
    try:
        con.execute(
            "create table marts.consent_history (tenant_id varchar, customer_id varchar, consent_id varchar, "
            "channel varchar, purpose varchar, status varchar, source varchar, source_system varchar, "
            "recorded_at timestamp, updated_at timestamp, is_current boolean)"
        )
        for customer, consent_id, channel, purpose, status, day, current in CONSENTS:
            tenant = "globex" if consent_id.startswith("g") else "acme"
            con.execute(
                "insert into marts.consent_history values (?, ?, ?, ?, ?, ?, 'web_form', 'web', "
                "timestamp '2025-01-01' + ? * interval 1 day, timestamp '2025-01-01', ?)",
                [tenant, customer, consent_id, channel, purpose, status, day, current],
            )
        from warehouse.snapshots import find_serving_tables, publish_snapshot

        publish_snapshot(con, find_serving_tables(con), settings=settings)
    finally:
        con.close()
    keys = {role: create_key("acme", role, f"export {role}", settings)[1] for role in ROLES}
    with TestClient(create_app(settings)) as client:
        yield client, keys


def _export(client, key, **params):
    return client.get("/v1/segments/seg_vip/export", params=params, headers=bearer(key))


def test_export_includes_only_current_granted_consent_for_the_channel(export_app):
    client, keys = export_app
    body = _export(client, keys["marketing"], channel="email").json()
    assert [(item["customer_id"], item["email"]) for item in body["items"]] == [
        ("cus_0005", "person5@acme.example"),
        ("cus_0030", "person30@acme.example"),
    ]
    assert body["channel"] == "email" and body["purpose"] == "marketing" and body["next_offset"] is None
    # Names are personal data the consent does not cover: masked for marketing, clear for admin.
    assert (
        body["items"][0]["first_name"] == "F."
        and body["items"][1]["consented_at"] == "2025-01-10T00:00:00.000000Z"
    )
    assert _export(client, keys["admin"], channel="email").json()["items"][0]["first_name"] == "First5g1"
    sms = _export(client, keys["marketing"], channel="sms").json()["items"]
    assert [(item["customer_id"], item["phone"]) for item in sms] == [("cus_0020", "+441555000020")]
    analytics = _export(client, keys["marketing"], channel="email", purpose="analytics").json()["items"]
    assert [item["customer_id"] for item in analytics] == ["cus_0025"]
    assert _export(client, keys["marketing"], channel="push").json()["items"] == []


def test_export_csv_and_pages(export_app):
    client, keys = export_app
    first = _export(client, keys["admin"], channel="email", format="csv", limit=1)
    assert first.headers["content-type"].startswith("text/csv")
    assert first.headers["x-next-offset"] == "1"
    rows = list(csv.DictReader(io.StringIO(first.text)))
    assert [(row["customer_id"], row["email"]) for row in rows] == [("cus_0005", "person5@acme.example")]
    second = _export(client, keys["admin"], channel="email", format="csv", limit=1, offset=1)
    assert "x-next-offset" not in second.headers
    assert [row["customer_id"] for row in csv.DictReader(io.StringIO(second.text))] == ["cus_0030"]


def test_export_permissions_and_errors(export_app):
    client, keys = export_app
    assert _export(client, keys["analyst"], channel="email").status_code == 403
    assert _export(client, keys["marketing"], channel="fax").status_code == 422
    assert _export(client, keys["marketing"]).status_code == 422  # the channel is required
    missing = client.get("/v1/segments/seg_nope/export?channel=email", headers=bearer(keys["marketing"]))
    assert missing.status_code == 404


def test_export_without_consent_data_exports_nobody(client, keys):
    """The session snapshot has no consent_history: customer_360.consents decides, and a
    channel nobody consented to exports nobody."""
    sms = client.get("/v1/segments/seg_vip/export?channel=sms", headers=bearer(keys["marketing"])).json()
    assert sms["items"] == []
    email = client.get("/v1/segments/seg_vip/export?channel=email", headers=bearer(keys["marketing"])).json()
    assert email["items"] and all("@acme.example" in item["email"] for item in email["items"])


def test_exports_are_audited_with_counts_not_data(export_app):
    client, keys = export_app
    _export(client, keys["marketing"], channel="email")
    flush_audit(client)
    items = client.get(
        "/v1/audit", params={"action": "segments.export", "limit": 1}, headers=bearer(keys["admin"])
    ).json()["items"]
    assert items[0]["object_id"] == "seg_vip" and items[0]["pii"] is True
    assert "members=6 consented=2 excluded=4 rows=2" in items[0]["detail"]
    assert "@" not in items[0]["detail"]

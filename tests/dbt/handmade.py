"""A handful of raw rows written by hand: enough to build every model, small enough to read.

Used by tests that need a warehouse without the generator (and by developers:
``python -m tests.dbt.handmade`` fills the warehouse that warehouse.settings points at).
"""

from __future__ import annotations

import json

import duckdb

from pipelines.ingest.schema import ensure_raw_schema, raw_tables

T0 = "2025-01-10 09:00:00+00"

ROWS: dict[str, list[dict]] = {
    "tenants": [
        {
            "tenant_id": "acme",
            "name": "Acme",
            "default_country": "GB",
            "timezone": "Europe/London",
            "currency": "gbp",
            "updated_at": T0,
        },
        {"tenant_id": "globex", "name": "Globex", "default_country": "United States", "updated_at": T0},
    ],
    "contacts": [
        # Ann: a CRM contact and a web signup with a gmail-dot variant, a product user id.
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "c1",
            "first_name": " Ann ",
            "last_name": "Lee",
            "email": "Ann.Lee@gmail.com",
            "phone": "020 7946 0001",
            "country": "UK",
            "account_id": "a1",
            "updated_at": T0,
            "created_at": T0,
        },
        {
            "tenant_id": "acme",
            "source_system": "web",
            "record_id": "w1",
            "first_name": "ann",
            "email": "annlee+shop@googlemail.com",
            "user_id": "u1",
            "updated_at": T0,
            "created_at": T0,
        },
        # Bob: two versions of one CRM record (the later wins), and a role email shared with Cy.
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "c2",
            "first_name": "Bob",
            "email": "old@bob.example",
            "updated_at": "2025-01-01 00:00:00+00",
            "created_at": T0,
        },
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "c2",
            "first_name": "Bob",
            "email": "bob@bob.example",
            "phone": "+44 7700 900002",
            "updated_at": T0,
            "created_at": T0,
        },
        {
            "tenant_id": "acme",
            "source_system": "support",
            "record_id": "s2",
            "first_name": "Bob",
            "email": "info@shared.example",
            "updated_at": T0,
            "created_at": T0,
        },
        {
            "tenant_id": "acme",
            "source_system": "support",
            "record_id": "s3",
            "first_name": "Cy",
            "email": "INFO@shared.example",
            "updated_at": T0,
            "created_at": T0,
        },
        # The same email in another tenant is another person.
        {
            "tenant_id": "globex",
            "source_system": "crm",
            "record_id": "c1",
            "first_name": "Ann",
            "email": "ann.lee@gmail.com",
            "phone": "(415) 555-0100 x12",
            "country": "USA",
            "updated_at": T0,
            "created_at": T0,
        },
    ],
    "leads": [
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "l1",
            "first_name": "Bob",
            "email": "bob@bob.example",
            "status": "converted",
            "created_at": "2024-12-01 00:00:00+00",
            "mql_at": "2024-12-05 00:00:00+00",
            "sql_at": "2024-12-10 00:00:00+00",
            "converted_at": "2024-12-20 00:00:00+00",
            "converted_contact_id": "c2",
            "updated_at": T0,
        },
    ],
    "accounts": [
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "a1",
            "name": "Lee Ltd",
            "country": "GB",
            "updated_at": T0,
            "created_at": T0,
        },
    ],
    "opportunities": [
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "o1",
            "account_id": "a1",
            "contact_id": "c2",
            "lead_id": "l1",
            "stage": "closed_won",
            "amount": 1000.0,
            "created_at": "2024-12-20 00:00:00+00",
            "closed_at": "2025-01-05 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "opportunity_stage_history": [
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "h1",
            "opportunity_id": "o1",
            "stage": "prospecting",
            "entered_at": "2024-12-20 00:00:00+00",
            "updated_at": T0,
        },
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "h2",
            "opportunity_id": "o1",
            "stage": "closed_won",
            "entered_at": "2025-01-05 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "orders": [
        {
            "tenant_id": "acme",
            "source_system": "crm",
            "record_id": "r1",
            "contact_id": "c1",
            "amount": 50.0,
            "status": "completed",
            "ordered_at": "2025-01-02 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "tickets": [
        {
            "tenant_id": "acme",
            "source_system": "support",
            "record_id": "t1",
            "contact_id": "s2",
            "requester_email": "bob@bob.example",
            "priority": "high",
            "status": "open",
            "created_at": "2025-01-08 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "campaigns": [
        {
            "tenant_id": "acme",
            "source_system": "marketing",
            "record_id": "k1",
            "name": "Winter",
            "channel": "email",
            "updated_at": T0,
        },
    ],
    "campaign_members": [
        {
            "tenant_id": "acme",
            "source_system": "marketing",
            "record_id": "m1",
            "campaign_id": "k1",
            "email": "bob@bob.example",
            "status": "responded",
            "added_at": "2024-11-01 00:00:00+00",
            "first_responded_at": "2024-11-02 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "email_activity": [
        {
            "tenant_id": "acme",
            "source_system": "marketing",
            "record_id": "e1",
            "campaign_id": "k1",
            "email": "bob@bob.example",
            "activity_type": "opened",
            "occurred_at": "2024-11-02 00:00:00+00",
            "updated_at": T0,
        },
    ],
    "consents": [
        {
            "tenant_id": "acme",
            "source_system": "web",
            "record_id": "g1",
            "email": "annlee@gmail.com",
            "purpose": "marketing",
            "channel": "email",
            "status": "granted",
            "occurred_at": T0,
            "updated_at": T0,
        },
    ],
    "events": [
        {
            "tenant_id": "acme",
            "message_id": "m-1",
            "type": "page",
            "anonymous_id": "anon-1",
            "name": "Home",
            "timestamp": "2025-01-09 10:00:00+00",
        },
        {
            "tenant_id": "acme",
            "message_id": "m-2",
            "type": "identify",
            "anonymous_id": "anon-1",
            "user_id": "u1",
            "traits": json.dumps({"email": "ann.lee@gmail.com"}),
            "timestamp": "2025-01-09 10:05:00+00",
        },
        {
            "tenant_id": "acme",
            "message_id": "m-3",
            "type": "track",
            "user_id": "u1",
            "event": "Order Completed",
            "properties": json.dumps({"revenue": 50}),
            "timestamp": "2025-01-09 11:00:00+00",
        },
        {
            "tenant_id": "acme",
            "message_id": "m-4",
            "type": "page",
            "anonymous_id": "anon-9",
            "timestamp": "2025-01-09 12:00:00+00",
        },
    ],
}


def load_handmade(con: duckdb.DuckDBPyConnection) -> None:
    """Create the raw schema and insert the rows above (lineage columns filled in)."""
    ensure_raw_schema(con)
    tables = raw_tables()
    for table, rows in ROWS.items():
        names = [c.name for c in tables[table]]
        for line, row in enumerate(rows, start=1):
            values = {**row, "_file": f"handmade/{table}.csv", "_line": line, "_loaded_at": T0}
            columns = [n for n in names if n in values]
            placeholders = ", ".join("?" for _ in columns)
            con.execute(
                f'insert into raw."{table}" ({", ".join(columns)}) values ({placeholders})',
                [values[c] for c in columns],
            )


if __name__ == "__main__":
    from warehouse.connection import warehouse

    with warehouse() as connection:
        load_handmade(connection)

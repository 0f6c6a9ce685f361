"""The landing contract: what files in landing/ look like and what raw tables hold.

One definition read by the demo-data generator (writes it), the loader (validates
against it and creates the raw tables from it), the API's event collection (writes
events in it) and dbt's sources (documents it). Change it here and nowhere else.

Layout under ``landing/``::

    tenants/*.csv                              the tenant registry (no tenant column check)
    crm/<entity>/*.csv | *.parquet             CRM records, one folder per entity
    events/<tenant_id>/*.jsonl | *.jsonl.gz    Segment-spec messages, one per line

Every CRM row carries tenant_id, source_system, record_id (the source's own id) and
updated_at. A row is a *version* of a record: the same (tenant_id, source_system,
record_id, updated_at) seen again is a duplicate; a later updated_at is a new version
(staging keeps the latest). Events carry their tenant in the folder name because
Segment messages have no tenant field; the API writes each write key's batches into
its tenant's folder.
"""

from __future__ import annotations

from dataclasses import dataclass

# DuckDB types used for validation and for the raw tables.
VARCHAR, BIGINT, DOUBLE, BOOLEAN, DATE, TIMESTAMP = (
    "VARCHAR",
    "BIGINT",
    "DOUBLE",
    "BOOLEAN",
    "DATE",
    "TIMESTAMPTZ",
)

MAX_MESSAGE_BYTES = 32 * 1024  # Segment's per-message limit
MAX_BATCH_BYTES = 500 * 1024  # Segment's per-batch limit


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    required: bool = False
    description: str = ""


def _record(*columns: Column) -> tuple[Column, ...]:
    """Columns every CRM entity shares, then its own."""
    return (
        Column("tenant_id", VARCHAR, True, "tenant the record belongs to"),
        Column("source_system", VARCHAR, True, "crm, web, support or marketing"),
        Column("record_id", VARCHAR, True, "the source system's own id of the record"),
        Column("updated_at", TIMESTAMP, True, "when the source last changed the record (ISO 8601)"),
        *columns,
    )


TENANT_COLUMNS: tuple[Column, ...] = (
    Column("tenant_id", VARCHAR, True),
    Column("name", VARCHAR, True),
    Column("default_country", VARCHAR, True, "ISO 3166 alpha-2, used to normalise phone numbers"),
    Column("timezone", VARCHAR),
    Column("currency", VARCHAR),
    Column("updated_at", TIMESTAMP, True),
)

CRM_ENTITIES: dict[str, tuple[Column, ...]] = {
    "accounts": _record(
        Column("name", VARCHAR, True),
        Column("domain", VARCHAR),
        Column("industry", VARCHAR),
        Column("employee_count", BIGINT),
        Column("annual_revenue", DOUBLE),
        Column("country", VARCHAR),
        Column("city", VARCHAR),
        Column("owner_id", VARCHAR, description="users.record_id of the account owner"),
        Column("created_at", TIMESTAMP),
    ),
    # One folder for people from every source system: CRM contacts, web signups,
    # support-desk requesters and marketing-list subscribers.
    "contacts": _record(
        Column("account_id", VARCHAR),
        Column("first_name", VARCHAR),
        Column("last_name", VARCHAR),
        Column("email", VARCHAR),
        Column("phone", VARCHAR),
        Column("job_title", VARCHAR),
        Column("street", VARCHAR),
        Column("city", VARCHAR),
        Column("postal_code", VARCHAR),
        Column("country", VARCHAR),
        Column("date_of_birth", DATE),
        Column("user_id", VARCHAR, description="the product's user id, as sent in events' userId"),
        Column("created_at", TIMESTAMP),
    ),
    "leads": _record(
        Column("first_name", VARCHAR),
        Column("last_name", VARCHAR),
        Column("email", VARCHAR),
        Column("phone", VARCHAR),
        Column("company", VARCHAR),
        Column("job_title", VARCHAR),
        Column("industry", VARCHAR),
        Column("employee_count", BIGINT),
        Column("country", VARCHAR),
        Column("lead_source", VARCHAR, description="web, paid, organic, referral, event, partner"),
        Column(
            "status", VARCHAR, True, description="new, working, nurturing, mql, sql, converted, disqualified"
        ),
        Column("owner_id", VARCHAR),
        Column("created_at", TIMESTAMP, True),
        Column("mql_at", TIMESTAMP),
        Column("sql_at", TIMESTAMP),
        Column("converted_at", TIMESTAMP),
        Column("converted_contact_id", VARCHAR),
        Column("converted_account_id", VARCHAR),
        Column("converted_opportunity_id", VARCHAR),
    ),
    "opportunities": _record(
        Column("account_id", VARCHAR),
        Column("contact_id", VARCHAR),
        Column("lead_id", VARCHAR),
        Column("owner_id", VARCHAR),
        Column("name", VARCHAR),
        Column(
            "stage",
            VARCHAR,
            True,
            description="prospecting, qualification, proposal, negotiation, closed_won, closed_lost",
        ),
        Column("amount", DOUBLE),
        Column("currency", VARCHAR),
        Column("probability", DOUBLE, description="the rep's win probability, 0..1"),
        Column("close_date", DATE),
        Column("created_at", TIMESTAMP, True),
        Column("closed_at", TIMESTAMP),
    ),
    "opportunity_stage_history": _record(
        Column("opportunity_id", VARCHAR, True),
        Column("stage", VARCHAR, True),
        Column("entered_at", TIMESTAMP, True),
    ),
    "products": _record(
        Column("name", VARCHAR, True),
        Column("family", VARCHAR),
        Column("list_price", DOUBLE),
        Column("is_subscription", BOOLEAN),
    ),
    "orders": _record(
        Column("contact_id", VARCHAR),
        Column("account_id", VARCHAR),
        Column("product_id", VARCHAR),
        Column("quantity", BIGINT),
        Column("amount", DOUBLE, True),
        Column("currency", VARCHAR),
        Column("status", VARCHAR, True, description="completed, refunded, cancelled"),
        Column("ordered_at", TIMESTAMP, True),
    ),
    "subscriptions": _record(
        Column("account_id", VARCHAR),
        Column("contact_id", VARCHAR),
        Column("product_id", VARCHAR),
        Column("status", VARCHAR, True, description="active, past_due, cancelled"),
        Column("mrr", DOUBLE),
        Column("started_at", TIMESTAMP, True),
        Column("cancelled_at", TIMESTAMP),
        Column("current_period_end", TIMESTAMP),
    ),
    # Sales reps and support agents.
    "users": _record(
        Column("name", VARCHAR, True),
        Column("email", VARCHAR),
        Column("role", VARCHAR, True, description="sales_rep, support_agent, marketer, manager"),
        Column("team", VARCHAR),
        Column("skills", VARCHAR, description="semicolon-separated, for skill-based routing"),
        Column("territory", VARCHAR, description="country codes or region, for territory routing"),
        Column("is_active", BOOLEAN),
    ),
    "tickets": _record(
        Column("contact_id", VARCHAR, description="support-desk contact record id"),
        Column("requester_email", VARCHAR),
        Column("subject", VARCHAR),
        Column("category", VARCHAR),
        Column("priority", VARCHAR, True, description="low, normal, high, urgent"),
        Column("status", VARCHAR, True, description="new, open, pending, solved, closed"),
        Column("channel", VARCHAR, description="email, chat, phone, web"),
        Column("assignee_id", VARCHAR),
        Column("created_at", TIMESTAMP, True),
        Column("first_response_at", TIMESTAMP),
        Column("resolved_at", TIMESTAMP),
        Column("first_response_due_at", TIMESTAMP),
        Column("resolution_due_at", TIMESTAMP),
    ),
    "campaigns": _record(
        Column("name", VARCHAR, True),
        Column("channel", VARCHAR, True, description="email, sms, social, whatsapp"),
        Column("status", VARCHAR),
        Column("start_date", DATE),
        Column("end_date", DATE),
        Column("budget", DOUBLE),
        Column("owner_id", VARCHAR),
    ),
    "campaign_members": _record(
        Column("campaign_id", VARCHAR, True),
        Column("contact_id", VARCHAR, description="marketing-list contact record id"),
        Column("lead_id", VARCHAR),
        Column("email", VARCHAR),
        Column("phone", VARCHAR),
        Column("status", VARCHAR, description="targeted, sent, responded"),
        Column("added_at", TIMESTAMP),
        Column("first_responded_at", TIMESTAMP),
    ),
    "email_activity": _record(
        Column("campaign_id", VARCHAR),
        Column("contact_id", VARCHAR),
        Column("email", VARCHAR, True),
        Column(
            "activity_type",
            VARCHAR,
            True,
            description="sent, delivered, opened, clicked, bounced, unsubscribed",
        ),
        Column("url", VARCHAR),
        Column("occurred_at", TIMESTAMP, True),
    ),
    "nps_responses": _record(
        Column("contact_id", VARCHAR),
        Column("email", VARCHAR),
        Column("survey_type", VARCHAR, True, description="nps (0-10) or csat (1-5)"),
        Column("score", BIGINT, True),
        Column("comment", VARCHAR),
        Column("ticket_id", VARCHAR),
        Column("responded_at", TIMESTAMP, True),
    ),
    "consents": _record(
        Column("contact_id", VARCHAR),
        Column("email", VARCHAR),
        Column("phone", VARCHAR),
        Column("purpose", VARCHAR, True, description="marketing, analytics, profiling"),
        Column("channel", VARCHAR, True, description="email, sms, whatsapp, phone, push"),
        Column("status", VARCHAR, True, description="granted or withdrawn"),
        Column("source", VARCHAR, description="web_form, crm, import, api"),
        Column("occurred_at", TIMESTAMP, True),
    ),
}

# Segment spec message types we accept (https://segment.com/docs/connections/spec/).
EVENT_TYPES = ("identify", "track", "page", "screen", "group", "alias")

# Raw events table: the typed top-level Segment fields; nested objects stay JSON.
EVENT_COLUMNS: tuple[Column, ...] = (
    Column("tenant_id", VARCHAR, True, "from the landing folder"),
    Column("message_id", VARCHAR, True, "messageId"),
    Column("type", VARCHAR, True),
    Column("anonymous_id", VARCHAR, description="anonymousId; one of userId and anonymousId is required"),
    Column("user_id", VARCHAR, description="userId"),
    Column("event", VARCHAR, description="track: the event name (required for track)"),
    Column("name", VARCHAR, description="page/screen name"),
    Column("group_id", VARCHAR, description="group: groupId (required for group)"),
    Column("previous_id", VARCHAR, description="alias: previousId (required for alias)"),
    Column("timestamp", TIMESTAMP, True),
    Column("sent_at", TIMESTAMP),
    Column("context", "JSON"),
    Column("properties", "JSON"),
    Column("traits", "JSON"),
)

# Reason codes of the quarantine table; stable, documented in docs/ingestion.md.
QUARANTINE_REASONS = {
    "malformed_json": "the line is not a JSON object",
    "malformed_csv": "the CSV row cannot be parsed (broken quoting, wrong number of fields)",
    "oversize_message": f"the message is larger than {MAX_MESSAGE_BYTES} bytes",
    "missing_required_field": "a required field is absent or empty",
    "wrong_type": "a field's value cannot be read as its declared type",
    "invalid_value": "a field holds a value outside its allowed set (e.g. an unknown message type)",
    "unknown_tenant": "the tenant_id is not in the tenant registry",
}

"""Person-record features on hand-made staging tables (no dbt): what the model compares."""

from __future__ import annotations

from datetime import datetime

import duckdb
import pytest

from ml.identity import features

CONTACT_COLUMNS = (
    "tenant_id varchar, source_system varchar, contact_id varchar, account_id varchar, "
    "first_name_normalized varchar, last_name_normalized varchar, email_normalized varchar, "
    "phone_e164 varchar, street varchar, postal_code varchar, city varchar, date_of_birth date, "
    "user_id varchar, job_title varchar, created_at timestamp, loaded_at timestamp"
)
LEAD_COLUMNS = (
    "tenant_id varchar, source_system varchar, lead_id varchar, first_name_normalized varchar, "
    "last_name_normalized varchar, email_normalized varchar, phone_e164 varchar, company varchar, "
    "job_title varchar, created_at timestamp, loaded_at timestamp"
)
FORM_SUBMITTED = datetime(2025, 3, 1, 9, 30, 12)
IMPORTED = datetime(2025, 1, 2, 0, 0, 0)
LOADED = datetime(2025, 6, 1)


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("create schema staging; create schema reference")
    con.execute(f"create table staging.stg_crm__contacts ({CONTACT_COLUMNS})")
    con.execute(f"create table staging.stg_crm__leads ({LEAD_COLUMNS})")
    con.execute(
        "create table staging.stg_crm__accounts (tenant_id varchar, source_system varchar, "
        "account_id varchar, account_name varchar)"
    )
    con.execute("create table reference.role_email_local_parts as select 'info' as local_part")
    # One web form: a sign-up and a lead written in the same second.
    con.execute(
        "insert into staging.stg_crm__contacts values ('acme', 'web', 'W1', null, 'ann', 'lee', "
        "'ann.lee@gmail.com', null, null, null, null, null, 'usr_1', null, ?, ?)",
        [FORM_SUBMITTED, LOADED],
    )
    con.execute(
        "insert into staging.stg_crm__leads values ('acme', 'crm', 'L1', 'ann', 'lee', "
        "'ann@hawthornfield.com', null, 'Hawthorn Field LLC', '  Head  of Data ', ?, ?)",
        [FORM_SUBMITTED, LOADED],
    )
    # An import: more records created in one second than a person's sign-up writes.
    for i in range(features.MAX_SAME_CREATED + 1):
        con.execute(
            "insert into staging.stg_crm__leads values ('acme', 'crm', ?, 'bob', 'ray', null, null, "
            "null, null, ?, ?)",
            [f"I{i}", IMPORTED, LOADED],
        )
    features.register_lookups(con)
    return con


def _features(con: duckdb.DuckDBPyConnection, only: str | None = None) -> dict[str, dict]:
    rows = con.execute(features.person_records_sql(only=only))
    names = [d[0] for d in rows.description]
    return {row[names.index("node_key")]: dict(zip(names, row, strict=True)) for row in rows.fetchall()}


def test_creation_time_is_evidence_unless_a_batch_shares_it(con: duckdb.DuckDBPyConnection) -> None:
    out = _features(con)
    assert out["external_id:web:contacts:W1"]["created_at"] == FORM_SUBMITTED
    assert out["external_id:crm:leads:L1"]["created_minute"] == datetime(2025, 3, 1, 9, 30)
    # the import's shared second says nothing about who its records are
    assert all(out[f"external_id:crm:leads:I{i}"]["created_at"] is None for i in range(6))


def test_job_title_and_company_are_normalised(con: duckdb.DuckDBPyConnection) -> None:
    lead = _features(con)["external_id:crm:leads:L1"]
    assert lead["job_title"] == "head of data"
    assert lead["company_key"] == "hawthornfield"


def test_only_limits_features_to_the_given_records(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("create table wanted as select 'acme' as tenant_id, 'external_id:crm:leads:L1' as node_key")
    out = _features(con, only="wanted")
    assert list(out) == ["external_id:crm:leads:L1"]
    # computed alone, the record's features are the ones computed with everyone
    assert out["external_id:crm:leads:L1"] == _features(con)["external_id:crm:leads:L1"]


def test_refresh_features_computes_only_new_records_and_changed_clusters() -> None:
    from ml.identity.stage import ensure_tables, refresh_features

    con = duckdb.connect()
    con.execute("attach ':memory:' as wh")
    for schema in ("staging", "reference", "intermediate"):
        con.execute(f"create schema wh.{schema}")
    con.execute(f"create table wh.staging.stg_crm__contacts ({CONTACT_COLUMNS})")
    con.execute(f"create table wh.staging.stg_crm__leads ({LEAD_COLUMNS})")
    con.execute(
        "create table wh.staging.stg_crm__accounts (tenant_id varchar, source_system varchar, "
        "account_id varchar, account_name varchar)"
    )
    con.execute("create table wh.reference.role_email_local_parts as select 'info' as local_part")
    con.execute(
        "create table wh.intermediate.int_identity_edges_collected (tenant_id varchar, node_a varchar, node_b varchar)"
    )
    con.execute(
        "create table wh.intermediate.int_identity_identifiers_blocked (tenant_id varchar, node_key varchar)"
    )
    ensure_tables(con, "wh")

    def contact(record_id: str, first: str, title: str, email: str) -> None:
        # each record created in a minute of its own: creation time joins none of them
        con.execute(
            "insert into wh.staging.stg_crm__contacts values ('acme', 'crm', ?, null, ?, 'lee', ?, null, "
            "null, null, null, null, null, ?, ?, ?)",
            [record_id, first, email, title, datetime(2025, 1, 1, 8, int(record_id[1:])), datetime.now()],
        )
        con.execute(
            "insert into wh.intermediate.int_identity_edges_collected values ('acme', ?, ?)",
            [f"email:{email}", f"external_id:crm:contacts:{record_id}"],
        )

    contact("C1", "ann", "Engineer", "ann@x.com")
    contact("C2", "ann", "Engineer", "ann@x.com")
    contact("C3", "bob", "Analyst", "bob@y.com")
    con.execute("use memory")
    features.register_lookups(con)
    assert refresh_features(con, "wh") == (3, 3)
    assert refresh_features(con, "wh") == (0, 0)  # nothing new: nothing computed

    stored = (
        "select node_key, cluster_key, cluster_titles, features_hash from wh.identity.probabilistic_features"
    )
    before = {row[0]: row for row in con.execute(stored).fetchall()}
    # a new record joins bob's cluster through his email: only that cluster is profiled again
    contact("C4", "rob", "Team Lead", "bob@y.com")
    assert refresh_features(con, "wh") == (1, 2)
    after = {row[0]: row for row in con.execute(stored).fetchall()}
    bob = "external_id:crm:contacts:C3"
    assert after[bob][1] == after["external_id:crm:contacts:C4"][1] == "acme|" + bob
    assert after[bob][2] == ["analyst", "team lead"]
    ann = ("external_id:crm:contacts:C1", "external_id:crm:contacts:C2")
    assert all(after[key] == before[key] for key in ann)
    # an erased record goes, and its cluster is profiled again without it
    con.execute("delete from wh.staging.stg_crm__contacts where contact_id = 'C2'")
    assert refresh_features(con, "wh") == (0, 1)
    assert ann[1] not in {row[0] for row in con.execute(stored).fetchall()}

"""Who an erasure is about: exactly the subject, including identifiers the graph left
unlinked, and never the other people who share an identifier with them.

A hand-made warehouse (the tables erasure reads, with the columns dbt gives them) in
which Ann shares a role mailbox with Bob and a device with Bob, and sent events from a
browser she never identified on.
"""

from __future__ import annotations

import duckdb
import pytest

from warehouse.erasure import count_remaining, delete_subject, resolve_subject

TABLES = """
create schema raw; create schema intermediate; create schema marts;
create table raw.contacts (tenant_id varchar, source_system varchar, record_id varchar, email varchar,
    phone varchar, user_id varchar, _file varchar, _line bigint);
create table raw.events (tenant_id varchar, message_id varchar, user_id varchar, anonymous_id varchar,
    previous_id varchar, traits json, _file varchar, _line bigint);
create table intermediate.int_identity_customer_ids_assigned (tenant_id varchar, node_key varchar,
    node_value varchar, customer_id varchar);
create table intermediate.int_identity_nodes_clustered (tenant_id varchar, node_key varchar, component_id bigint);
create table marts.identity_blocked_identifiers (tenant_id varchar, identifier_type varchar,
    identifier_value varchar, reason varchar);
create table marts.fct_events (tenant_id varchar, message_id varchar, customer_id varchar,
    user_id varchar, anonymous_id varchar);
create table marts.customer_360 (tenant_id varchar, customer_id varchar, email varchar);
"""

ROWS = """
insert into raw.contacts values
    ('t', 'crm', 'C1', 'Ann.Lee@Example.com', '+44 7700 900123', 'u_ann', 'c.csv', 2),
    ('t', 'crm', 'C3', 'info@shared.example', null, null, 'c.csv', 3),
    ('t', 'crm', 'C2', 'info@shared.example', '+44 7700 900999', 'u_bob', 'c.csv', 4);
insert into raw.events values
    ('t', 'm1', 'u_ann', 'a_ann', null, '{"email": "ann.lee@example.com"}', 'e.jsonl', 1),
    ('t', 'm2', 'u_ann', 'a_loose', null, null, 'e.jsonl', 2),
    ('t', 'm3', 'u_ann', 'a_loose', null, null, 'e.jsonl', 3),
    ('t', 'm4', 'u_ann', 'a_shared', null, null, 'e.jsonl', 4),
    ('t', 'm5', 'u_bob', 'a_shared', null, null, 'e.jsonl', 5);
insert into intermediate.int_identity_customer_ids_assigned values
    ('t', 'email:ann.lee@example.com', 'ann.lee@example.com', 'cus_ann'),
    ('t', 'phone:+447700900123', '+447700900123', 'cus_ann'),
    ('t', 'user_id:u_ann', 'u_ann', 'cus_ann'),
    ('t', 'anonymous_id:a_ann', 'a_ann', 'cus_ann'),
    ('t', 'external_id:crm:contacts:C1', 'crm:contacts:C1', 'cus_ann'),
    ('t', 'external_id:crm:contacts:C3', 'crm:contacts:C3', 'cus_ann'),
    ('t', 'anonymous_id:a_loose', 'a_loose', 'cus_loose'),
    ('t', 'email:info@shared.example', 'info@shared.example', 'cus_role'),
    ('t', 'anonymous_id:a_shared', 'a_shared', 'cus_device'),
    ('t', 'user_id:u_bob', 'u_bob', 'cus_bob'),
    ('t', 'phone:+447700900999', '+447700900999', 'cus_bob'),
    ('t', 'external_id:crm:contacts:C2', 'crm:contacts:C2', 'cus_bob');
insert into intermediate.int_identity_nodes_clustered
    select tenant_id, node_key, dense_rank() over (order by customer_id) from intermediate.int_identity_customer_ids_assigned;
insert into marts.identity_blocked_identifiers values
    ('t', 'email', 'info@shared.example', 'role_email'),
    ('t', 'anonymous_id', 'a_shared', 'shared_device');
insert into marts.fct_events values
    ('t', 'm1', 'cus_ann', 'u_ann', 'a_ann'), ('t', 'm2', 'cus_ann', 'u_ann', 'a_loose'),
    ('t', 'm3', 'cus_ann', 'u_ann', 'a_loose'), ('t', 'm4', 'cus_ann', 'u_ann', 'a_shared'),
    ('t', 'm5', 'cus_bob', 'u_bob', 'a_shared');
insert into marts.customer_360 values
    ('t', 'cus_ann', 'ann.lee@example.com'), ('t', 'cus_loose', null), ('t', 'cus_bob', 'info@shared.example');
"""


@pytest.fixture
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute(TABLES)
    con.execute(ROWS)
    return con


def test_erasure_takes_the_unlinked_browser_and_leaves_shared_identifiers(con) -> None:
    subject = resolve_subject(con, "t", {"email": "ann.lee@example.com"})

    # The browser seen only with Ann's userId is hers, with the customer the graph gave it.
    assert subject.customer_ids == {"cus_ann", "cus_loose"}
    assert "a_loose" in subject.anonymous_ids
    # The role mailbox and the shared device are not hers alone.
    assert "info@shared.example" not in subject.emails | subject.raw_emails
    assert "a_shared" not in subject.anonymous_ids

    deleted = delete_subject(con, subject)
    assert deleted["raw.contacts"] == 2  # C1 and C3 (by record id), not Bob's C2
    assert deleted["raw.events"] == 4  # m1-m4, not Bob's m5 on the shared device
    assert count_remaining(con, subject) == {}

    assert con.execute("select record_id from raw.contacts").fetchall() == [("C2",)]
    assert con.execute("select message_id from raw.events").fetchall() == [("m5",)]
    left = {
        r[0]
        for r in con.execute(
            "select customer_id from intermediate.int_identity_customer_ids_assigned"
        ).fetchall()
    }
    assert left == {"cus_role", "cus_device", "cus_bob"}
    nodes = {
        r[0] for r in con.execute("select node_key from intermediate.int_identity_nodes_clustered").fetchall()
    }
    assert "anonymous_id:a_loose" not in nodes and "anonymous_id:a_shared" in nodes
    assert con.execute("select customer_id from marts.customer_360 order by 1").fetchall() == [("cus_bob",)]


def test_naming_a_shared_identifier_still_erases_it(con) -> None:
    """Asked by the role mailbox itself, the request means it: every row with it goes."""
    subject = resolve_subject(con, "t", {"email": "info@shared.example"})
    assert "info@shared.example" in subject.emails
    delete_subject(con, subject)
    assert count_remaining(con, subject) == {}
    assert (
        con.execute("select count(*) from raw.contacts where email = 'info@shared.example'").fetchone()[0]
        == 0
    )

"""Changes to a loaded warehouse that exercise every way the identity graph can change."""

from __future__ import annotations

import duckdb

from warehouse.erasure import delete_subject, resolve_subject

SHARED_EMAIL = "newly.shared@example.org"


def mutate_identity(con: duckdb.DuckDBPyConnection) -> None:
    """A split, an erasure, a merge, edges that disappear without any new edge and an
    identifier newly blocked (SHARED_EMAIL)."""
    # Split: a web signup's new version drops every identifier that linked it.
    tenant, record, source = con.execute(
        "select tenant_id, contact_id, source_system from staging.stg_crm__contacts "
        "where source_system = 'web' and email_normalized is not null and user_id is not null "
        "order by all limit 1"
    ).fetchone()
    con.execute(
        "insert into raw.contacts select * replace (null as email, null as user_id, null as phone, "
        "updated_at + interval 3 day as updated_at, now() as _loaded_at, 'mutation' as _file) "
        "from raw.contacts where tenant_id = ? and record_id = ? and source_system = ? "
        "order by updated_at desc limit 1",
        [tenant, record, source],
    )
    # Erasure: the person of a support-desk contact is erased the way an erasure request
    # is carried out: from raw and from every model table, incremental ones included.
    tenant, record = con.execute(
        "select tenant_id, contact_id from staging.stg_crm__contacts where source_system = 'support' "
        "order by all limit 1 offset 3"
    ).fetchone()
    delete_subject(con, resolve_subject(con, tenant, {"external_id": f"support:contacts:{record}"}))
    # Merge: a new subscriber with one person's email and another person's phone.
    email = con.execute(
        "select email from staging.stg_crm__contacts where tenant_id = 'acme' and email_normalized "
        "is not null order by all limit 1 offset 10"
    ).fetchone()[0]
    phone = con.execute(
        "select phone from staging.stg_crm__contacts where tenant_id = 'acme' and phone_e164 is not null "
        "and email is distinct from ? order by all limit 1 offset 20",
        [email],
    ).fetchone()[0]
    con.execute(
        "insert into raw.contacts (tenant_id, source_system, record_id, email, phone, updated_at, "
        "_file, _line, _loaded_at) values ('acme', 'marketing', 'MUTATION-MERGE', ?, ?, now(), "
        "'mutation', 1, now())",
        [email, phone],
    )
    # Edges that disappear with no fresh edge: tickets' new versions drop the requester email.
    con.execute(
        "insert into raw.tickets select * replace (null as requester_email, updated_at + interval 3 day "
        "as updated_at, now() as _loaded_at, 'mutation' as _file) from raw.tickets "
        "where requester_email is not null and contact_id is not null order by record_id limit 5"
    )
    # Newly blocked: an email on more person records than identity_max_records_per_identifier.
    con.execute(
        "insert into raw.contacts (tenant_id, source_system, record_id, email, updated_at, _file, "
        "_line, _loaded_at) select 'acme', 'marketing', 'MUTATION-SHARED-' || i, "
        f"'{SHARED_EMAIL}', now(), 'mutation', i, now() from range(12) as t(i)"
    )


def unshare_email(con: duckdb.DuckDBPyConnection) -> None:
    """Half of the records mutate_identity gave SHARED_EMAIL drop it: a blocked identifier
    whose edges vanish, left on fewer records than the limit."""
    con.execute(
        "insert into raw.contacts select * replace (null as email, updated_at + interval 1 day as updated_at, "
        "now() as _loaded_at, 'mutation' as _file) from raw.contacts "
        "where record_id like 'MUTATION-SHARED-%' and _line % 2 = 0"
    )

"""Golden test: the small generated data set, end to end (generate -> load -> dbt build).

Every dbt test must pass on realistic messy data, and the deterministic identity clusters
are scored against the generator's ground truth (pairwise precision and recall). The
deterministic stage merges only on shared identifiers, so its precision must be near
perfect; the recall it leaves is what the probabilistic stage is for.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from benchmarks.dbt_build import add_increment
from benchmarks.identity_deterministic import score_warehouse
from tests.conftest import GeneratedDataset, copy_home
from tests.dbt.dbt_runner import DbtRunner
from tests.dbt.mutations import SHARED_EMAIL, mutate_identity, unshare_email
from warehouse.connection import warehouse
from warehouse.settings import get_settings

pytestmark = pytest.mark.timeout(1200)

# Incremental tables and the marts built on them, with the columns that only say which run
# wrote a row: a rebuild must give what a build from scratch gives on the same data.
INCREMENTAL_RESULTS = {
    "staging.stg_crm__contacts": ["staged_at"],
    "staging.stg_crm__tickets": ["staged_at"],
    "marts.fct_events": ["resolved_at"],
    "marts.fct_sessions": ["built_at"],
    "intermediate.int_identity_alias_calls": [],
    "intermediate.int_identity_links_collected": ["linked_at"],
    "intermediate.int_identity_edges_collected": ["collected_at"],
    "intermediate.int_identity_identifiers_blocked": ["built_at"],
    "intermediate.int_identity_records_resolved": ["resolved_at", "previous_customer_id"],
    "intermediate.int_customer_profiles_survived": ["built_at"],
    "intermediate.int_customer_facts_summarized": ["built_at"],
    "intermediate.int_customer_activities_collected": ["built_at"],
    "intermediate.int_campaign_touches_collected": ["built_at"],
    "marts.customer_360": [],
    "marts.customer_lifecycle": [],
    "marts.customer_identifiers": [],
    "marts.customer_timeline": [],
}


def test_small_data_set_builds_and_resolves_people(
    built_small_home: Path, small_dataset: GeneratedDataset, crm360_home: Path, dbt: DbtRunner
) -> None:
    # The session's small warehouse: generated, loaded and built by `dbt build`, which fails
    # on any model error or failing test. The mutations below change a copy of it.
    copy_home(built_small_home, crm360_home)
    settings = get_settings()
    # `make test` runs dbt's unit tests here (a refresh leaves them out: BUILD_ARGS).
    results = json.loads((built_small_home / "dbt_target" / "run_results.json").read_text())["results"]
    unit_tests = [result for result in results if result["unique_id"].startswith("unit_test.")]
    assert len(unit_tests) >= 7 and all(result["status"] == "pass" for result in unit_tests)

    with warehouse(read_only=True) as con:
        scores = score_warehouse(con, small_dataset.truth)
        customers = con.execute("select count(*) from marts.customer_360").fetchone()[0]
        stages = dict(
            con.execute("select lifecycle_stage, count(*) from marts.customer_360 group by 1").fetchall()
        )
        unstitched = con.execute(
            "select count(*) from marts.fct_events where customer_id is null"
        ).fetchone()[0]
    print(json.dumps({"scores": scores, "customers": customers, "stages": stages}, indent=2))

    people = scores["person_records"]
    assert people["precision"] >= 0.99, people
    assert people["recall"] >= 0.70, people
    everything = scores["all_person_related_records"]
    assert everything["precision"] >= 0.99, everything
    assert everything["recall"] >= 0.75, everything
    events = scores["events"]
    assert events["precision"] >= 0.99, events
    assert events["recall"] >= 0.95, events
    assert unstitched == 0  # every event has a userId or anonymousId, so a customer
    assert {"Visitor", "Lead", "Customer"} <= set(stages)
    assert customers >= people["true_people"] * 0.9

    # Incremental clustering must find exactly the components a full recompute finds,
    # after a split, an erasure, a merge, edges that vanish without a new one and an email
    # blocked then unblocked; and the incremental models must give what a full refresh
    # gives, with 1% more data as well: events after the latest ones (a load) and events
    # back in the history (late data).
    add_increment(settings)
    add_increment(settings, late=True)
    with warehouse() as con:
        # A warehouse built before links and edges stored their key's hash: the next
        # rebuild fills it in (macro fill_edge_hash).
        for table in ("int_identity_links_collected", "int_identity_edges_collected"):
            con.execute(f"alter table intermediate.{table} drop column edge_hash")
        ids_before = dict(
            con.execute(
                "select node_key, customer_id from intermediate.int_identity_customer_ids_assigned "
                "where tenant_id = 'globex'"
            ).fetchall()
        )
        mutate_identity(con)
    dbt("build")
    assert _blocked(SHARED_EMAIL) == "shared_identifier"
    with warehouse() as con:
        unshare_email(con)
    dbt("build")
    assert _blocked(SHARED_EMAIL) is None
    incremental = _partition()
    with warehouse(read_only=True) as con:
        changes = {row[0] for row in con.execute("select change_type from marts.customer_merges").fetchall()}
        ids_after = dict(
            con.execute(
                "select node_key, customer_id from intermediate.int_identity_customer_ids_assigned "
                "where tenant_id = 'globex'"
            ).fetchall()
        )
    assert changes == {"merge", "split"}
    # Nothing changed in globex (the mutations touch acme): its ids are untouched.
    assert {k: v for k, v in ids_after.items() if k in ids_before} == ids_before
    with warehouse() as con:
        con.execute("create schema incremental_result")
        for table in INCREMENTAL_RESULTS:
            con.execute(f"create table incremental_result.{table.split('.')[1]} as {_comparable(con, table)}")
    dbt("run", "--full-refresh")
    assert _partition() == incremental
    with warehouse(read_only=True) as con:
        for table in INCREMENTAL_RESULTS:
            kept = f"incremental_result.{table.split('.')[1]}"
            rebuilt = _comparable(con, table)
            differences = con.execute(
                f"select count(*) from ((from {kept} except all {rebuilt}) union all ({rebuilt} except all from {kept}))"
            ).fetchone()[0]
            assert differences == 0, (
                f"{table}: {differences} rows differ between the rebuild and a full refresh"
            )


def _blocked(email: str) -> str | None:
    """Why the identity guards block this email (None: not blocked)."""
    with warehouse(read_only=True) as con:
        row = con.execute(
            "select reason from intermediate.int_identity_identifiers_blocked "
            "where identifier_type = 'email' and identifier_value = ?",
            [email],
        ).fetchone()
    return row[0] if row else None


def _comparable(con: duckdb.DuckDBPyConnection, table: str) -> str:
    """A select of the table without the columns that say which run wrote a row, with
    doubles rounded: a sum of doubles depends on the order rows arrive in."""
    schema, name = table.split(".")
    columns = con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = ? and table_name = ? "
        "order by column_index",
        [schema, name],
    ).fetchall()
    selected = [
        f"round({column}, 6) as {column}" if data_type == "DOUBLE" else column
        for column, data_type in columns
        if column not in INCREMENTAL_RESULTS[table]
    ]
    return f"select {', '.join(selected)} from {table}"


def _partition() -> set[frozenset[str]]:
    with warehouse(read_only=True) as con:
        rows = con.execute(
            "select tenant_id, component_id, node_key from intermediate.int_identity_nodes_clustered"
        ).fetchall()
    groups: dict[tuple[str, int], set[str]] = {}
    for tenant, component, node in rows:
        groups.setdefault((tenant, component), set()).add(node)
    return {frozenset(group) for group in groups.values()}

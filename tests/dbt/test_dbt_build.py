"""Build the dbt project on handmade raw rows: through Dagster, then again by hand.

Checks what a handful of rows can show: the warehouse is encrypted and the key never
reaches dbt's artifacts or logs; identity merges, guards and tenant isolation; stable ids
across runs, the merge log and old ids resolving.
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import pytest

from tests.conftest import DagsterBuild, copy_home
from tests.dbt.dbt_runner import DbtRunner
from warehouse.connection import load_key, warehouse
from warehouse.settings import get_settings

pytestmark = pytest.mark.timeout(900)


def _files_containing(root: Path, secret: str, pattern: str = "**/*") -> list[Path]:
    hits = []
    for path in root.glob(pattern):
        if path.is_file() and path.suffix not in (".key",) and secret.encode() in path.read_bytes():
            hits.append(path)
    return hits


def _clusters(tenant: str) -> dict[str, set[str]]:
    with warehouse(read_only=True) as con:
        rows = con.execute(
            "select customer_id, identifier_value from marts.customer_identifiers "
            "where tenant_id = ? and identifier_type = 'external_id'",
            [tenant],
        ).fetchall()
    clusters: dict[str, set[str]] = {}
    for customer_id, value in rows:
        clusters.setdefault(customer_id, set()).add(value)
    return clusters


def test_build_resolves_identity_keeps_ids_and_hides_the_key(
    handmade_built_by_dagster: DagsterBuild, crm360_home: Path, dbt: DbtRunner
) -> None:
    from pipelines.dbt.project import crm360_dbt_project

    # First build through Dagster, as `crm360 build` runs it (once per session, copied here).
    copy_home(handmade_built_by_dagster.home, crm360_home)
    result = handmade_built_by_dagster.result
    assert result.success
    checks = result.get_asset_check_evaluations()
    assert checks and all(check.passed for check in checks)

    settings = get_settings()
    key = load_key(settings)
    raw_file = settings.warehouse_path.read_bytes()
    assert b"annlee@gmail.com" not in raw_file  # encrypted at rest
    # Dagster's dbt commands write their artifacts and logs to the home's dbt_runs_dir;
    # `dbt parse` writes the manifest to the project's target folder.
    run_folders = list(settings.dbt_runs_dir.iterdir())
    assert run_folders and all((folder / "run_results.json").exists() for folder in run_folders)
    # A refresh runs the data tests, not dbt's unit tests (pipelines.dbt.cli.BUILD_ARGS;
    # the golden test's build runs those).
    ran = {
        result["unique_id"].split(".")[0]
        for folder in run_folders
        for result in json.loads((folder / "run_results.json").read_text())["results"]
    }
    assert "test" in ran and "unit_test" not in ran
    leaks = _files_containing(settings.dbt_runs_dir, key)
    leaks += _files_containing(crm360_dbt_project.project_dir / "target", key, pattern="*")
    assert not leaks, f"the warehouse key was written to {leaks}"

    acme = _clusters("acme")
    by_record = {record: customer for customer, records in acme.items() for record in records}
    # Ann's CRM contact and her web signup (gmail dots, plus tag) are one person.
    assert by_record["crm:contacts:c1"] == by_record["web:contacts:w1"]
    # Bob's contact, his lead and his support requester record (via his ticket) are one person.
    assert by_record["crm:contacts:c2"] == by_record["crm:leads:l1"] == by_record["support:contacts:s2"]
    # Bob and Cy share only info@: a role mailbox does not merge them.
    assert by_record["support:contacts:s3"] != by_record["support:contacts:s2"]
    # The same email in another tenant is another customer.
    globex = _clusters("globex")
    assert set(globex) and not set(globex) & set(acme)

    with warehouse(read_only=True) as con:
        blocked = con.execute(
            "select identifier_value, reason from marts.identity_blocked_identifiers"
        ).fetchall()
        assert ("info@shared.example", "role_email") in blocked
        # Anonymous history is stitched: the page view before identify belongs to Ann.
        ann_events = con.execute(
            "select message_id from marts.fct_events where customer_id = ? order by message_id",
            [by_record["crm:contacts:c1"]],
        ).fetchall()
        assert [m for (m,) in ann_events] == ["m-1", "m-2", "m-3"]
        ann = con.execute(
            "select first_name, email, country, lifecycle_stage, order_count from marts.customer_360 "
            "where customer_id = ?",
            [by_record["crm:contacts:c1"]],
        ).fetchone()
        assert ann == ("Ann", "annlee@gmail.com", "GB", "Customer", 1)
        ids_before = {c for c in acme}

        # Cy's support record now shares Bob's phone: Cy's customer merges into Bob's.
        con.close()
    with warehouse() as con:
        con.execute(
            "insert into raw.contacts (tenant_id, source_system, record_id, first_name, email, phone, "
            "updated_at, _file, _line, _loaded_at) values ('acme', 'support', 's3', 'Cy', "
            "'info@shared.example', '+447700900002', '2025-02-01 00:00:00+00', 'later.csv', 1, "
            "'2025-02-01 00:00:00+00')"
        )

    # Second build by hand (python -m pipelines.dbt), artifacts under the test's home.
    dbt("build")
    assert not _files_containing(crm360_home / "dbt_target", key)
    assert not _files_containing(crm360_home / "dbt_logs", key)

    acme_after = _clusters("acme")
    by_record_after = {record: customer for customer, records in acme_after.items() for record in records}
    bob, cy = by_record["crm:contacts:c2"], by_record["support:contacts:s3"]
    survivor = min(bob, cy)  # created in the same run: the smaller id is the older
    assert by_record_after["support:contacts:s3"] == by_record_after["crm:contacts:c2"] == survivor
    assert by_record_after["crm:contacts:c1"] == by_record["crm:contacts:c1"]  # untouched people keep ids
    assert set(acme_after) <= ids_before
    merged_away = max(bob, cy)
    with warehouse(read_only=True) as con:
        merges = con.execute(
            "select from_customer_id, to_customer_id, rule, change_type from marts.customer_merges"
        ).fetchall()
        assert (merged_away, survivor, "phone", "merge") in merges
        alias = con.execute(
            "select customer_id from marts.customer_aliases where alias_customer_id = ?", [merged_away]
        ).fetchone()
        assert alias == (survivor,)

    # A rebuild with nothing new changes no id and logs nothing.
    dbt("build", "--select", "+customer_merges")
    assert _clusters("acme") == acme_after
    with warehouse(read_only=True) as con:
        assert con.execute("select count(*) from marts.customer_merges").fetchone()[0] == len(merges)


def test_components_follow_a_long_chain(
    handmade_built_by_dagster: DagsterBuild, crm360_home: Path, dbt: DbtRunner
) -> None:
    """A chain of 200 identifiers is one component however many hops it spans (no
    round limit), a node with no edge stays alone, and degrees count neighbours."""
    copy_home(handmade_built_by_dagster.home, crm360_home)
    chain = [f"email:n{i:03d}@chain.example" for i in range(200)]
    with warehouse() as con:
        # Gone, so that the run below builds it as a first run does, from every edge.
        con.execute("drop table intermediate.int_identity_nodes_clustered")
        # int_identity_edges_filtered is a view over these edges (none of them blocked).
        con.execute("delete from intermediate.int_identity_edges_collected")
        con.executemany(
            "insert into intermediate.int_identity_edges_collected (tenant_id, node_a, node_b, rule) "
            "values ('t1', ?, ?, 'email')",
            [*itertools.pairwise(chain), ("email:alone@x.example", "email:alone@x.example")],
        )
    dbt("run", "--select", "int_identity_nodes_clustered")
    with warehouse(read_only=True) as con:
        rows = con.execute(
            "select node_key, component_id, component_size, degree from intermediate.int_identity_nodes_clustered "
            "where tenant_id = 't1'"
        ).fetchall()
    by_key = {key: (component, size, degree) for key, component, size, degree in rows}
    assert {by_key[key][0] for key in chain} == {by_key[chain[0]][0]}
    assert {by_key[key][1] for key in chain} == {200}
    assert [by_key[key][2] for key in (chain[0], chain[100], chain[-1])] == [1, 2, 1]
    assert by_key["email:alone@x.example"][1] == 1
    assert by_key["email:alone@x.example"][0] != by_key[chain[0]][0]

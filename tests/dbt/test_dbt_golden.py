"""Golden test: the small generated data set, end to end (generate -> load -> dbt build).

Every dbt test must pass on realistic messy data, and the deterministic identity clusters
are scored against the generator's ground truth (pairwise precision and recall). The
deterministic stage merges only on shared identifiers, so its precision must be near
perfect; the recall it leaves is what the probabilistic stage is for.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.identity_deterministic import score_warehouse
from tests.dbt.dbt_runner import DbtRunner
from tests.dbt.mutations import mutate_identity
from warehouse.connection import warehouse
from warehouse.settings import get_settings

pytestmark = pytest.mark.timeout(900)


def test_small_data_set_builds_and_resolves_people(crm360_home: Path, dbt: DbtRunner) -> None:
    from pipelines.generator import generate
    from pipelines.ingest.loader import load_landing

    settings = get_settings()
    generate("small", 42, settings.landing_dir, settings.ground_truth_dir)
    with warehouse() as con:
        load_landing(settings.landing_dir, con)

    dbt("build")  # fails on any model error or failing test

    with warehouse(read_only=True) as con:
        scores = score_warehouse(con, settings.ground_truth_dir)
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
    # after a split, an erasure, a merge and edges that vanish without a new one.
    with warehouse() as con:
        ids_before = dict(
            con.execute(
                "select node_key, customer_id from intermediate.int_identity_customer_ids_assigned "
                "where tenant_id = 'globex'"
            ).fetchall()
        )
        mutate_identity(con)
    dbt("build")
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
    dbt("run", "--full-refresh", "--select", "int_identity_nodes_clustered")
    assert _partition() == incremental


def _partition() -> set[frozenset[str]]:
    with warehouse(read_only=True) as con:
        rows = con.execute(
            "select tenant_id, component_id, node_key from intermediate.int_identity_nodes_clustered"
        ).fetchall()
    groups: dict[tuple[str, int], set[str]] = {}
    for tenant, component, node in rows:
        groups.setdefault((tenant, component), set()).add(node)
    return {frozenset(group) for group in groups.values()}

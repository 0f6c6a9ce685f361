"""The probabilistic stage on the small generated warehouse, end to end through dbt.

One warehouse, built once, walked through in order: first run (train, score, merge),
stable ids and the merge log for probabilistic merges, an incremental run that scores
only a new record, reviewer decisions that override the model, and over-merge protection.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from benchmarks.identity_deterministic import pairwise_scores
from ml.identity.reviews import record_decision, review_queue
from ml.identity.stage import run_probabilistic_stage
from pipelines.identity.assets import stage_config
from tests.dbt.dbt_runner import DbtRunner
from tests.identity.conftest import AFTER_STAGE
from warehouse.connection import warehouse

pytestmark = pytest.mark.timeout(600)


def _person_scores(con, truth: Path) -> dict:
    return pairwise_scores(
        con,
        f"""select truth.tenant_id, ids.customer_id as predicted, truth.person_id as actual
        from read_parquet('{truth / "records.parquet"}') as truth
        left join intermediate.int_identity_customer_ids_assigned as ids
            on truth.tenant_id = ids.tenant_id
            and ids.node_key = 'external_id:' || truth.source_system || ':' || truth.entity || ':' || truth.record_id
        where truth.entity in ('contacts', 'leads')""",
    )


def _ids(con) -> dict[tuple[str, str], str]:
    rows = con.execute(
        "select tenant_id, node_key, customer_id from intermediate.int_identity_customer_ids_assigned"
    ).fetchall()
    return {(t, n): c for t, n, c in rows}


def test_probabilistic_stage_end_to_end(identity_home: Path) -> None:
    dbt = DbtRunner(identity_home)
    truth = identity_home / "ground_truth"
    config = stage_config()
    with warehouse(read_only=True) as con:
        before = _person_scores(con, truth)
        ids_before = _ids(con)

    # 1. First run: trains, saves a versioned model, scores every record.
    with warehouse() as con:
        first = run_probabilistic_stage(con, config)
    assert first.mode == "full" and first.trained
    assert first.records_featurized == first.records_profiled == first.records
    assert Path(first.model_path).exists() and first.model_version in first.model_path
    assert first.statuses.get("accepted", 0) > 0
    assert {w["comparison"] for w in first.match_weights} >= {"first_name", "last_name", "cluster_companies"}
    dbt("run", "-s", AFTER_STAGE)

    with warehouse(read_only=True) as con:
        after = _person_scores(con, truth)
        ids_after = _ids(con)
        merges = con.execute(
            """select from_customer_id, to_customer_id, rule, evidence
            from intermediate.int_identity_customer_id_changes where rule like '%probabilistic%'"""
        ).fetchall()
        edges = con.execute(
            "select count(*) from intermediate.int_identity_edges_filtered where stage = 'probabilistic'"
        ).fetchone()[0]
    assert edges == first.statuses["accepted"]
    assert after["precision"] >= 0.99, after
    assert after["recall"] > before["recall"], (before, after)
    # Stable ids: every probabilistic merge keeps an id that existed, is logged with its
    # rule and evidence (model version, probability, compared fields), and old ids survive.
    assert merges
    for from_id, to_id, rule, evidence in merges:
        assert "probabilistic_match" in rule
        assert "splink-" in evidence and "first_name" in evidence
        assert to_id in ids_before.values() and from_id in ids_before.values()
    surviving = {to_id for _, to_id, _, _ in merges}
    assert surviving <= set(ids_after.values())
    unchanged = [key for key, cid in ids_before.items() if cid not in {m[0] for m in merges}]
    assert all(ids_after[key] == ids_before[key] for key in unchanged)

    # 2. Nothing new: no features are computed and nothing is scored again.
    with warehouse() as con:
        scored_at = dict(
            con.execute("select pair_id, scored_at from identity.probabilistic_matches").fetchall()
        )
        again = run_probabilistic_stage(con, config)
        assert again.mode == "unchanged" and not again.trained and again.records_scored == 0
        assert again.records_featurized == again.records_profiled == 0

        # 3. Incremental: a new CRM duplicate of a known person gets features alone and is
        # scored alone (against the rest), old pairs keep their scores, and the person
        # keeps their customer_id.
        node, tenant = con.execute(
            """select 'external_id:' || c.source_system || ':contacts:' || c.contact_id, c.tenant_id
            from staging.stg_crm__contacts as c
            where c.source_system = 'crm' and c.date_of_birth is not null and c.account_id is not null
            order by c.contact_id limit 1"""
        ).fetchone()
        record_id = node.rsplit(":", 1)[1]
        con.execute(
            """insert into raw.contacts
            select * replace (record_id || '-dup' as record_id, null as email, null as phone,
                null as user_id, now() as _loaded_at, 'test/increment' as _file)
            from raw.contacts where source_system = 'crm' and record_id = ? and tenant_id = ?
            qualify row_number() over (order by updated_at desc) = 1""",
            [record_id, tenant],
        )
    # As in the pipeline, staging (an incremental table) takes the new row before the stage runs.
    dbt("run", "-s", "stg_crm__contacts")
    with warehouse() as con:
        incremental = run_probabilistic_stage(con, config)
        assert incremental.mode == "incremental"
        assert incremental.records_featurized == incremental.records_profiled == 1
        assert 1 <= incremental.records_scored <= 10, incremental  # the new record (and its cluster's)
        new_pairs = con.execute(
            "select status, node_a, node_b from identity.probabilistic_matches where node_a = ? or node_b = ?",
            [node + "-dup", node + "-dup"],
        ).fetchall()
        assert any(status == "accepted" for status, *_ in new_pairs), new_pairs
        kept = dict(con.execute("select pair_id, scored_at from identity.probabilistic_matches").fetchall())
        untouched = [p for p in kept if p in scored_at and kept[p] == scored_at[p]]
        assert len(untouched) >= 0.9 * len(scored_at)
    dbt("run", "-s", "int_identity_links_collected", "int_identity_edges_collected", AFTER_STAGE)
    with warehouse(read_only=True) as con:
        ids_now = _ids(con)
    assert ids_now[(tenant, node + "-dup")] == ids_now[(tenant, node)] == ids_after[(tenant, node)]

    # 4. Review: a reviewer's reject beats the model, a confirm beats the threshold.
    with warehouse() as con:
        accepted = con.execute(
            "select pair_id from identity.probabilistic_matches where status = 'accepted' order by pair_id limit 1"
        ).fetchone()[0]
        queue = review_queue(con)
        assert queue and all(
            item["status"] in ("review", "blocked_conflict", "blocked_cluster_size") for item in queue
        )
        record_decision(con, accepted, "reject", "tester")
        record_decision(con, queue[0]["pair_id"], "confirm", "tester", "same person, checked by phone")
        run_probabilistic_stage(con, config)
        status = dict(
            con.execute(
                "select pair_id, status from identity.probabilistic_matches where pair_id in (?, ?)",
                [accepted, queue[0]["pair_id"]],
            ).fetchall()
        )
        assert status == {accepted: "rejected_by_reviewer", queue[0]["pair_id"]: "confirmed"}
        assert queue[0]["pair_id"] not in {item["pair_id"] for item in review_queue(con)}

        # 5. Over-merge protection: with a limit of 2 records per cluster, merges that
        # would make bigger clusters are blocked and reported instead.
        strict = run_probabilistic_stage(con, dataclasses.replace(config, max_cluster_records=2))
        assert strict.statuses.get("blocked_cluster_size", 0) > 0
        reasons = con.execute(
            "select status_reason from identity.probabilistic_matches where status = 'blocked_cluster_size'"
        ).fetchall()
        assert all("limit 2" in reason for (reason,) in reasons)

"""The feature marts are point-in-time: what happens after the cut-off changes no feature.

Builds the ML marts alone (dbt run -s path:models/ml) on handmade upstream tables, then
rewrites everything after the cut-off (events, touches, tickets and their responses,
NPS answers, orders, subscription versions, lead outcomes) and builds again: every
training row's features are identical, while its labels, which come from after the
cut-off, move. The control: in the same build, a second tenant gets the same kind of
change before the cut-off, and its features do change.
"""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from tests.dbt.dbt_runner import DbtRunner
from tests.ml import handmade
from warehouse.connection import warehouse

pytestmark = pytest.mark.timeout(600)

MARTS = {
    "ml_lead_features": ["tenant_id", "source_system", "lead_id"],
    "ml_churn_features": ["tenant_id", "source_system", "subscription_id"],
    "ml_customer_value_features": ["tenant_id", "customer_id"],
}
NOT_FEATURES = {"label", "holdout_purchases", "holdout_value", "stage"}
VARS = json.dumps({"ml_cutoff": str(handmade.CUTOFF)})


def _train_rows() -> dict[str, pl.DataFrame]:
    with warehouse(read_only=True) as con:
        return {
            table: con.execute(f"select * from features.{table} where dataset = 'train'").pl().sort(keys)
            for table, keys in MARTS.items()
        }


def _features(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.drop([c for c in frame.columns if c in NOT_FEATURES])


def _rewrite_after_cutoff(con) -> None:
    rng = np.random.default_rng(99)
    after, end = handmade.CUTOFF + timedelta(seconds=1), handmade.AS_OF
    cut = handmade.CUTOFF
    con.execute("delete from marts.fct_events where tenant_id = 'acme' and occurred_at > ?", [cut])
    con.register("_e", handmade.events(rng, 4000, after, end).to_arrow())
    con.execute("insert into marts.fct_events select * from _e")
    con.execute(
        "delete from intermediate.int_campaign_touches_collected where tenant_id = 'acme' and touched_at > ?",
        [cut],
    )
    con.register("_t", handmade.touches(rng, 2000, after, end).to_arrow())
    con.execute("insert into intermediate.int_campaign_touches_collected select * from _t")
    # tickets: new ones after the cut-off, and answers given after it moved (still after it)
    con.register("_k", handmade.tickets(rng, 300, after, end, "NEWT").to_arrow())
    con.execute("insert into intermediate.int_tickets_sla_measured select * from _k")
    con.execute(
        "update intermediate.int_tickets_sla_measured set first_response_at = first_response_at + interval 5 day "
        "where tenant_id = 'acme' and first_response_at > ?",
        [cut],
    )
    con.execute(
        "update intermediate.int_tickets_sla_measured set resolved_at = null where tenant_id = 'acme' and resolved_at > ?",
        [cut],
    )
    nps = handmade.nps(rng, 200, after, end, "NEWN")
    con.register("_n", nps.to_arrow())
    con.execute("insert into staging.stg_crm__nps_responses select * exclude (customer_id) from _n")
    orders = handmade.orders(rng, 800, after, end, "NEWO")
    con.register("_o", orders.to_arrow())
    con.execute("insert into staging.stg_crm__orders select * exclude (customer_id) from _o")
    con.execute(
        "insert into intermediate.int_identity_records_resolved "
        "select tenant_id, 'nps_responses', source_system, nps_response_id, customer_id from _n "
        "union all select tenant_id, 'orders', source_system, order_id, customer_id from _o"
    )
    # subscriptions: every one cancelled after the cut-off by a new version
    con.execute(
        "insert into raw.subscriptions select * replace ('cancelled' as status, ?::timestamptz as cancelled_at, "
        "?::timestamptz as updated_at, ?::timestamptz as _loaded_at) from raw.subscriptions "
        "where tenant_id = 'acme' qualify row_number() over (partition by record_id order by updated_at desc) = 1",
        [after + timedelta(days=3), after + timedelta(days=3), after + timedelta(days=3)],
    )
    # lead outcomes after the cut-off: every open lead now wins right after it
    con.execute(
        "update staging.stg_crm__leads set converted_at = ?::timestamp + interval 1 day, status = 'converted' "
        "where tenant_id = 'acme' and (converted_at is null or converted_at > ?)",
        [cut, cut],
    )


def test_changing_data_after_the_cutoff_changes_no_feature(crm360_home: Path, dbt: DbtRunner) -> None:
    with warehouse() as con:
        handmade.write_upstream(con)
    dbt("build", "-s", "path:models/ml", "--vars", VARS)  # with the marts' own tests
    before = _train_rows()
    for table, frame in before.items():
        assert len(frame) > 20, f"{table} has too few training rows to prove anything"
    assert before["ml_lead_features"]["web_events"].sum() > 0
    assert before["ml_churn_features"]["is_past_due"].sum() > 0

    with warehouse() as con:
        _rewrite_after_cutoff(con)
        # the control, for the other tenant: events just before the cut-off
        con.execute(
            "insert into marts.fct_events select tenant_id, customer_id, ?::timestamp - interval 2 day "
            "from marts.fct_events where tenant_id = 'globex' limit 500",
            [handmade.CUTOFF],
        )
    dbt("run", "-s", "path:models/ml", "--vars", VARS)
    after = _train_rows()

    for table, frame in before.items():
        assert after[table].select(MARTS[table]).equals(frame.select(MARTS[table])), f"{table}: rows changed"
        acme = pl.col("tenant_id") == "acme"
        assert _features(after[table].filter(acme)).equals(_features(frame.filter(acme))), (
            f"{table}: a feature read the future"
        )
    acme = pl.col("tenant_id") == "acme"
    globex = pl.col("tenant_id") == "globex"
    # the labels do come from after the cut-off
    for table, column in (
        ("ml_lead_features", "label"),
        ("ml_churn_features", "label"),
        ("ml_customer_value_features", "holdout_value"),
    ):
        assert not after[table].filter(acme)[column].equals(before[table].filter(acme)[column]), table
    # and a change before the cut-off is seen
    churn_before, churn_after = before["ml_churn_features"], after["ml_churn_features"]
    assert not _features(churn_after.filter(globex)).equals(_features(churn_before.filter(globex)))


def _rows(dataset: str) -> dict[str, list[tuple]]:
    with warehouse(read_only=True) as con:
        return {
            table: con.execute(
                f"select * from features.{table} where dataset = ? order by all", [dataset]
            ).fetchall()
            for table in MARTS
        }


def test_runs_that_only_score_keep_the_training_rows(crm360_home: Path, dbt: DbtRunner) -> None:
    """refresh_job and ml_score_job never train: their dbt build recomputes the feature
    marts' scoring rows and keeps the training rows of the last retrain. A run without
    their tag (ml_retrain_job, crm360 build, the UI) recomputes both."""
    import dagster as dg

    from pipelines.dbt import crm360_dbt_assets
    from pipelines.dbt.resources import dbt_resource
    from pipelines.ml.assets import SCORING_RUN_TAGS

    with warehouse() as con:
        handmade.write_upstream(con)
    # the default cut-off (ml_horizon_days before the as-of time), as Dagster's runs use
    dbt("run", "-s", "path:models/ml")
    built = {dataset: _rows(dataset) for dataset in ("train", "score")}
    for dataset, rows in built.items():
        assert all(len(rows[table]) > 20 for table in MARTS), f"too few {dataset} rows to prove anything"
    with warehouse() as con:  # a mark that no computation writes
        for table in MARTS:
            con.execute(f"update features.{table} set point_at = timestamp '1900-01-01'")

    def build_feature_marts(tags: dict[str, str]) -> None:
        keys = [key for key in crm360_dbt_assets.keys if key.path[-1] in MARTS]
        result = dg.materialize(
            [crm360_dbt_assets],
            selection=keys,
            resources={"dbt": dbt_resource()},
            instance=dg.DagsterInstance.ephemeral(),
            tags=tags,
        )
        assert result.success
        assert {e.asset_key for e in result.get_asset_materialization_events()} == set(keys)

    build_feature_marts(SCORING_RUN_TAGS)
    assert _rows("score") == built["score"]
    with warehouse(read_only=True) as con:
        for table in MARTS:
            kept = con.execute(
                f"select count(*), count(*) filter (where point_at <> '1900-01-01') "
                f"from features.{table} where dataset = 'train'"
            ).fetchone()
            assert kept == (len(built["train"][table]), 0), f"{table}: a scoring run recomputed training rows"

    build_feature_marts({})
    assert _rows("train") == built["train"] and _rows("score") == built["score"]


def test_a_bad_ml_datasets_var_fails_with_a_clear_message(crm360_home: Path, dbt: DbtRunner) -> None:
    with warehouse() as con:
        handmade.write_upstream(con)
    dbt("run", "-s", "ml_cutoffs", "ml_lead_features")
    query = "select * from features.ml_lead_features order by all"
    with warehouse(read_only=True) as con:
        before = con.execute(query).fetchall()
    bad = dbt("run", "-s", "ml_lead_features", "--vars", json.dumps({"ml_datasets": ["scores"]}), check=False)
    assert bad.returncode != 0
    assert "var ml_datasets must be a non-empty list of 'train' and 'score', got ['scores']" in bad.stdout
    with warehouse(read_only=True) as con:
        assert con.execute(query).fetchall() == before

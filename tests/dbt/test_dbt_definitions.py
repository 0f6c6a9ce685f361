"""The dbt assets as Dagster sees them: keys, groups, checks, the warehouse pool."""

from __future__ import annotations

from dagster import AssetKey, Definitions

from pipelines.dbt import crm360_dbt_assets, dbt_defs
from pipelines.dbt.translator import Crm360DbtTranslator


def test_models_are_assets_keyed_by_schema_and_grouped_by_layer() -> None:
    graph = Definitions.merge(dbt_defs).resolve_asset_graph()
    keys = set(graph.get_all_asset_keys())
    for schema, name, group in [
        ("staging", "stg_crm__contacts", "staging"),
        ("staging", "stg_segment__events", "staging"),
        ("intermediate", "int_identity_customer_ids_assigned", "intermediate"),
        ("marts", "customer_360", "marts"),
        ("marts", "customer_identifiers", "marts"),
        ("reference", "country_codes", "reference"),
    ]:
        key = AssetKey([schema, name])
        assert key in keys
        assert graph.get(key).group_name == group


def test_sources_are_the_ingest_assets_keys() -> None:
    deps = crm360_dbt_assets.asset_deps[AssetKey(["staging", "stg_crm__contacts"])]
    assert AssetKey(["raw", "contacts"]) in deps
    deps = crm360_dbt_assets.asset_deps[AssetKey(["staging", "stg_segment__events"])]
    assert AssetKey(["raw", "events"]) in deps


def test_dbt_tests_are_asset_checks() -> None:
    checks = {(key.asset_key.path[-1], key.name) for key in crm360_dbt_assets.check_keys}
    assert any(asset == "customer_360" for asset, _ in checks)
    assert any(
        asset == "int_customer_facts_summarized" and "assert_customer_facts_cover_every_customer" in name
        for asset, name in checks
    )


def test_dbt_step_is_in_the_warehouse_pool() -> None:
    assert crm360_dbt_assets.op.pool == "warehouse"


def test_translator_groups_by_top_folder() -> None:
    translator = Crm360DbtTranslator()
    props = {
        "resource_type": "model",
        "fqn": ["crm360", "marts", "sales", "opportunities"],
        "schema": "marts",
        "name": "opportunities",
    }
    assert translator.get_group_name(props) == "marts"
    assert translator.get_asset_key(props) == AssetKey(["marts", "opportunities"])
    assert translator.get_asset_key(
        {"resource_type": "source", "name": "events", "source_name": "segment"}
    ) == (AssetKey(["raw", "events"]))

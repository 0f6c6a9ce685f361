"""The Fellegi-Sunter model of person records: splink 5 settings, training, scoring.

Comparisons are written as splink settings dictionaries (SQL conditions with labels), so
the saved model is plain JSON that reads the same in any splink version, and each level's
label becomes the evidence on a match edge. Every blocking rule includes tenant_id:
records of different tenants are never compared.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

logger = logging.getLogger(__name__)


def level(sql: str, label: str, *, null: bool = False, tf: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"sql_condition": sql, "label_for_charts": label}
    if null:
        out["is_null_level"] = True
    if tf:  # term-frequency adjusted: a rare name agreeing says more than a common one
        out["tf_adjustment_column"] = tf
        out["tf_adjustment_weight"] = 1.0
    return out


def comparison(name: str, description: str, levels: Sequence[dict[str, Any]], *, null_sql: str) -> dict:
    return {
        "output_column_name": name,
        "comparison_description": description,
        "comparison_levels": [
            level(null_sql, "null", null=True),
            *levels,
            level("ELSE", "differs"),
        ],
    }


def both_null_any(*columns: str) -> str:
    return " OR ".join(f'"{c}_l" IS NULL OR "{c}_r" IS NULL' for c in columns)


def jw(column: str, threshold: float) -> str:
    return f'jaro_winkler_similarity("{column}_l", "{column}_r") >= {threshold}'


def first_name_comparison(
    first: str = "first_name", canonicals: str | None = "first_name_canonicals", *, tf: bool = True
) -> dict:
    levels = [level(f'"{first}_l" = "{first}_r"', "exact", tf=first if tf else None)]
    if canonicals:
        levels.append(level(f'list_has_any("{canonicals}_l", "{canonicals}_r")', "nickname"))
    levels += [level(jw(first, 0.92), "jaro-winkler >= 0.92"), level(jw(first, 0.8), "jaro-winkler >= 0.8")]
    return comparison(first, "given name (nicknames, typos)", levels, null_sql=both_null_any(first))


def last_name_comparison(last: str = "last_name", *, tf: bool = True) -> dict:
    return comparison(
        last,
        "surname (typos)",
        [
            level(f'"{last}_l" = "{last}_r"', "exact", tf=last if tf else None),
            level(jw(last, 0.92), "jaro-winkler >= 0.92"),
            level(jw(last, 0.8), "jaro-winkler >= 0.8"),
        ],
        null_sql=both_null_any(last),
    )


def dob_comparison(dob: str = "dob") -> dict:
    as_text = f"strftime(\"{dob}_l\", '%Y%m%d')", f"strftime(\"{dob}_r\", '%Y%m%d')"
    return comparison(
        dob,
        "date of birth",
        [
            level(f'"{dob}_l" = "{dob}_r"', "exact"),
            level(f"damerau_levenshtein({as_text[0]}, {as_text[1]}) <= 1", "one digit off"),
            level(
                f'year("{dob}_l") = year("{dob}_r") and month("{dob}_l") = day("{dob}_r") '
                f'and day("{dob}_l") = month("{dob}_r")',
                "day and month swapped",
            ),
            level(f'abs(datediff(\'day\', "{dob}_l", "{dob}_r")) <= 366', "within a year"),
        ],
        null_sql=both_null_any(dob),
    )


def empty_any(*columns: str) -> str:
    return " OR ".join(f'coalesce(len("{c}_l"), 0) = 0 OR coalesce(len("{c}_r"), 0) = 0' for c in columns)


def overlap(column: str) -> str:
    return f'list_has_any("{column}_l", "{column}_r")'


def created_within(column: str, seconds: int) -> str:
    """Some record of one side was created within ``seconds`` of some record of the other."""
    return (
        f'list_bool_or(list_transform("{column}_l", x -> list_bool_or(list_transform("{column}_r", '
        f"y -> abs(epoch(x) - epoch(y)) <= {seconds}))))"
    )


def crm_settings() -> dict[str, Any]:
    """Settings of the CRM person-record model (features from ml.identity.features).

    Names are compared record to record; everything else through the two records'
    deterministic cluster profiles (lists), so what a cluster knows from any of its
    records counts.
    """
    comparisons = [
        first_name_comparison(),
        last_name_comparison(),
        comparison(
            "cluster_birth",
            "date of birth (and birth-year digits of personal emails)",
            [
                level(overlap("cluster_dobs"), "same date of birth"),
                level(overlap("cluster_birth_years"), "same birth year"),
            ],
            null_sql=empty_any("cluster_birth_years"),
        ),
        comparison(
            "cluster_email_locals",
            "email local parts not spelled from the name (e.g. handle86)",
            [level(overlap("cluster_email_locals"), "shared")],
            null_sql=empty_any("cluster_email_locals"),
        ),
        comparison(
            "cluster_phones",
            "phone numbers (last 7 digits)",
            [level(overlap("cluster_phones"), "shared")],
            null_sql=empty_any("cluster_phones"),
        ),
        comparison(
            "cluster_address",
            "street address and postcode",
            [
                level(
                    f"{overlap('cluster_streets')} AND {overlap('cluster_postcodes')}", "street and postcode"
                ),
                level(overlap("cluster_streets"), "street"),
                level(overlap("cluster_postcodes"), "postcode"),
            ],
            null_sql=f"({empty_any('cluster_streets')}) AND ({empty_any('cluster_postcodes')})",
        ),
        comparison(
            "cluster_companies",
            "company (account, lead company or work email domain)",
            [level(overlap("cluster_companies"), "shared")],
            null_sql=empty_any("cluster_companies"),
        ),
        comparison(
            "cluster_titles",
            "job title",
            [level(overlap("cluster_titles"), "shared")],
            null_sql=empty_any("cluster_titles"),
        ),
        comparison(
            "cluster_created",
            "records created together (one form writing a lead, a sign-up and a subscription)",
            [
                level(created_within("cluster_created", 60), "within a minute"),
                level(created_within("cluster_created", 86400), "within a day"),
            ],
            null_sql=empty_any("cluster_created"),
        ),
    ]
    tenant = "l.tenant_id = r.tenant_id"
    blocking = [
        f"{tenant} and l.name_block = r.name_block",
        f"{tenant} and l.first_name_canonical = r.first_name_canonical and l.dob = r.dob",
        f"{tenant} and l.last_name = r.last_name and l.dob = r.dob",
        f"{tenant} and l.email_local = r.email_local",
        f"{tenant} and l.first_name_canonical = r.first_name_canonical and l.company_key = r.company_key",
        f"{tenant} and l.last_name = r.last_name and l.company_key = r.company_key",
        f"{tenant} and l.phone_last7 = r.phone_last7",
        f"{tenant} and l.first_name_canonical = r.first_name_canonical and l.postal_code = r.postal_code",
        f"{tenant} and l.created_minute = r.created_minute",
    ]
    return {
        "link_type": "dedupe_only",
        "unique_id_column_name": "unique_id",
        "comparisons": comparisons,
        "blocking_rules_to_generate_predictions": [{"blocking_rule": rule} for rule in blocking],
        "retain_matching_columns": True,  # with them splink keeps the gamma columns: the evidence
        "retain_intermediate_calculation_columns": False,
        "probability_two_random_records_match": 1e-5,
        "em_convergence": 0.001,
        "max_iterations": 25,
    }


CRM_TRAINING = {
    "deterministic_rules": [
        "l.tenant_id = r.tenant_id and l.first_name = r.first_name and l.last_name = r.last_name and l.dob = r.dob",
        "l.tenant_id = r.tenant_id and l.first_name = r.first_name and l.last_name = r.last_name "
        "and l.email_local = r.email_local",
        "l.tenant_id = r.tenant_id and l.first_name = r.first_name and l.last_name = r.last_name "
        "and l.created_minute = r.created_minute",
    ],
    "deterministic_recall": 0.6,
    "em_blocking_rules": [
        "l.tenant_id = r.tenant_id and l.name_block = r.name_block",
        "l.tenant_id = r.tenant_id and l.company_key = r.company_key",
        "l.tenant_id = r.tenant_id and l.dob = r.dob",
        # pairs created together are mostly one person: this session teaches the names' m
        "l.tenant_id = r.tenant_id and l.created_minute = r.created_minute",
    ],
}


def settings_fingerprint(settings: dict[str, Any]) -> str:
    """A short hash of the model's structure (comparisons, blocking), not its parameters."""
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:10]


@dataclass
class TrainedModel:
    version: str
    model_json: dict[str, Any]  # splink's saved model: settings with m and u probabilities
    training_records: int
    chart_spec: dict[str, Any] | None  # the match-weights chart (Vega-Lite)


def _linker(con: duckdb.DuckDBPyConnection, table: str, settings: dict[str, Any] | str):
    from splink import DuckDBAPI, Linker

    db_api = DuckDBAPI(connection=con)
    return Linker(db_api.register(table), settings, log_level=logging.WARNING), db_api


def train(
    con: duckdb.DuckDBPyConnection,
    table: str,
    settings: dict[str, Any],
    training: dict[str, Any],
    *,
    seed: int = 42,
    max_u_pairs: float = 2e6,
    max_em_pairs: float = 5e6,
) -> TrainedModel:
    """Train by EM: prior from high-precision rules, u by random sampling, m by EM."""
    linker, _ = _linker(con, table, settings)
    records = con.execute(f"select count(*) from {table}").fetchone()[0]
    try:
        linker.training.estimate_probability_two_random_records_match(
            training["deterministic_rules"], recall=training["deterministic_recall"]
        )
    except Exception as exc:  # too few exact matches in a tiny data set: keep the default prior
        logger.warning("prior not estimated: %s", exc)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    for rule in training["em_blocking_rules"]:
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(
                rule, max_pairs=max_em_pairs, record_sample_proportion=1.0
            )
        except Exception as exc:  # a session without pairs: the other sessions still train
            logger.warning("EM session %s skipped: %s", rule, exc)
    model_json = complete_parameters(linker.misc.save_model_to_json())
    version = "splink-" + hashlib.sha256(json.dumps(model_json, sort_keys=True).encode()).hexdigest()[:12]
    try:
        chart = linker.visualisations.match_weights_chart()
        chart_spec = chart.to_dict() if hasattr(chart, "to_dict") else getattr(chart, "spec", None)
    except Exception:  # the chart is metadata, never a reason to fail training
        chart_spec = None
    return TrainedModel(
        version=version, model_json=model_json, training_records=records, chart_spec=chart_spec
    )


M_FLOOR = 1e-3


def complete_parameters(model_json: dict[str, Any]) -> dict[str, Any]:
    """Make every level usable: an unobserved level is neutral (m = u, weight 0), and no
    level rules a match out entirely (m >= M_FLOOR): a married name or a mistyped
    surname must lower the weight, not veto it."""
    for comp in model_json["comparisons"]:
        for lvl in comp["comparison_levels"]:
            if lvl.get("is_null_level"):
                continue
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            if u is None:
                u = m if m is not None else 0.5
            m = u if m is None else max(m, M_FLOOR)
            lvl["m_probability"], lvl["u_probability"] = m, max(u, 1e-9)
    return model_json


def match_weights(model_json: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per comparison level: m, u and the match weight log2(m/u)."""
    import math

    rows = []
    for comp in model_json["comparisons"]:
        for lvl in comp["comparison_levels"]:
            if lvl.get("is_null_level"):
                continue
            m, u = lvl.get("m_probability"), lvl.get("u_probability")
            weight = math.log2(m / u) if m and u else None
            rows.append(
                {
                    "comparison": comp["output_column_name"],
                    "level": lvl["label_for_charts"],
                    "m": round(m, 6) if m is not None else None,
                    "u": round(u, 8) if u is not None else None,
                    "match_weight": round(weight, 3) if weight is not None else None,
                }
            )
    return rows


def evidence_sql(model_json: dict[str, Any], version: str) -> str:
    """SQL over splink's predictions: a readable evidence string from the gamma columns."""
    parts = []
    for comp in model_json["comparisons"]:
        name = comp["output_column_name"]
        levels = [lvl for lvl in comp["comparison_levels"] if not lvl.get("is_null_level")]
        cases = " ".join(
            f"when {len(levels) - 1 - i} then '{name} {lvl['label_for_charts']}'"
            for i, lvl in enumerate(levels)
        )
        parts.append(f'case "gamma_{name}" {cases} end')
    return (
        f"'{version} p=' || round(match_probability, 4)::varchar || ' w=' || round(match_weight, 2)::varchar"
        f" || ': ' || concat_ws(', ', {', '.join(parts)})"
    )


def predict(
    con: duckdb.DuckDBPyConnection,
    table: str,
    model_json: dict[str, Any],
    threshold: float,
    *,
    new_table: str | None = None,
) -> str:
    """Score pairs above ``threshold``; return the name of a table of predictions.

    With ``new_table`` (a subset of ``table``) only pairs that involve a new record are
    scored: new against all (``predict_between``), so old pairs are never re-scored.
    A pair of two new records comes back twice and a record meets itself: the caller
    keys pairs by their two nodes, and self-pairs are dropped here.
    """
    linker, db_api = _linker(con, table, json.loads(json.dumps(model_json)))
    if new_table is None:
        frame = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    else:
        # Term frequencies come from every record, not just the new ones.
        for column in tf_columns(model_json):
            linker.table_management.compute_tf_table(column)
        frame = linker.inference.predict_between(
            db_api.register(new_table),
            db_api.register(table),
            threshold_match_probability=threshold,
            warning_mode="never",
        )
    gammas = ", ".join(f'"gamma_{c["output_column_name"]}"' for c in model_json["comparisons"])
    con.execute(
        f"""create or replace temp table identity_predictions as
        select unique_id_l, unique_id_r, match_probability, match_weight, {gammas}
        from {frame.physical_name} where unique_id_l <> unique_id_r"""
    )
    frame.drop_table_from_database_and_remove_from_cache()
    return "identity_predictions"


def tf_columns(model_json: dict[str, Any]) -> list[str]:
    return sorted(
        {
            lvl["tf_adjustment_column"]
            for comp in model_json["comparisons"]
            for lvl in comp["comparison_levels"]
            if lvl.get("tf_adjustment_column")
        }
    )


def save_model(model: TrainedModel, model_dir: Path) -> Path:
    """Write ``<version>.json`` (splink's model: settings with m and u, reloadable with
    ``Linker(df, path)``) and ``<version>.chart.json`` (the match-weights chart)."""
    model_dir.mkdir(parents=True, exist_ok=True)
    path = model_dir / f"{model.version}.json"
    path.write_text(json.dumps(model.model_json, indent=2, sort_keys=True) + "\n")
    if model.chart_spec is not None:
        chart_path(path).write_text(json.dumps(model.chart_spec) + "\n")
    return path


def chart_path(model_path: Path) -> Path:
    return model_path.with_name(model_path.stem + ".chart.json")


def load_chart(model_path: str | Path | None) -> dict[str, Any] | None:
    if not model_path:
        return None
    path = chart_path(Path(model_path))
    return json.loads(path.read_text()) if path.exists() else None

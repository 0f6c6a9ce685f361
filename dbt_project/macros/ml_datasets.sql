{#- The datasets a feature mart (re)computes in this run: 'train' rows (at the cut-off,
    with labels) and 'score' rows (as of now). Only training reads the 'train' rows, and
    training runs weekly (ml_retrain_job), so the runs that only score (refresh_job and
    ml_score_job, tagged crm360/ml-datasets: score) pass `--vars '{ml_datasets: [score]}'`:
    the marts replace their scoring rows and keep the training rows of the last retrain
    (docs/ml.md). A mart being created, or fully refreshed, computes both. -#}
{% macro ml_datasets() -%}
    {%- set datasets = var('ml_datasets', ['train', 'score']) if is_incremental() else ['train', 'score'] -%}
    {%- if datasets is string or not datasets or datasets | reject('in', ['train', 'score']) | list -%}
        {{ exceptions.raise_compiler_error(
            "var ml_datasets must be a non-empty list of 'train' and 'score', got " ~ datasets) }}
    {%- endif -%}
    {{- return(datasets) -}}
{%- endmacro %}

{#- `dataset in ('train', 'score')`, for the datasets of this run. -#}
{% macro ml_datasets_filter() -%}
    dataset in ({% for dataset in ml_datasets() %}'{{ dataset }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}

{#- The pre-hook of a feature mart: an incremental run deletes the rows of the datasets it
    recomputes (in the model's transaction, so a failed run leaves the old rows). -#}
{% macro ml_datasets_cleared() -%}
    {%- if is_incremental() -%}
        delete from {{ this }} where {{ ml_datasets_filter() }}
    {%- endif -%}
{%- endmacro %}

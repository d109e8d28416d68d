{#- The materialization of the incremental models (the Zendesk ticket chain and the two
    facts): `incremental` (delete+insert by key, plus a post-hook deleting vanished keys)
    where the engine deletes rows; `table`, rebuilt from all history on every run, on Spark
    over plain Parquet, which has no row-level delete (no Delta or Iceberg here). On
    Databricks (Delta) a `databricks__` variant can return 'incremental' again, with the
    `merge` strategy (docs/engines.md). -#}
{% macro incremental_or_table() -%}
    {{ return(adapter.dispatch('incremental_or_table')()) }}
{%- endmacro %}

{% macro default__incremental_or_table() -%}
    {{ return('incremental') }}
{%- endmacro %}

{% macro spark__incremental_or_table() -%}
    {{ return('table') }}
{%- endmacro %}

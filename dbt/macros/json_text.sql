{#- The value under `key` (a SQL expression: a quoted literal or a column) of the JSON
    object `json` as text, or null when the key is absent: DuckDB's and PostgreSQL's
    `->>`. Spark keeps dlt's JSON columns as strings and reads them with get_json_object. -#}
{% macro json_text(json, key) -%}
    {{ return(adapter.dispatch('json_text')(json, key)) }}
{%- endmacro %}

{% macro default__json_text(json, key) -%}
    ({{ json }} ->> {{ key }})
{%- endmacro %}

{% macro spark__json_text(json, key) -%}
    get_json_object({{ json }}, concat('$.', {{ key }}))
{%- endmacro %}

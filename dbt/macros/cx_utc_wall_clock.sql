{#- A UTC instant (timestamp with time zone) as a UTC wall-clock timestamp without time zone,
    independent of the session time zone. Use it before truncating to days or months, and
    before dbt.datediff (which casts to timestamp in the session's zone on DuckDB). -#}
{% macro cx_utc_wall_clock(ts) -%}
    {{ return(adapter.dispatch('cx_utc_wall_clock')(ts)) }}
{%- endmacro %}

{% macro default__cx_utc_wall_clock(ts) -%}
    ({{ ts }} at time zone 'UTC')
{%- endmacro %}

{% macro duckdb__cx_utc_wall_clock(ts) -%}
    timezone('UTC', {{ ts }})
{%- endmacro %}

{% macro postgres__cx_utc_wall_clock(ts) -%}
    ({{ ts }} at time zone 'UTC')
{%- endmacro %}

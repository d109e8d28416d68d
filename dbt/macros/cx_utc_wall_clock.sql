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

{#- Spark: TIMESTAMP_LTZ to TIMESTAMP_NTZ keeps the wall clock of the session's time zone,
    which the profile and the Thrift server set to UTC. -#}
{% macro spark__cx_utc_wall_clock(ts) -%}
    cast({{ ts }} as timestamp_ntz)
{%- endmacro %}

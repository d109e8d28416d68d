{#- Elapsed minutes (fractional, seconds precision) between two UTC instants; null if either
    is null. Session-time-zone safe: both ends are read as UTC wall clock first. -#}
{% macro cx_minutes_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('cx_minutes_between')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__cx_minutes_between(start_ts, end_ts) -%}
    ({{ dbt.datediff(cx_utc_wall_clock(start_ts), cx_utc_wall_clock(end_ts), 'second') }} / 60.0)
{%- endmacro %}

{#- Spark reads `60.0` as a decimal and would divide in decimal(…, 6): a double, as DuckDB. -#}
{% macro spark__cx_minutes_between(start_ts, end_ts) -%}
    (cast({{ dbt.datediff(cx_utc_wall_clock(start_ts), cx_utc_wall_clock(end_ts), 'second') }} as double) / 60)
{%- endmacro %}

{#- A wall-clock timestamp (without time zone) read in an IANA time zone, as a UTC instant
    (timestamp with time zone). The one engine-specific piece of the business-minutes logic:
    DST gaps and overlaps are resolved by the engine's own time zone database. -#}
{% macro cx_local_to_utc(local_ts, time_zone) -%}
    {{ return(adapter.dispatch('cx_local_to_utc')(local_ts, time_zone)) }}
{%- endmacro %}

{% macro default__cx_local_to_utc(local_ts, time_zone) -%}
    ({{ local_ts }} at time zone {{ time_zone }})
{%- endmacro %}

{% macro duckdb__cx_local_to_utc(local_ts, time_zone) -%}
    timezone({{ time_zone }}, {{ local_ts }})
{%- endmacro %}

{% macro postgres__cx_local_to_utc(local_ts, time_zone) -%}
    ({{ local_ts }} at time zone {{ time_zone }})
{%- endmacro %}

{#- Spark reads the wall clock in the session's time zone (UTC here) as the clock in
    `time_zone` and returns the instant. -#}
{% macro spark__cx_local_to_utc(local_ts, time_zone) -%}
    to_utc_timestamp({{ local_ts }}, {{ time_zone }})
{%- endmacro %}

{#- The first day (date) of the UTC calendar month of a UTC instant (timestamp with time
    zone), independent of the session time zone: the `month` of every EX and XM mart. -#}
{% macro ex_utc_month(ts) -%}
    {{ return(adapter.dispatch('ex_utc_month')(ts)) }}
{%- endmacro %}

{% macro default__ex_utc_month(ts) -%}
    cast({{ dbt.date_trunc('month', "(" ~ ts ~ " at time zone 'UTC')") }} as date)
{%- endmacro %}

{% macro duckdb__ex_utc_month(ts) -%}
    cast({{ dbt.date_trunc('month', "timezone('UTC', " ~ ts ~ ")") }} as date)
{%- endmacro %}

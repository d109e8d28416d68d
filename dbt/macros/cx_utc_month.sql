{#- The first day (date) of the UTC calendar month of a UTC instant: the `month` of every
    CX mart. -#}
{% macro cx_utc_month(ts) -%}
    cast({{ dbt.date_trunc('month', cx_utc_date(ts)) }} as date)
{%- endmacro %}

{#- The median (interpolated, as percentile_cont(0.5)) of a numeric expression, as an
    aggregate. DuckDB has `median`; PostgreSQL only the ordered-set aggregate. -#}
{% macro ex_median(expression) -%}
    {{ return(adapter.dispatch('ex_median')(expression)) }}
{%- endmacro %}

{% macro default__ex_median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__ex_median(expression) -%}
    median({{ expression }})
{%- endmacro %}

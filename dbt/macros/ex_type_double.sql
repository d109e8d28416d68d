{#- The 8-byte floating point type every published rate uses. `dbt.type_float()` is
    `float`, which DuckDB reads as a 4-byte REAL; `double precision` is standard SQL and
    means the same on DuckDB and PostgreSQL. -#}
{% macro ex_type_double() -%}
    {{ return(adapter.dispatch('ex_type_double')()) }}
{%- endmacro %}

{% macro default__ex_type_double() -%}
    double precision
{%- endmacro %}

{% macro spark__ex_type_double() -%}
    double
{%- endmacro %}

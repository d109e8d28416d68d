{#- A decimal string ("24000.00", " 7 ", "-1.5e3") as a double, or null when it is not one
    ("N/A", "1,000", "NaN", ""). -#}
{% macro parse_number(column) -%}
    {{ return(adapter.dispatch('parse_number')(column)) }}
{%- endmacro %}

{% macro default__parse_number(column) -%}
    case
        when trim({{ column }}) ~ '^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$'
            then cast(trim({{ column }}) as double precision)
    end
{%- endmacro %}

{% macro duckdb__parse_number(column) -%}
    case
        when regexp_full_match(trim({{ column }}), '[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?')
            then cast(trim({{ column }}) as double)
    end
{%- endmacro %}

{% macro spark__parse_number(column) -%}
    case
        when trim({{ column }}) rlike '^[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$'
            then cast(trim({{ column }}) as double)
    end
{%- endmacro %}

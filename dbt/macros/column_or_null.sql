{#- The column cast to `data_type` when the relation has it, else a typed null. dlt only
    creates a column once it has seen a non-null value, so optional fields (and schema drift)
    come and go with the data a load happened to contain. -#}
{% macro column_or_null(relation, column_name, data_type) -%}
    {%- set present = true -%}
    {#- in a unit test `relation` is the fixture CTE, built with every column of the real one -#}
    {%- if execute and not relation.is_cte -%}
        {%- set names = adapter.get_columns_in_relation(relation) | map(attribute='name') | map('lower') | list -%}
        {%- set present = column_name | lower in names -%}
    {%- endif -%}
    {%- if present -%}
        cast({{ column_name }} as {{ sql_type(data_type) }})
    {%- else -%}
        cast(null as {{ sql_type(data_type) }})
    {%- endif -%}
{%- endmacro %}

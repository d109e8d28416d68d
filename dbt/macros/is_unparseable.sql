{#- True when a raw value was sent (not null, not blank, not one of `empty_values`) but its
    parsed column is null: the value is there and we cannot read it. -#}
{% macro is_unparseable(raw_column, parsed_column, empty_values=['']) -%}
    (
        {{ raw_column }} is not null
        and trim({{ raw_column }}) not in (
            {%- for value in empty_values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor -%}
        )
        and {{ parsed_column }} is null
    )
{%- endmacro %}

{#- The contract's email form: lower(trim()), blank as null. -#}
{% macro normalize_email(column) -%}
    nullif(lower(trim({{ column }})), '')
{%- endmacro %}

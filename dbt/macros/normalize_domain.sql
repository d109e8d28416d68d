{#- The contract's domain form: lower-cased, trimmed, without a leading "www.", blank as null. -#}
{% macro normalize_domain(column) -%}
    nullif(regexp_replace(lower(trim({{ column }})), '^www[.]', ''), '')
{%- endmacro %}

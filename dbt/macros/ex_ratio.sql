{#- numerator / denominator as a double, times `scale` (100 for a percentage), null when
    the denominator is 0 or null. Every published rate goes through it. -#}
{% macro ex_ratio(numerator, denominator, scale=1) -%}
    ({{ scale }} * cast({{ numerator }} as {{ ex_type_double() }}) / nullif({{ denominator }}, 0))
{%- endmacro %}

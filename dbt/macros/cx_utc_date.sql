{#- The UTC calendar date of a UTC instant (timestamp with time zone). -#}
{% macro cx_utc_date(ts) -%}
    cast({{ cx_utc_wall_clock(ts) }} as date)
{%- endmacro %}

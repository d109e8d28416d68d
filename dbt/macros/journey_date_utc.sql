{#- The first instant (00:00 UTC) of a calendar date, as a UTC instant. -#}
{% macro journey_date_utc(date_expression) -%}
    {{ cx_local_to_utc('cast(' ~ date_expression ~ ' as ' ~ dbt.type_timestamp() ~ ')', "'UTC'") }}
{%- endmacro %}

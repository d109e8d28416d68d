{#- A comparable key for a person's name: lower case, with '.', '_' and '-' read as spaces
    and digits dropped, trimmed. Applied to a BambooHR "reports to" name, a Zendesk agent
    name, or the local part of a first.last[.n]@ work email, it lets a manager's name be
    resolved to an employee id. Standard SQL `translate` (DuckDB, PostgreSQL, Snowflake). -#}
{% macro ex_name_key(expression) -%}
    trim(translate(lower({{ expression }}), '._-0123456789', '   '))
{%- endmacro %}

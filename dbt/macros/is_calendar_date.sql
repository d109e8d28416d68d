{#- True when a string that starts "YYYY-MM-DD" names a real calendar date (no 2025-02-30,
    no month 13, no year 0). For engines without try_cast (PostgreSQL): the string tests
    come first and the integer casts run only inside the THEN branch, where they are safe.
    `text` must already be trimmed. -#}
{% macro is_calendar_date(text) -%}
    case
        when
            substr({{ text }}, 1, 4) ~ '^\d{4}$'
            and substr({{ text }}, 1, 4) <> '0000'
            and substr({{ text }}, 6, 2) between '01' and '12'
            and substr({{ text }}, 9, 2) ~ '^\d{2}$'
            and substr({{ text }}, 9, 2) >= '01'
            then
                cast(substr({{ text }}, 9, 2) as integer) <= extract(
                    day from
                    {{ dbt.last_day(
                        "make_date(cast(substr(" ~ text ~ ", 1, 4) as integer), cast(substr(" ~ text ~ ", 6, 2) as integer), 1)",
                        "month"
                    ) }}
                )
        else false
    end
{%- endmacro %}
